#pragma once
// The depthwise convolution plane kernel in 256-bit lanes, shared by the AVX2 and AVX-512 files
// (each compiles it with its own flags; internal linkage keeps the two copies apart).
//
// 16 outputs at a time. Taps go in pairs: the two taps' inputs interleaved as int16 pairs
// (unpacklo/hi) and vpmaddwd with the pair of weights adds x0 * w0 + x1 * w1 into int32, exactly
// (|sum| <= 2 * 255 * 128), so any order of the taps gives the scalar kernel's sums. The output
// stage runs on the 16 sums while they are in registers. Stride 1 treats the plane as one long
// row (the outputs past a row's end are computed and dropped): small planes then fill whole
// vectors, and 3 x 3 filters run unrolled with their weights broadcast once per plane.
#include "Avx2Requantize.h"
#include "CopyBytes.h"

#include "quantscope/kernels/KernelTable.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace quantscope::kernels {
namespace {

// x[0], x[stride], ..., x[15 * stride] widened to int16. Stride 2 takes the low bytes of 16
// words; other strides (Stride 0: the runtime `stride`) gather, lanes past the row's last output
// repeating it, so no read goes far.
template <int Stride> inline __m256i avx2Load16(const uint8_t* x, int stride, int validLanes) {
    if constexpr (Stride == 1) {
        return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
    } else if constexpr (Stride == 2) {
        return _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)),
                                _mm256_set1_epi16(0xFF));
    } else {
        alignas(32) int16_t lanes[16];
        for (int i = 0; i < 16; ++i)
            lanes[i] = x[static_cast<size_t>(std::min(i, validLanes - 1)) * stride];
        return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
    }
}

// The filter of one plane: tap t reads base + offsets[t]; weight pair t / 2 is (w[t], w[t + 1])
// as two int16 in one int32 (an odd last tap pairs with itself, weight 0).
struct Avx2DepthwiseTaps {
    static constexpr int kInline = 32; // taps without a heap allocation
    size_t inlineOffsets[kInline + 1]; // filled up to the filter's taps (no zeroing per plane)
    int32_t inlinePairs[kInline / 2 + 1];
    std::vector<size_t> heapOffsets;
    std::vector<int32_t> heapPairs;
    const size_t* offsets = nullptr;
    const int32_t* pairs = nullptr;
    int pairCount = 0;

    explicit Avx2DepthwiseTaps(const DepthwisePlane& p) {
        const int taps = p.kernelH * p.kernelW;
        pairCount = (taps + 1) / 2;
        size_t* o = inlineOffsets;
        int32_t* w = inlinePairs;
        if (taps > kInline) {
            heapOffsets.resize(static_cast<size_t>(taps) + 1);
            heapPairs.resize(static_cast<size_t>(pairCount));
            o = heapOffsets.data();
            w = heapPairs.data();
        }
        for (int kh = 0, t = 0; kh < p.kernelH; ++kh) // no division per tap: a plane may be 7 x 7
            for (int kw = 0; kw < p.kernelW; ++kw, ++t)
                o[t] = static_cast<size_t>(kh * p.dilationH) * static_cast<size_t>(p.width) +
                       static_cast<size_t>(kw * p.dilationW);
        o[taps] = 0; // tap 0's offset: an odd last tap's partner reads a valid byte
        for (int t = 0; t < taps; t += 2) {
            const uint32_t w0 = static_cast<uint16_t>(p.w[t]);
            const uint32_t w1 = t + 1 < taps ? static_cast<uint16_t>(p.w[t + 1]) : 0u;
            w[t / 2] = static_cast<int32_t>(w0 | (w1 << 16));
        }
        offsets = o;
        pairs = w;
    }
};

// The sums of 16 outputs from `base` (their first input), in order: first holds outputs 0-7,
// second 8-15. Pairs > 0 fixes the pair count at compile time (the loop unrolls and the weights
// stay in registers). unpack works inside 128-bit halves, so lo holds outputs 0-3 and 8-11, hi
// 4-7 and 12-15: two permutes restore the order.
template <int Stride, int Pairs>
inline void avx2DepthwiseSums16(const uint8_t* base, const Avx2DepthwiseTaps& taps, int stride, int valid,
                                __m256i& first, __m256i& second) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    const int pairCount = Pairs > 0 ? Pairs : taps.pairCount;
    for (int t = 0; t < pairCount; ++t) {
        const __m256i x0 = avx2Load16<Stride>(base + taps.offsets[2 * t], stride, valid);
        const __m256i x1 = avx2Load16<Stride>(base + taps.offsets[2 * t + 1], stride, valid);
        const __m256i w = _mm256_set1_epi32(taps.pairs[t]);
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), w));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), w));
    }
    first = _mm256_permute2x128_si256(lo, hi, 0x20);
    second = _mm256_permute2x128_si256(lo, hi, 0x31);
}

// The output stage of DepthwisePlane on 8 lanes, its constants derived once per plane.
struct Avx2DepthwiseOutput {
    enum class Kind { Int32, U8, Float };
    Kind kind = Kind::Int32;
    __m256i bias;
    Avx2RequantLanes lanes;
    Avx2OutputRange range;
    __m256 scale, floatBias;

    // Each member is set in registers: value-initialising the whole object cost a string store
    // per plane, noticeable on 7 x 7 planes.
    explicit Avx2DepthwiseOutput(const DepthwisePlane& p)
        : bias(_mm256_set1_epi32(p.bias)),
          lanes(avx2RequantLanes(_mm256_set1_epi32(p.multiplier), _mm256_set1_epi32(p.shift))),
          range(avx2OutputRange(p.zeroPoint, p.clampMin, p.clampMax)), scale(_mm256_set1_ps(p.scale)),
          floatBias(_mm256_set1_ps(p.floatBias)) {
        kind = p.yFloat ? Kind::Float : p.y8 ? Kind::U8 : Kind::Int32;
    }

    __m256i requantize(__m256i sums) const {
        return avx2Finish(avx2ApplyMultiplier(_mm256_add_epi32(sums, bias), lanes), range);
    }

    // 16 results (first = outputs 0-7) to `out` of the kind's type.
    void store16(__m256i first, __m256i second, void* out) const {
        switch (kind) {
        case Kind::Int32:
            _mm256_storeu_si256(static_cast<__m256i*>(out), first);
            _mm256_storeu_si256(static_cast<__m256i*>(out) + 1, second);
            break;
        case Kind::Float: {
            float* y = static_cast<float*>(out);
            const __m256 a = _mm256_cvtepi32_ps(_mm256_add_epi32(first, bias));
            const __m256 b = _mm256_cvtepi32_ps(_mm256_add_epi32(second, bias));
            _mm256_storeu_ps(y, _mm256_add_ps(_mm256_mul_ps(a, scale), floatBias));
            _mm256_storeu_ps(y + 8, _mm256_add_ps(_mm256_mul_ps(b, scale), floatBias));
            break;
        }
        case Kind::U8: {
            const __m256i a = requantize(first), b = requantize(second);
            // The values lie in [0, 255]: the saturating packs are exact.
            const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
            const __m128i bytes =
                _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
            _mm_storeu_si128(static_cast<__m128i*>(out), bytes);
            break;
        }
        }
    }

    size_t elementSize() const { return kind == Kind::U8 ? 1 : 4; }
};

// Stride 1 in both directions: output (oh, ow) reads from q = oh * width + ow, so the plane is one
// run of (outH - 1) * width + outW positions, written to scratch and copied out row by row.
template <int Pairs>
void avx2DepthwiseFlat(const DepthwisePlane& p, const Avx2DepthwiseTaps& taps, const Avx2DepthwiseOutput& out,
                       void* y) {
    const size_t element = out.elementSize();
    auto* scratch = reinterpret_cast<unsigned char*>(p.acc);
    const size_t width = static_cast<size_t>(p.width);
    const size_t run = static_cast<size_t>(p.outH - 1) * width + static_cast<size_t>(p.outW);
    for (size_t q = 0; q < run; q += 16) {
        __m256i first, second;
        avx2DepthwiseSums16<1, Pairs>(p.x + q, taps, 1, 16, first, second);
        out.store16(first, second, scratch + q * element);
    }
    const size_t rowBytes = static_cast<size_t>(p.outW) * element;
    for (int oh = 0; oh < p.outH; ++oh)
        copyBytes(static_cast<unsigned char*>(y) + static_cast<size_t>(oh) * rowBytes,
                  scratch + static_cast<size_t>(oh) * width * element, rowBytes);
}

// Any stride, row by row; a row's last partial vector goes through a small buffer.
template <int Stride, int Pairs>
void avx2DepthwiseRows(const DepthwisePlane& p, const Avx2DepthwiseTaps& taps, const Avx2DepthwiseOutput& out,
                       void* y) {
    const size_t element = out.elementSize();
    alignas(32) unsigned char tail[64];
    for (int oh = 0; oh < p.outH; ++oh) {
        const uint8_t* row = p.x + static_cast<size_t>(oh) * p.strideH * p.width;
        unsigned char* dst = static_cast<unsigned char*>(y) + static_cast<size_t>(oh) * p.outW * element;
        for (int ow0 = 0; ow0 < p.outW; ow0 += 16) {
            const int valid = p.outW - ow0;
            __m256i first, second;
            avx2DepthwiseSums16<Stride, Pairs>(row + static_cast<size_t>(ow0) * p.strideW, taps, p.strideW,
                                               valid, first, second);
            if (valid >= 16) {
                out.store16(first, second, dst + static_cast<size_t>(ow0) * element);
            } else {
                out.store16(first, second, tail);
                copyBytes(dst + static_cast<size_t>(ow0) * element, tail,
                          static_cast<size_t>(valid) * element);
            }
        }
    }
}

template <int Pairs>
void avx2DepthwiseDispatch(const DepthwisePlane& p, const Avx2DepthwiseTaps& taps,
                           const Avx2DepthwiseOutput& out, void* y) {
    if (p.strideW == 1 && p.strideH == 1 && out.kind != Avx2DepthwiseOutput::Kind::Int32)
        avx2DepthwiseFlat<Pairs>(p, taps, out, y);
    else if (p.strideW == 1)
        avx2DepthwiseRows<1, Pairs>(p, taps, out, y);
    else if (p.strideW == 2)
        avx2DepthwiseRows<2, Pairs>(p, taps, out, y);
    else
        avx2DepthwiseRows<0, Pairs>(p, taps, out, y);
}

inline void avx2DepthwisePlane(const DepthwisePlane& p) {
    const Avx2DepthwiseTaps taps(p);
    const Avx2DepthwiseOutput out(p);
    void* y = p.yFloat ? static_cast<void*>(p.yFloat)
              : p.y8   ? static_cast<void*>(p.y8)
                       : static_cast<void*>(p.acc);
    if (taps.pairCount == 5) // 3 x 3
        avx2DepthwiseDispatch<5>(p, taps, out, y);
    else
        avx2DepthwiseDispatch<0>(p, taps, out, y);
}

} // namespace
} // namespace quantscope::kernels
