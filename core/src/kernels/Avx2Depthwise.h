#pragma once
// The depthwise convolution plane kernel in 256-bit lanes, shared by the AVX2 and AVX-512 files
// (each compiles it with its own flags; internal linkage keeps the two copies apart).
#include "quantscope/kernels/KernelTable.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace quantscope::kernels {
namespace {

// x[0], x[stride], ..., x[15 * stride] widened to int16. Stride 2 takes the low bytes of 16
// words; other strides gather (lanes past the row's last output repeat it, so no read goes far).
inline __m256i avx2Load16(const uint8_t* x, int stride, int validLanes) {
    if (stride == 1)
        return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
    if (stride == 2)
        return _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)),
                                _mm256_set1_epi16(0xFF));
    alignas(32) int16_t lanes[16];
    for (int i = 0; i < 16; ++i)
        lanes[i] = x[static_cast<size_t>(std::min(i, validLanes - 1)) * stride];
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
}

// 16 outputs of a row at a time. Taps go in pairs: the two taps' inputs interleaved as int16
// pairs (unpacklo/hi) and vpmaddwd with the pair of weights adds x0 * w0 + x1 * w1 into int32,
// exactly (|sum| <= 2 * 255 * 128). unpack works inside 128-bit halves, so the low result holds
// outputs 0-3 and 8-11, the high one 4-7 and 12-15: two permutes restore the order at the end.
inline void avx2DepthwisePlane(const DepthwisePlane& p) {
    const int taps = p.kernelH * p.kernelW;
    thread_local std::vector<size_t> offsets;
    thread_local std::vector<int32_t> pairs;
    offsets.assign(static_cast<size_t>(taps) + 1, 0);
    pairs.assign(static_cast<size_t>(taps + 1) / 2, 0);
    for (int t = 0; t < taps; ++t)
        offsets[static_cast<size_t>(t)] = static_cast<size_t>((t / p.kernelW) * p.dilationH) * p.width +
                                          static_cast<size_t>((t % p.kernelW) * p.dilationW);
    offsets[static_cast<size_t>(taps)] = offsets[0]; // an odd last tap pairs with itself, weight 0
    for (int t = 0; t < taps; t += 2) {
        const uint32_t w0 = static_cast<uint16_t>(p.w[t]);
        const uint32_t w1 = t + 1 < taps ? static_cast<uint16_t>(p.w[t + 1]) : 0u;
        pairs[static_cast<size_t>(t / 2)] = static_cast<int32_t>(w0 | (w1 << 16));
    }
    for (int oh = 0; oh < p.outH; ++oh) {
        const uint8_t* row = p.x + static_cast<size_t>(oh) * p.strideH * p.width;
        int32_t* out = p.acc + static_cast<size_t>(oh) * p.outW;
        for (int ow0 = 0; ow0 < p.outW; ow0 += 16) {
            const uint8_t* base = row + static_cast<size_t>(ow0) * p.strideW;
            const int valid = p.outW - ow0;
            __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
            for (int t = 0; t < taps; t += 2) {
                const __m256i x0 = avx2Load16(base + offsets[static_cast<size_t>(t)], p.strideW, valid);
                const __m256i x1 = avx2Load16(base + offsets[static_cast<size_t>(t + 1)], p.strideW, valid);
                const __m256i w = _mm256_set1_epi32(pairs[static_cast<size_t>(t / 2)]);
                lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), w));
                hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), w));
            }
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + ow0),
                                _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + ow0 + 8),
                                _mm256_permute2x128_si256(lo, hi, 0x31));
        }
    }
}

} // namespace
} // namespace quantscope::kernels
