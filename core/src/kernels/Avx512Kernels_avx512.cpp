// The AVX-512 path (F/BW/VL/DQ + VNNI + BF16), compiled with those flags on this file only.
// It is selected only when the processor supports all of them (KernelRegistry).
#include "PathTables.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) &&     \
    defined(__AVX512BF16__)

// GCC 12's AVX-512 headers build their "undefined" source operands as `__m512i __Y = __Y;`, which
// -Wmaybe-uninitialized reports inside our functions under -O2 with sanitizers: a header false
// positive, silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// (The same header pattern is reported as -Wuninitialized when _mm512_max_epi32 / _mm512_sllv_epi32
// are inlined at -O2.)
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "Avx2Depthwise.h"
#include "Avx2Elementwise.h"
#include "Avx2FloatOps.h"
#include "ChunkLoops.h"
#include "FloatConvAvx2.h"
#include "quantscope/kernels/AlignedBuffer.h"

#include "quantscope/kernels/AlignedBuffer.h"

#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <type_traits>

namespace quantscope::kernels {
namespace {

inline __mmask16 tailMask(size_t remaining) {
    return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}

inline int32_t load32(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// In-place multiply-accumulate. GCC 12 treats the vpdpbusd / vdpbf16ps intrinsics as if they had
// a separate destination and, with 24 accumulators live, copies and spills them every step
// (measured: 0.4 vpdpbusd per cycle). The accumulator tied to the instruction's destination
// keeps every accumulator in its register.
inline void dpbusd(__m512i& acc, __m512i activations, __m512i weights) {
    __asm__("vpdpbusd %[w], %[a], %[acc]" : [acc] "+v"(acc) : [a] "v"(activations), [w] "v"(weights));
}
inline void dpbf16(__m512& acc, __m512i a, __m512i b) {
    __asm__("vdpbf16ps %[b], %[a], %[acc]" : [acc] "+v"(acc) : [a] "v"(a), [b] "v"(b));
}

// ---- element-wise ---------------------------------------------------------------------------

// IntegerQuantizer's rule, lane-wise: the same float multiply, round-half-even, float add of the
// zero point and clamp as the scalar code, so the integers are identical.
inline __m512i quantizeLanes(__m512 x, __m512 inverse, __m512 zp, __m512 lo, __m512 hi) {
    __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(x, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm512_add_ps(r, zp);
    r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), zp); // NaN -> zero point
    r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
    return _mm512_cvtps_epi32(r);
}

template <class T>
void quantize(const float* x, size_t count, float inverseScale, int32_t zp, int32_t qmin, int32_t qmax,
              T* q) {
    const __m512 inverse = _mm512_set1_ps(inverseScale);
    const __m512 zpv = _mm512_set1_ps(static_cast<float>(zp));
    const __m512 lo = _mm512_set1_ps(static_cast<float>(qmin));
    const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax));
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 mask = tailMask(count - i);
        const __m512i v = quantizeLanes(_mm512_maskz_loadu_ps(mask, x + i), inverse, zpv, lo, hi);
        _mm512_mask_cvtepi32_storeu_epi8(q + i, mask, v); // values are in range: truncation is exact
    }
}

template <class T> void dequantize(const T* q, size_t count, float scale, int32_t zp, float* x) {
    const __m512 s = _mm512_set1_ps(scale);
    const __m512i z = _mm512_set1_epi32(zp);
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 mask = tailMask(count - i);
        const __m128i bytes = _mm_maskz_loadu_epi8(mask, q + i);
        const __m512i wide = std::is_signed_v<T> ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
        _mm512_mask_storeu_ps(x + i, mask, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(wide, z)), s));
    }
}

void f32ToF16(const float* x, size_t count, uint16_t* h) {
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 mask = tailMask(count - i);
        const __m256i half = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(mask, x + i),
                                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(h + i, mask, half);
    }
}

void f16ToF32(const uint16_t* h, size_t count, float* x) {
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 mask = tailMask(count - i);
        _mm512_mask_storeu_ps(x + i, mask, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, h + i)));
    }
}

// Round to nearest even with integer operations (vcvtneps2bf16 would flush subnormals).
inline __m256i bf16Lanes(__m512 x) {
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    const __m512i rounded =
        _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF)),
                                                  _mm512_set1_epi32(0x7F800000));
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(rounded, nan, quiet));
}

void f32ToBf16(const float* x, size_t count, uint16_t* h) {
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 mask = tailMask(count - i);
        _mm256_mask_storeu_epi16(h + i, mask, bf16Lanes(_mm512_maskz_loadu_ps(mask, x + i)));
    }
}

void bf16ToF32(const uint16_t* h, size_t count, float* x) {
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 mask = tailMask(count - i);
        const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, h + i));
        _mm512_mask_storeu_ps(x + i, mask, _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16)));
    }
}

// ---- int8 GEMM (VNNI) ---------------------------------------------------------------------------
// Register tile: up to 8 rows x 48 columns = 24 zmm accumulators, plus 3 weight vectors and one
// broadcast activation: 28 of the 32 zmm registers. Per group of 4 values of K: 3 weight loads,
// 8 broadcasts and 24 vpdpbusd (64 multiply-adds each), so the loop is bound by vpdpbusd
// throughput, not by loads. Panels are traversed outermost: a 48 x K weight panel (192 KB at
// K = 4096) stays in L2 while all activation slivers stream past it; the accumulators hold the
// full K sum, so C is written once, with the zero-point terms and scales applied in registers.
constexpr int kPanelWidth = 48;
constexpr int kRowBlock = 8;

// The K loop alone, ending in plain stores: with nothing but constant-index uses after the
// unrolled loops, GCC keeps all R x NV accumulators in registers.
template <int R, int NV>
__attribute__((always_inline)) inline void int8Accumulate(int groups, const uint8_t* a, const int8_t* b,
                                                          __m512i* out) {
    if constexpr (R == 1) {
        // GEMV (one row): memory-bound, so two independent accumulator sets (even and odd
        // groups of K) hide the vpdpbusd latency, and a software prefetch 2 KB ahead keeps more
        // cache-line misses in flight than the hardware prefetcher alone.
        __m512i even[NV], odd[NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v)
            even[v] = odd[v] = _mm512_setzero_si512();
        int g = 0;
        for (; g + 2 <= groups; g += 2, b += 2 * kPanelWidth * 4, a += 2 * kRowBlock * 4) {
#pragma GCC unroll 6
            for (int line = 0; line < 2 * NV; ++line)
                _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 64 * line), _MM_HINT_T0);
            const __m512i a0 = _mm512_set1_epi32(load32(a));
            const __m512i a1 = _mm512_set1_epi32(load32(a + kRowBlock * 4));
#pragma GCC unroll 3
            for (int v = 0; v < NV; ++v) {
                dpbusd(even[v], a0, _mm512_loadu_si512(b + 64 * v));
                dpbusd(odd[v], a1, _mm512_loadu_si512(b + kPanelWidth * 4 + 64 * v));
            }
        }
        if (g < groups) {
            const __m512i a0 = _mm512_set1_epi32(load32(a));
#pragma GCC unroll 3
            for (int v = 0; v < NV; ++v)
                dpbusd(even[v], a0, _mm512_loadu_si512(b + 64 * v));
        }
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v)
            _mm512_store_si512(out + v, _mm512_add_epi32(even[v], odd[v]));
        return;
    }
    __m512i acc[R][NV];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_setzero_si512();
    for (int g = 0; g < groups; ++g, b += kPanelWidth * 4, a += kRowBlock * 4) {
        __m512i bv[NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v)
            bv[v] = _mm512_loadu_si512(b + 64 * v);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m512i av = _mm512_set1_epi32(load32(a + 4 * r));
#pragma GCC unroll 3
            for (int v = 0; v < NV; ++v)
                dpbusd(acc[r][v], av, bv[v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v)
            _mm512_store_si512(out + r * NV + v, acc[r][v]);
}

template <int R, int NV>
void int8Finish(const Int8GemmProblem& p, const __m512i* stored, int row0, int col0, int cols);

template <int R, int NV>
void int8Tile(const Int8GemmProblem& p, const uint8_t* sliver, const int8_t* panel, int row0, int col0,
              int cols) {
    __m512i stored[R * NV];
    int8Accumulate<R, NV>(p.kPadded / 4, sliver, panel, stored);
    int8Finish<R, NV>(p, stored, row0, col0, cols);
}

// GEMV over two full panels at once: two independent weight streams keep more DRAM requests in
// flight than one (a single sequential stream left ~40 % of the read bandwidth unused).
void int8GemvPanelPair(const Int8GemmProblem& p, const uint8_t* a, const int8_t* b0, const int8_t* b1,
                       int col0, int col1) {
    __m512i acc0[3], acc1[3];
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v)
        acc0[v] = acc1[v] = _mm512_setzero_si512();
    const int groups = p.kPadded / 4;
    for (int g = 0; g < groups; ++g, b0 += kPanelWidth * 4, b1 += kPanelWidth * 4, a += kRowBlock * 4) {
        const __m512i av = _mm512_set1_epi32(load32(a));
#pragma GCC unroll 3
        for (int v = 0; v < 3; ++v) {
            dpbusd(acc0[v], av, _mm512_loadu_si512(b0 + 64 * v));
            dpbusd(acc1[v], av, _mm512_loadu_si512(b1 + 64 * v));
        }
    }
    int8Finish<1, 3>(p, acc0, 0, col0, kPanelWidth);
    int8Finish<1, 3>(p, acc1, 0, col1, kPanelWidth);
}

// ---- requantization (the AVX2 sequence of Avx2Requantize.h in 16 lanes, with mask registers) ------
struct RequantLanes {
    __m512i multiplier, firstShift, rounding, negativeNudge, secondShift;
};

inline RequantLanes requantLanes(__m512i multiplier, __m512i shift) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i one = _mm512_set1_epi32(1);
    RequantLanes l;
    l.multiplier = multiplier;
    l.firstShift = _mm512_sub_epi32(_mm512_set1_epi32(31), _mm512_max_epi32(shift, zero));
    l.rounding = _mm512_sllv_epi32(one, _mm512_sub_epi32(l.firstShift, one));
    l.negativeNudge = _mm512_maskz_mov_epi32(_mm512_cmple_epi32_mask(shift, zero), one);
    l.secondShift = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    return l;
}

// FixedPointMultiplier::apply in 16 lanes, bit for bit (see avx2ApplyMultiplier for the derivation).
inline __m512i applyMultiplier(__m512i x, const RequantLanes& l) {
    const __m512i low = _mm512_set1_epi64(0xFFFFFFFF);
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i negative = _mm512_srai_epi32(x, 31);
    const __m512i magnitude = _mm512_abs_epi32(x);
    __m512i even = _mm512_mul_epu32(magnitude, l.multiplier);
    __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(magnitude, 32), _mm512_srli_epi64(l.multiplier, 32));
    const __m512i add = _mm512_sub_epi32(l.rounding, _mm512_and_si512(negative, l.negativeNudge));
    even = _mm512_add_epi64(even, _mm512_and_si512(add, low));
    odd = _mm512_add_epi64(odd, _mm512_srli_epi64(add, 32));
    even = _mm512_srlv_epi64(even, _mm512_and_si512(l.firstShift, low));
    odd = _mm512_srlv_epi64(odd, _mm512_srli_epi64(l.firstShift, 32));
    const __m512i limit = _mm512_sub_epi32(_mm512_set1_epi32(INT32_MAX), negative);
    even = _mm512_min_epu64(even, _mm512_and_si512(limit, low));
    odd = _mm512_min_epu64(odd, _mm512_srli_epi64(limit, 32));
    const __m512i rounded = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    const __m512i value = _mm512_sub_epi32(_mm512_xor_si512(rounded, negative), negative);
    const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, l.secondShift), one);
    const __m512i remainder = _mm512_and_si512(value, mask);
    const __m512i threshold = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(value, 31));
    const __m512i shifted = _mm512_srav_epi32(value, l.secondShift);
    return _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted, one);
}

// clamp(v + zeroPoint, lo, hi), computed without overflow as clamp(v, lo - zp, hi - zp) + zp, and
// narrowed to T with a masked store of `valid` lanes.
template <class T>
inline void storeRequantized(T* out, __m512i scaled, int32_t zeroPoint, int32_t lo, int32_t hi,
                             __mmask16 valid) {
    const __m512i v =
        _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(scaled, _mm512_set1_epi32(lo - zeroPoint)),
                                          _mm512_set1_epi32(hi - zeroPoint)),
                         _mm512_set1_epi32(zeroPoint));
    if constexpr (std::is_signed_v<T>)
        _mm512_mask_cvtepi32_storeu_epi8(out, valid, v);
    else
        _mm512_mask_cvtusepi32_storeu_epi8(out, valid, v); // v is in [0, 255]: no saturation happens
}

template <class T>
void requantizeValues(const int32_t* values, size_t count, const RequantizeSpec& s, T* out) {
    RequantLanes lanes = requantLanes(_mm512_set1_epi32(s.multipliers[0]), _mm512_set1_epi32(s.shifts[0]));
    const __m512i sharedBias = _mm512_set1_epi32(s.bias ? s.bias[0] : 0);
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 mask = tailMask(count - i);
        __m512i v = _mm512_maskz_loadu_epi32(mask, values + i);
        if (s.perChannel) {
            lanes = requantLanes(_mm512_maskz_loadu_epi32(mask, s.multipliers + i),
                                 _mm512_maskz_loadu_epi32(mask, s.shifts + i));
            if (s.bias)
                v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, s.bias + i));
        } else {
            v = _mm512_add_epi32(v, sharedBias);
        }
        storeRequantized(out + i, applyMultiplier(v, lanes), s.zeroPoint, s.clampMin, s.clampMax, mask);
    }
}

// Int32 and requantized outputs in registers: acc - (za * colsum - bias) - (zb * rowsum - K za zb)
// modulo 2^32, then for 8-bit outputs the multiplier, zero point and clamp.
template <int R, int NV, class T>
void int8IntegerEpilogue(const Int8GemmProblem& p, const __m512i (&acc)[R][NV], int row0, int col0,
                         int cols) {
    const uint32_t kzz = static_cast<uint32_t>(p.k) * static_cast<uint32_t>(p.aZeroPoint) *
                         static_cast<uint32_t>(p.bZeroPoint);
    constexpr bool requantized = !std::is_same_v<T, int32_t>;
    __m512i colTerm[NV];
    RequantLanes lanes[NV];
    __mmask16 mask[NV];
    for (int v = 0; v < NV; ++v) {
        const int col = col0 + 16 * v;
        mask[v] = tailMask(static_cast<size_t>(std::max(0, cols - 16 * v)));
        colTerm[v] = _mm512_mullo_epi32(_mm512_loadu_si512(p.colSums + col), _mm512_set1_epi32(p.aZeroPoint));
        if constexpr (requantized) {
            colTerm[v] = _mm512_sub_epi32(colTerm[v], _mm512_loadu_si512(p.laneBias + col));
            lanes[v] = requantLanes(_mm512_loadu_si512(p.laneMultipliers + col),
                                    _mm512_loadu_si512(p.laneShifts + col));
        }
    }
    for (int r = 0; r < R; ++r) {
        const int row = row0 + r;
        const __m512i rowTerm = _mm512_set1_epi32(static_cast<int32_t>(
            static_cast<uint32_t>(p.bZeroPoint) * static_cast<uint32_t>(p.rowSums[row]) - kzz));
        T* out = static_cast<T*>(p.c) + static_cast<size_t>(row) * p.ldc + col0;
        for (int v = 0; v < NV; ++v) {
            const __m512i value = _mm512_sub_epi32(_mm512_sub_epi32(acc[r][v], colTerm[v]), rowTerm);
            if constexpr (requantized)
                storeRequantized(out + 16 * v, applyMultiplier(value, lanes[v]), p.outZeroPoint, p.clampMin,
                                 p.clampMax, mask[v]);
            else
                _mm512_mask_storeu_epi32(out + 16 * v, mask[v], value);
        }
    }
}

template <int R, int NV>
void int8Finish(const Int8GemmProblem& p, const __m512i* stored, int row0, int col0, int cols) {
    __m512i acc[R][NV];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v)
            acc[r][v] = stored[r * NV + v];
    if (p.output == Int8OutputKind::Int32) {
        int8IntegerEpilogue<R, NV, int32_t>(p, acc, row0, col0, cols);
        return;
    }
    if (p.output == Int8OutputKind::Uint8) {
        int8IntegerEpilogue<R, NV, uint8_t>(p, acc, row0, col0, cols);
        return;
    }
    if (p.output == Int8OutputKind::Int8) {
        int8IntegerEpilogue<R, NV, int8_t>(p, acc, row0, col0, cols);
        return;
    }
    // Float output in registers: acc - za * colsum - (zb * rowsum - K * za * zb), times scale, plus bias.
    const uint32_t kzz = static_cast<uint32_t>(p.k) * static_cast<uint32_t>(p.aZeroPoint) *
                         static_cast<uint32_t>(p.bZeroPoint);
    __m512 scale[NV], bias[NV];
    __m512i colTerm[NV];
    __mmask16 mask[NV];
    for (int v = 0; v < NV; ++v) {
        const int col = col0 + 16 * v;
        mask[v] = tailMask(static_cast<size_t>(std::max(0, cols - 16 * v)));
        colTerm[v] = _mm512_mullo_epi32(_mm512_loadu_si512(p.colSums + col), _mm512_set1_epi32(p.aZeroPoint));
        scale[v] = p.perChannelScales ? _mm512_mul_ps(_mm512_set1_ps(p.aScale),
                                                      _mm512_maskz_loadu_ps(mask[v], p.bScales + col))
                                      : _mm512_set1_ps(p.aScale * p.bScales[0]);
        bias[v] = p.bias ? _mm512_maskz_loadu_ps(mask[v], p.bias + col) : _mm512_setzero_ps();
    }
    for (int r = 0; r < R; ++r) {
        const int row = row0 + r;
        const uint32_t rowTerm =
            static_cast<uint32_t>(p.bZeroPoint) * static_cast<uint32_t>(p.rowSums[row]) - kzz;
        float* out = static_cast<float*>(p.c) + static_cast<size_t>(row) * p.ldc + col0;
        for (int v = 0; v < NV; ++v) {
            const __m512i value = _mm512_sub_epi32(_mm512_sub_epi32(acc[r][v], colTerm[v]),
                                                   _mm512_set1_epi32(static_cast<int32_t>(rowTerm)));
            __m512 result = _mm512_mul_ps(_mm512_cvtepi32_ps(value), scale[v]);
            if (p.bias)
                result = _mm512_add_ps(result, bias[v]);
            _mm512_mask_storeu_ps(out + 16 * v, mask[v], result);
        }
    }
}

using Int8TileFn = void (*)(const Int8GemmProblem&, const uint8_t*, const int8_t*, int, int, int);

template <int R> constexpr Int8TileFn int8TileFor(int nv) {
    return nv == 1 ? int8Tile<R, 1> : nv == 2 ? int8Tile<R, 2> : int8Tile<R, 3>;
}

Int8TileFn int8TileFn(int rows, int nv) {
    switch (rows) {
    case 1:
        return int8TileFor<1>(nv);
    case 2:
        return int8TileFor<2>(nv);
    case 3:
        return int8TileFor<3>(nv);
    case 4:
        return int8TileFor<4>(nv);
    case 5:
        return int8TileFor<5>(nv);
    case 6:
        return int8TileFor<6>(nv);
    case 7:
        return int8TileFor<7>(nv);
    default:
        return int8TileFor<8>(nv);
    }
}

void int8GemmPanels(const Int8GemmProblem& p, int panelBegin, int panelEnd) {
    const auto* a = static_cast<const uint8_t*>(p.packedA);
    if (p.m == 1) {
        // Pair panel i with panel i + half of this range, both full (48 columns).
        const int fullEnd = std::min(panelEnd, p.n / kPanelWidth);
        const int half = std::max(0, (fullEnd - panelBegin) / 2);
        for (int i = 0; i < half; ++i) {
            const int first = panelBegin + i, second = panelBegin + half + i;
            int8GemvPanelPair(p, a, p.packedB + static_cast<size_t>(first) * kPanelWidth * p.kPadded,
                              p.packedB + static_cast<size_t>(second) * kPanelWidth * p.kPadded,
                              first * kPanelWidth, second * kPanelWidth);
        }
        panelBegin += 2 * half; // the rest (an odd full panel, the partial last one) below
    }
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const int col0 = panel * kPanelWidth;
        const int cols = std::min(kPanelWidth, p.n - col0);
        const int nv = (cols + 15) / 16;
        const int8_t* b = p.packedB + static_cast<size_t>(panel) * kPanelWidth * p.kPadded;
        for (int row0 = 0; row0 < p.m; row0 += kRowBlock) {
            const int rows = std::min(kRowBlock, p.m - row0);
            const uint8_t* sliver = a + static_cast<size_t>(row0) * p.kPadded;
            int8TileFn(rows, nv)(p, sliver, b, row0, col0, cols);
        }
    }
}

// ---- 1 x 1 convolution on NCHW codes (pointwiseConvU8) -----------------------------------------
// In NCHW one image of a 1 x 1 stride-1 convolution is already the GEMM Y (OC x HW) = W (OC x C)
// X (C x HW), so the GEMM above runs with its roles swapped: one vector holds 16 pixels' codes of
// 4 consecutive channels (vpdpbusd's u8 operand), and the 4 weight bytes of one output channel are
// broadcast (its s8 operand). Register tile: 8 output channels x 48 pixels = 24 accumulators, 3
// pixel vectors and one broadcast per step of 4 channels. The packed weights' panels
// [k / 4][column][k % 4] already hold 8 consecutive output channels' 4 bytes as 32 consecutive
// bytes, so the GEMM's packed weights serve unchanged. Each tile of 48 pixels is interleaved once
// into [C / 4][48][4] bytes (a byte shuffle of 4 channel rows, at most 48 * C bytes, in L1 for
// C <= 640), then every output channel block runs over it while the weights stream from L2 (32
// bytes per 24 vpdpbusd). Results are stored as rows of NCHW planes: no transpose either way.
constexpr int kPointwiseChannels = 8;
constexpr int kPointwiseVectors = 3;
constexpr int kPointwiseTile = 16 * kPointwiseVectors;
static_assert(kPanelWidth % kPointwiseChannels == 0, "a channel block lies inside one weight panel");

// FixedPointMultiplier::apply in 16 lanes for one multiplier below 1 (shift <= 0, the usual
// case), in half the operations of applyMultiplier, which the epilogue of a channel with few
// inputs is bound by (the shorter sequence of avx2ApplyMultiplier, for one multiplier). gemmlowp's doubling
// high multiply trunc((p + nudge) / 2^31) of p = x * m0, nudge 2^30 for p >= 0 and 1 - 2^30 below, is
// floor((p + 2^30) / 2^31) for every p (for p < 0, trunc = ceil((p - 2^30 + 1) / 2^31) = floor((p + 2^30) /
// 2^31)): one signed multiply, add and shift per 64-bit half, the halves' bits 31..62 being the int32 result.
// Then the rounding divide by 2^-shift (ties away from zero) as applyMultiplier does it.
struct RowMultiplier {
    __m512i multiplier, exponent, mask, half;
};

inline RowMultiplier rowMultiplier(int32_t multiplier, int32_t shift) {
    const auto mask = static_cast<int32_t>((int64_t{1} << -shift) - 1);
    return {_mm512_set1_epi32(multiplier), _mm512_set1_epi32(-shift), _mm512_set1_epi32(mask),
            _mm512_set1_epi32(mask >> 1)};
}

inline __m512i applyRowMultiplier(__m512i x, const RowMultiplier& m) {
    const __m512i nudge = _mm512_set1_epi64(int64_t{1} << 30);
    const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, m.multiplier), nudge), 31);
    const __m512i odd = _mm512_slli_epi64(
        _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), m.multiplier), nudge), 1);
    const __m512i high = _mm512_mask_blend_epi32(0xAAAA, even, odd);
    const __m512i remainder = _mm512_and_si512(high, m.mask);
    const __m512i threshold = _mm512_sub_epi32(m.half, _mm512_srai_epi32(high, 31));
    const __m512i shifted = _mm512_srav_epi32(high, m.exponent);
    return _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted,
                                 _mm512_set1_epi32(1));
}

// One tile's 48 pixels (numbered across the batch from q0): where each one's codes start in x
// (channel 0) and its output in y (channel 0), and per vector of 16 whether its valid pixels are
// consecutive in one image (read and written with masked vector operations) or cross an image
// boundary (byte by byte).
struct PointwiseTileMap {
    int64_t in[kPointwiseTile], out[kPointwiseTile];
    __mmask16 valid[kPointwiseVectors];
    bool consecutive[kPointwiseVectors];
};

PointwiseTileMap pointwiseTileMap(const PointwiseConvProblem& p, int64_t q0, int64_t end) {
    PointwiseTileMap map;
    int64_t image = q0 / p.pixels, pixel = q0 % p.pixels; // of the next valid pixel
    for (int v = 0; v < kPointwiseVectors; ++v) {
        const int lanes = static_cast<int>(std::clamp<int64_t>(end - q0 - 16 * v, 0, 16));
        map.valid[v] = tailMask(static_cast<size_t>(lanes));
        map.consecutive[v] = lanes == 0 || pixel + lanes <= p.pixels;
        for (int i = 0; i < 16; ++i) {
            const int at = 16 * v + i;
            if (i >= lanes) { // unused: the vector's first pixel (or 0) keeps the offsets valid
                map.in[at] = i > 0 ? map.in[16 * v] : 0;
                map.out[at] = i > 0 ? map.out[16 * v] : 0;
                continue;
            }
            map.in[at] = image * p.channels * p.pixels + pixel;
            map.out[at] = image * p.outChannels * p.pixels + pixel;
            if (++pixel == p.pixels) {
                pixel = 0;
                ++image;
            }
        }
    }
    return map;
}

// The tile's codes as [C / 4][48][4]: byte 4 * i + j of group g's 192 bytes is channel 4g + j of
// pixel i; channels past C and pixels past the end are 0 (their weights or stores are unused).
void pointwiseInterleave(const PointwiseConvProblem& p, const PointwiseTileMap& map, uint8_t* tile) {
    const int groups = p.kPadded / 4;
    for (int v = 0; v < kPointwiseVectors; ++v) {
        uint8_t* dst = tile + 64 * v;
        if (map.consecutive[v]) {
            const uint8_t* src = p.x + map.in[16 * v];
            for (int g = 0; g < groups; ++g, dst += kPointwiseTile * 4) {
                __m128i rows[4];
                for (int j = 0; j < 4; ++j) {
                    const int c = 4 * g + j;
                    rows[j] = c < p.channels ? _mm_maskz_loadu_epi8(map.valid[v], src + c * p.pixels)
                                             : _mm_setzero_si128();
                }
                // Bytes of channels (0, 1) and (2, 3) paired, then the pairs paired: 4 pixels a
                // 16-byte store, each pixel's 4 channels together.
                const __m128i low01 = _mm_unpacklo_epi8(rows[0], rows[1]);
                const __m128i high01 = _mm_unpackhi_epi8(rows[0], rows[1]);
                const __m128i low23 = _mm_unpacklo_epi8(rows[2], rows[3]);
                const __m128i high23 = _mm_unpackhi_epi8(rows[2], rows[3]);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(low01, low23));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(low01, low23));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(high01, high23));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(high01, high23));
            }
            continue;
        }
        for (int g = 0; g < groups; ++g, dst += kPointwiseTile * 4)
            for (int i = 0; i < 16; ++i)
                for (int j = 0; j < 4; ++j) {
                    const int c = 4 * g + j;
                    dst[4 * i + j] = (map.valid[v] >> i & 1) && c < p.channels
                                         ? p.x[map.in[16 * v + i] + c * p.pixels]
                                         : uint8_t{0};
                }
    }
}

// The K loop alone over one channel block, ending in plain stores to `out`. Kept out of line
// (as int8Accumulate sits in its own int8Tile): inlined beside the epilogue, whose rows are
// indexed at run time, GCC kept the accumulators in memory and spilled them every step.
__attribute__((noinline)) void pointwiseAccumulate(int groups, const uint8_t* x, const int8_t* w,
                                                   __m512i* out) {
    __m512i acc[kPointwiseChannels][kPointwiseVectors];
#pragma GCC unroll 8
    for (int r = 0; r < kPointwiseChannels; ++r)
#pragma GCC unroll 3
        for (int v = 0; v < kPointwiseVectors; ++v)
            acc[r][v] = _mm512_setzero_si512();
    for (int g = 0; g < groups; ++g, x += kPointwiseTile * 4, w += kPanelWidth * 4) {
        __m512i xv[kPointwiseVectors];
#pragma GCC unroll 3
        for (int v = 0; v < kPointwiseVectors; ++v)
            xv[v] = _mm512_load_si512(x + 64 * v);
#pragma GCC unroll 8
        for (int r = 0; r < kPointwiseChannels; ++r) {
            const __m512i wv = _mm512_set1_epi32(load32(w + 4 * r));
#pragma GCC unroll 3
            for (int v = 0; v < kPointwiseVectors; ++v)
                dpbusd(acc[r][v], xv[v], wv);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < kPointwiseChannels; ++r)
#pragma GCC unroll 3
        for (int v = 0; v < kPointwiseVectors; ++v)
            _mm512_store_si512(out + r * kPointwiseVectors + v, acc[r][v]);
}

void pointwiseConvU8(const PointwiseConvProblem& p, int64_t pixelBegin, int64_t pixelEnd, int outBegin,
                     int outEnd) {
    const int groups = p.kPadded / 4;
    thread_local AlignedBuffer<uint8_t> tile; // this thread's interleaved tile
    tile.reserveScratch(static_cast<size_t>(groups) * kPointwiseTile * 4);
    const __m512i lo = _mm512_set1_epi32(p.clampMin - p.zeroPoint);
    const __m512i hi = _mm512_set1_epi32(p.clampMax - p.zeroPoint);
    const __m512i zeroPoint = _mm512_set1_epi32(p.zeroPoint);
    for (int64_t q0 = pixelBegin; q0 < pixelEnd; q0 += kPointwiseTile) {
        const PointwiseTileMap map = pointwiseTileMap(p, q0, pixelEnd);
        pointwiseInterleave(p, map, tile.data());
        for (int o0 = outBegin; o0 < outEnd; o0 += kPointwiseChannels) {
            const int8_t* w = p.packedW + static_cast<size_t>(o0 / kPanelWidth) * kPanelWidth * p.kPadded +
                              static_cast<size_t>(o0 % kPanelWidth) * 4;
            __m512i acc[kPointwiseChannels * kPointwiseVectors];
            pointwiseAccumulate(groups, tile.data(), w, acc);
            // Row o's requantization (storeRequantized's clamp, then the bytes), one output row
            // of 16 pixels a vector.
            const auto storeRow = [&](int r, auto scale) {
                const int o = o0 + r;
                const __m512i offset = _mm512_set1_epi32(p.rowOffsets[o]);
                const int64_t plane = int64_t{o} * p.pixels;
                for (int v = 0; v < kPointwiseVectors; ++v) {
                    if (!map.valid[v])
                        break;
                    const __m512i scaled = scale(_mm512_add_epi32(acc[r * kPointwiseVectors + v], offset));
                    const __m512i codes =
                        _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(scaled, lo), hi), zeroPoint);
                    if (map.consecutive[v]) {
                        _mm512_mask_cvtusepi32_storeu_epi8(p.y + map.out[16 * v] + plane, map.valid[v],
                                                           codes);
                        continue;
                    }
                    alignas(16) uint8_t bytes[16];
                    _mm_store_si128(reinterpret_cast<__m128i*>(bytes), _mm512_cvtusepi32_epi8(codes));
                    for (int i = 0; i < 16; ++i)
                        if (map.valid[v] >> i & 1)
                            p.y[map.out[16 * v + i] + plane] = bytes[i];
                }
            };
            // Only the row's own multiplier sequence is set up: with few input channels the
            // per-row constants weigh beside the three vectors they serve.
            const int rows = std::min(kPointwiseChannels, outEnd - o0);
            for (int r = 0; r < rows; ++r) {
                const int o = o0 + r;
                if (p.shifts[o] <= 0) {
                    const RowMultiplier row = rowMultiplier(p.multipliers[o], p.shifts[o]);
                    storeRow(r, [&](__m512i value) { return applyRowMultiplier(value, row); });
                } else {
                    const RequantLanes lanes =
                        requantLanes(_mm512_set1_epi32(p.multipliers[o]), _mm512_set1_epi32(p.shifts[o]));
                    storeRow(r, [&](__m512i value) { return applyMultiplier(value, lanes); });
                }
            }
        }
    }
}

// ---- depthwise 3 x 3 planes with vpdpbusd ---------------------------------------------------------
// For the requantized u8 output of a 3 x 3 filter without dilation along W, with stride 1 (the
// plane as one long row, as in Avx2Depthwise.h) or stride 2 along W. Each kernel row is one
// vpdpbusd on bytes: output i's lane holds its three inputs x[s i], x[s i + 1], x[s i + 2] and one
// more byte, against the row's three weights and a 0 (so the extra byte adds nothing; the four
// products are summed in int32 without saturation). A lane's bytes come from one 64-byte load:
// vpermd gives 128-bit quarter j the 16 input bytes from its first output's input on, and one
// vpshufb lays out the four overlapping windows of each quarter. Per 16 outputs: 3 loads, 6
// shuffles and 3 vpdpbusd, instead of the int16 pairs' 10 widening loads and unpacks and 5
// multiply-adds. Other filters, strides and outputs take the AVX2 kernel.
template <int Stride> struct DepthwiseWindows {
    __m512i quarters, windows;
    DepthwiseWindows() {
        if constexpr (Stride == 1) {
            quarters = _mm512_setr_epi32(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6);
            windows = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6));
        } else {
            quarters = _mm512_setr_epi32(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9);
            windows = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9));
        }
    }
};

struct DepthwiseRequant {
    __m512i bias, lo, hi, zeroPoint;
    bool belowOne;
    RowMultiplier row;
    RequantLanes lanes;

    explicit DepthwiseRequant(const DepthwisePlane& p)
        : bias(_mm512_set1_epi32(p.bias)), lo(_mm512_set1_epi32(p.clampMin - p.zeroPoint)),
          hi(_mm512_set1_epi32(p.clampMax - p.zeroPoint)), zeroPoint(_mm512_set1_epi32(p.zeroPoint)),
          belowOne(p.shift <= 0), row(rowMultiplier(p.multiplier, p.shift <= 0 ? p.shift : 0)),
          lanes(requantLanes(_mm512_set1_epi32(p.multiplier), _mm512_set1_epi32(p.shift))) {}

    // 16 sums to 16 codes.
    __m128i codes(__m512i sums) const {
        const __m512i value = _mm512_add_epi32(sums, bias);
        const __m512i scaled = belowOne ? applyRowMultiplier(value, row) : applyMultiplier(value, lanes);
        return _mm512_cvtusepi32_epi8(
            _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(scaled, lo), hi), zeroPoint));
    }
};

// The codes of the 16 outputs whose first input is `base`; row r of the filter starts rows[r] on.
template <int Stride>
inline __m128i depthwiseCodes16(const uint8_t* base, const size_t (&rows)[3], const __m512i (&weights)[3],
                                const DepthwiseWindows<Stride>& layout, const DepthwiseRequant& out) {
    __m512i sums = _mm512_setzero_si512();
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
        const __m512i bytes = _mm512_permutexvar_epi32(layout.quarters, _mm512_loadu_si512(base + rows[r]));
        dpbusd(sums, _mm512_shuffle_epi8(bytes, layout.windows), weights[r]);
    }
    return out.codes(sums);
}

template <int Stride> void depthwise3x3(const DepthwisePlane& p) {
    const DepthwiseWindows<Stride> layout;
    const DepthwiseRequant out(p);
    size_t rows[3];
    __m512i weights[3];
    for (int r = 0; r < 3; ++r) {
        rows[r] = static_cast<size_t>(r) * p.dilationH * p.width;
        const auto w = [&](int k) { return static_cast<uint32_t>(static_cast<uint8_t>(p.w[3 * r + k])); };
        weights[r] = _mm512_set1_epi32(static_cast<int32_t>(w(0) | w(1) << 8 | w(2) << 16));
    }
    if constexpr (Stride == 1) {
        if (p.strideH == 1) {
            // Output (oh, ow) reads from q = oh * width + ow: one run of positions into scratch,
            // then each row's outW codes copied out.
            auto* scratch = reinterpret_cast<uint8_t*>(p.acc);
            const size_t width = static_cast<size_t>(p.width);
            const size_t run = static_cast<size_t>(p.outH - 1) * width + static_cast<size_t>(p.outW);
            for (size_t q = 0; q < run; q += 16)
                _mm_storeu_si128(reinterpret_cast<__m128i*>(scratch + q),
                                 depthwiseCodes16<1>(p.x + q, rows, weights, layout, out));
            for (int oh = 0; oh < p.outH; ++oh)
                copyBytes(p.y8 + static_cast<size_t>(oh) * p.outW, scratch + static_cast<size_t>(oh) * width,
                          static_cast<size_t>(p.outW));
            return;
        }
    }
    for (int oh = 0; oh < p.outH; ++oh) {
        const uint8_t* row = p.x + static_cast<size_t>(oh) * p.strideH * p.width;
        uint8_t* dst = p.y8 + static_cast<size_t>(oh) * p.outW;
        for (int ow0 = 0; ow0 < p.outW; ow0 += 16)
            _mm_mask_storeu_epi8(dst + ow0, tailMask(static_cast<size_t>(p.outW - ow0)),
                                 depthwiseCodes16<Stride>(row + static_cast<size_t>(ow0) * Stride, rows,
                                                          weights, layout, out));
    }
}

void depthwisePlane(const DepthwisePlane& p) {
    if (p.y8 && p.kernelH == 3 && p.kernelW == 3 && p.dilationW == 1) {
        if (p.strideW == 1 && p.strideH == 1) {
            depthwise3x3<1>(p);
            return;
        }
        if (p.strideW == 2) {
            depthwise3x3<2>(p);
            return;
        }
    }
    avx2DepthwisePlane(p);
}

// ---- int4 weight-only GEMV ----------------------------------------------------------------------

// int8 activations: the nibbles are already unsigned bytes (w + 8) for vpdpbusd, with the
// activations as the signed operand; the +8 offset is removed with the group's activation sum.
// Up to 4 activation rows share each decoded weight vector (an int4 GEMM for small M).
template <int R> void int4S8Rows(const Int4GemvProblem& p, int row0, int panelBegin, int panelEnd) {
    const int groups = p.k / p.groupSize;
    const int octsPerGroup = p.groupSize / 8;
    const __m512i low = _mm512_set1_epi8(0x0F);
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint8_t* w = p.packedW + static_cast<size_t>(panel) * (p.k / 8) * 64;
        const float* scales = p.scales + static_cast<size_t>(panel) * groups * 16;
        __m512 y[R];
        for (int r = 0; r < R; ++r)
            y[r] = _mm512_setzero_ps();
        for (int g = 0; g < groups; ++g) {
            __m512i accLow[R], accHigh[R];
            for (int r = 0; r < R; ++r)
                accLow[r] = accHigh[r] = _mm512_setzero_si512();
            const int8_t* x = p.xq + static_cast<size_t>(row0) * p.k + static_cast<size_t>(g) * p.groupSize;
            for (int o = 0; o < octsPerGroup; ++o, w += 64, x += 8) {
                _mm_prefetch(reinterpret_cast<const char*>(w + 2048), _MM_HINT_T0);
                const __m512i v = _mm512_loadu_si512(w);
                const __m512i lo = _mm512_and_si512(v, low);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
                for (int r = 0; r < R; ++r) {
                    dpbusd(accLow[r], lo, _mm512_set1_epi32(load32(x + static_cast<size_t>(r) * p.k)));
                    dpbusd(accHigh[r], hi, _mm512_set1_epi32(load32(x + static_cast<size_t>(r) * p.k + 4)));
                }
            }
            const __m512 weightScale = _mm512_loadu_ps(scales + g * 16);
            for (int r = 0; r < R; ++r) {
                const size_t at = static_cast<size_t>(row0 + r) * groups + g;
                const __m512i dot = _mm512_sub_epi32(_mm512_add_epi32(accLow[r], accHigh[r]),
                                                     _mm512_set1_epi32(8 * p.xSums[at]));
                y[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                                       _mm512_mul_ps(_mm512_set1_ps(p.xScales[at]), weightScale), y[r]);
            }
        }
        const __mmask16 mask = tailMask(static_cast<size_t>(std::min(16, p.n - panel * 16)));
        for (int r = 0; r < R; ++r)
            _mm512_mask_storeu_ps(p.y + static_cast<size_t>(row0 + r) * p.n + panel * 16, mask, y[r]);
    }
}

// fp32 activations: vpermps looks a nibble up in a 16-entry table of floats (w values -8..7),
// using the low 4 bits of each lane, so each byte position needs one shift and one permute.
// Byte i of each lane of a 64-byte block holds k + i (low nibble) and k + 4 + i (high nibble);
// int4Values gives value k + j of all 16 lanes.
inline __m512 int4Table() {
    return _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
}

template <int J> __attribute__((always_inline)) inline __m512 int4Values(__m512i packed, __m512 table) {
    constexpr int kShift = J < 4 ? 8 * J : 8 * (J - 4) + 4;
    return _mm512_permutexvar_ps(_mm512_srli_epi32(packed, kShift), table);
}

// The decoded values are shared by up to 4 rows, one FMA per row each.
template <int R> void int4F32Rows(const Int4GemvProblem& p, int row0, int panelBegin, int panelEnd) {
    const int groups = p.k / p.groupSize;
    const int octsPerGroup = p.groupSize / 8;
    const __m512 table = int4Table();
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint8_t* w = p.packedW + static_cast<size_t>(panel) * (p.k / 8) * 64;
        const float* scales = p.scales + static_cast<size_t>(panel) * groups * 16;
        __m512 y[R];
        for (int r = 0; r < R; ++r)
            y[r] = _mm512_setzero_ps();
        for (int g = 0; g < groups; ++g) {
            __m512 acc[R][2];
            for (int r = 0; r < R; ++r)
                acc[r][0] = acc[r][1] = _mm512_setzero_ps();
            const float* x = p.x + static_cast<size_t>(row0) * p.k + static_cast<size_t>(g) * p.groupSize;
            for (int o = 0; o < octsPerGroup; ++o, w += 64, x += 8) {
                _mm_prefetch(reinterpret_cast<const char*>(w + 2048), _MM_HINT_T0);
                const __m512i v = _mm512_loadu_si512(w);
                const __m512 w0 = int4Values<0>(v, table);
                const __m512 w1 = int4Values<1>(v, table);
                const __m512 w2 = int4Values<2>(v, table);
                const __m512 w3 = int4Values<3>(v, table);
                const __m512 w4 = int4Values<4>(v, table);
                const __m512 w5 = int4Values<5>(v, table);
                const __m512 w6 = int4Values<6>(v, table);
                const __m512 w7 = int4Values<7>(v, table);
                for (int r = 0; r < R; ++r) {
                    const float* xr = x + static_cast<size_t>(r) * p.k;
                    acc[r][0] = _mm512_fmadd_ps(w0, _mm512_set1_ps(xr[0]), acc[r][0]);
                    acc[r][1] = _mm512_fmadd_ps(w1, _mm512_set1_ps(xr[1]), acc[r][1]);
                    acc[r][0] = _mm512_fmadd_ps(w2, _mm512_set1_ps(xr[2]), acc[r][0]);
                    acc[r][1] = _mm512_fmadd_ps(w3, _mm512_set1_ps(xr[3]), acc[r][1]);
                    acc[r][0] = _mm512_fmadd_ps(w4, _mm512_set1_ps(xr[4]), acc[r][0]);
                    acc[r][1] = _mm512_fmadd_ps(w5, _mm512_set1_ps(xr[5]), acc[r][1]);
                    acc[r][0] = _mm512_fmadd_ps(w6, _mm512_set1_ps(xr[6]), acc[r][0]);
                    acc[r][1] = _mm512_fmadd_ps(w7, _mm512_set1_ps(xr[7]), acc[r][1]);
                }
            }
            const __m512 weightScale = _mm512_loadu_ps(scales + g * 16);
            for (int r = 0; r < R; ++r)
                y[r] = _mm512_fmadd_ps(_mm512_add_ps(acc[r][0], acc[r][1]), weightScale, y[r]);
        }
        const __mmask16 mask = tailMask(static_cast<size_t>(std::min(16, p.n - panel * 16)));
        for (int r = 0; r < R; ++r)
            _mm512_mask_storeu_ps(p.y + static_cast<size_t>(row0 + r) * p.n + panel * 16, mask, y[r]);
    }
}

// One activation row over two panels at once: two weight streams in flight, as for int8.
void int4S8PanelPair(const Int4GemvProblem& p, int panel0, int panel1) {
    const int groups = p.k / p.groupSize;
    const int octsPerGroup = p.groupSize / 8;
    const __m512i low = _mm512_set1_epi8(0x0F);
    const uint8_t* w[2] = {p.packedW + static_cast<size_t>(panel0) * (p.k / 8) * 64,
                           p.packedW + static_cast<size_t>(panel1) * (p.k / 8) * 64};
    const float* scales[2] = {p.scales + static_cast<size_t>(panel0) * groups * 16,
                              p.scales + static_cast<size_t>(panel1) * groups * 16};
    __m512 y[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int g = 0; g < groups; ++g) {
        __m512i accLow[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
        __m512i accHigh[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
        const int8_t* x = p.xq + static_cast<size_t>(g) * p.groupSize;
        for (int o = 0; o < octsPerGroup; ++o, x += 8) {
            const __m512i xa = _mm512_set1_epi32(load32(x));
            const __m512i xb = _mm512_set1_epi32(load32(x + 4));
#pragma GCC unroll 2
            for (int i = 0; i < 2; ++i) {
                const __m512i v = _mm512_loadu_si512(w[i]);
                w[i] += 64;
                dpbusd(accLow[i], _mm512_and_si512(v, low), xa);
                dpbusd(accHigh[i], _mm512_and_si512(_mm512_srli_epi16(v, 4), low), xb);
            }
        }
        const __m512 xs = _mm512_set1_ps(p.xScales[g]);
        const __m512i offset = _mm512_set1_epi32(8 * p.xSums[g]);
#pragma GCC unroll 2
        for (int i = 0; i < 2; ++i) {
            const __m512i dot = _mm512_sub_epi32(_mm512_add_epi32(accLow[i], accHigh[i]), offset);
            y[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                                   _mm512_mul_ps(xs, _mm512_loadu_ps(scales[i] + g * 16)), y[i]);
        }
    }
    _mm512_storeu_ps(p.y + panel0 * 16, y[0]);
    _mm512_storeu_ps(p.y + panel1 * 16, y[1]);
}

void int4GemvS8(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    if (p.m == 1) {
        const int fullEnd = std::min(panelEnd, p.n / 16);
        const int half = std::max(0, (fullEnd - panelBegin) / 2);
        for (int i = 0; i < half; ++i)
            int4S8PanelPair(p, panelBegin + i, panelBegin + half + i);
        int4S8Rows<1>(p, 0, panelBegin + 2 * half, panelEnd);
        return;
    }
    for (int row0 = 0; row0 < p.m; row0 += 4) {
        switch (std::min(4, p.m - row0)) {
        case 1:
            int4S8Rows<1>(p, row0, panelBegin, panelEnd);
            break;
        case 2:
            int4S8Rows<2>(p, row0, panelBegin, panelEnd);
            break;
        case 3:
            int4S8Rows<3>(p, row0, panelBegin, panelEnd);
            break;
        default:
            int4S8Rows<4>(p, row0, panelBegin, panelEnd);
            break;
        }
    }
}

// Many fp32 activation rows (a transformer's tokens): a real GEMM. int4F32Rows decodes the weights
// again for every 4 rows (8 vpermps per 8 values of K, as many as the FMAs of one row), so at M = 128
// the decode costs as much as the products. Here each group of a pair of panels (32 columns x
// groupSize, 16 KB at G = 128, in L1) is decoded to floats once and a register-blocked micro-kernel
// of 6 rows x 32 columns runs over it for every row. Each row keeps int4F32Rows' arithmetic order
// exactly (even-k and odd-k accumulators per group, their sum times the group scale added to y), so
// every row equals the one-row GEMV bit for bit; y lives in the output between groups.
constexpr int kInt4GemmRowBlock = 6;
constexpr int kInt4GemmMinRows = 8;

// Group g of `P` panels as floats, [k within the group][P * 16 columns].
template <int P> void decodeInt4Group(const uint8_t* const* panelWeights, int groupSize, float* decoded) {
    const __m512 table = int4Table();
    for (int o = 0; o < groupSize / 8; ++o) {
        float* out = decoded + static_cast<size_t>(o) * 8 * P * 16;
        for (int panel = 0; panel < P; ++panel) {
            const __m512i v = _mm512_loadu_si512(panelWeights[panel] + static_cast<size_t>(o) * 64);
            _mm512_store_ps(out + (0 * P + panel) * 16, int4Values<0>(v, table));
            _mm512_store_ps(out + (1 * P + panel) * 16, int4Values<1>(v, table));
            _mm512_store_ps(out + (2 * P + panel) * 16, int4Values<2>(v, table));
            _mm512_store_ps(out + (3 * P + panel) * 16, int4Values<3>(v, table));
            _mm512_store_ps(out + (4 * P + panel) * 16, int4Values<4>(v, table));
            _mm512_store_ps(out + (5 * P + panel) * 16, int4Values<5>(v, table));
            _mm512_store_ps(out + (6 * P + panel) * 16, int4Values<6>(v, table));
            _mm512_store_ps(out + (7 * P + panel) * 16, int4Values<7>(v, table));
        }
    }
}

// R rows x P panels of one group: y[r] (+)= (sum over even k + sum over odd k) * scale.
template <int R, int P>
void int4F32Tile(const Int4GemvProblem& p, const float* x, const float* decoded,
                 const float* const* groupScales, const __mmask16* masks, float* y, bool firstGroup) {
    __m512 even[R][P], odd[R][P];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int c = 0; c < P; ++c)
            even[r][c] = odd[r][c] = _mm512_setzero_ps();
    const size_t stride = static_cast<size_t>(p.k);
    for (int t = 0; t < p.groupSize; t += 2, decoded += 2 * P * 16) {
        __m512 w0[P], w1[P];
#pragma GCC unroll 2
        for (int c = 0; c < P; ++c) {
            w0[c] = _mm512_load_ps(decoded + c * 16);
            w1[c] = _mm512_load_ps(decoded + (P + c) * 16);
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m512 xe = _mm512_set1_ps(x[r * stride + t]);
            const __m512 xo = _mm512_set1_ps(x[r * stride + t + 1]);
#pragma GCC unroll 2
            for (int c = 0; c < P; ++c) {
                even[r][c] = _mm512_fmadd_ps(w0[c], xe, even[r][c]);
                odd[r][c] = _mm512_fmadd_ps(w1[c], xo, odd[r][c]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int c = 0; c < P; ++c) {
            float* out = y + r * static_cast<size_t>(p.n) + c * 16;
            const __m512 before = firstGroup ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(masks[c], out);
            _mm512_mask_storeu_ps(out, masks[c],
                                  _mm512_fmadd_ps(_mm512_add_ps(even[r][c], odd[r][c]),
                                                  _mm512_loadu_ps(groupScales[c]), before));
        }
}

template <int P>
void int4F32TileRows(int rows, const Int4GemvProblem& p, const float* x, const float* decoded,
                     const float* const* groupScales, const __mmask16* masks, float* y, bool firstGroup) {
    switch (rows) {
    case 1:
        return int4F32Tile<1, P>(p, x, decoded, groupScales, masks, y, firstGroup);
    case 2:
        return int4F32Tile<2, P>(p, x, decoded, groupScales, masks, y, firstGroup);
    case 3:
        return int4F32Tile<3, P>(p, x, decoded, groupScales, masks, y, firstGroup);
    case 4:
        return int4F32Tile<4, P>(p, x, decoded, groupScales, masks, y, firstGroup);
    case 5:
        return int4F32Tile<5, P>(p, x, decoded, groupScales, masks, y, firstGroup);
    default:
        return int4F32Tile<6, P>(p, x, decoded, groupScales, masks, y, firstGroup);
    }
}

// Panels [panel0, panel0 + P) for every row.
template <int P> void int4F32PanelsAllRows(const Int4GemvProblem& p, int panel0, float* decoded) {
    const int groups = p.k / p.groupSize;
    const uint8_t* weights[P];
    __mmask16 masks[P];
    for (int c = 0; c < P; ++c) {
        weights[c] = p.packedW + static_cast<size_t>(panel0 + c) * (p.k / 8) * 64;
        masks[c] = tailMask(static_cast<size_t>(std::max(0, p.n - (panel0 + c) * 16)));
    }
    for (int g = 0; g < groups; ++g) {
        const uint8_t* groupWeights[P];
        const float* groupScales[P];
        for (int c = 0; c < P; ++c) {
            groupWeights[c] = weights[c] + static_cast<size_t>(g) * (p.groupSize / 8) * 64;
            groupScales[c] = p.scales + (static_cast<size_t>(panel0 + c) * groups + g) * 16;
        }
        decodeInt4Group<P>(groupWeights, p.groupSize, decoded);
        // Tiles of nearly equal heights (8 rows as 4 + 4, not 6 + 2: a short tile loads as many
        // weights per FMA as it has rows fewer).
        const int tiles = (p.m + kInt4GemmRowBlock - 1) / kInt4GemmRowBlock;
        for (int tile = 0, row0 = 0; tile < tiles; ++tile) {
            const int rows = p.m / tiles + (tile < p.m % tiles ? 1 : 0);
            int4F32TileRows<P>(
                rows, p, p.x + static_cast<size_t>(row0) * p.k + static_cast<size_t>(g) * p.groupSize,
                decoded, groupScales, masks,
                p.y + static_cast<size_t>(row0) * p.n + static_cast<size_t>(panel0) * 16, g == 0);
            row0 += rows;
        }
    }
}

void int4GemmF32(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    thread_local AlignedBuffer<float> decoded;
    decoded.reserveScratch(static_cast<size_t>(p.groupSize) * 2 * 16);
    int panel = panelBegin;
    for (; panel + 2 <= panelEnd; panel += 2)
        int4F32PanelsAllRows<2>(p, panel, decoded.data());
    if (panel < panelEnd)
        int4F32PanelsAllRows<1>(p, panel, decoded.data());
}

void int4GemvF32(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    if (p.m >= kInt4GemmMinRows) {
        int4GemmF32(p, panelBegin, panelEnd);
        return;
    }
    for (int row0 = 0; row0 < p.m; row0 += 4) {
        switch (std::min(4, p.m - row0)) {
        case 1:
            int4F32Rows<1>(p, row0, panelBegin, panelEnd);
            break;
        case 2:
            int4F32Rows<2>(p, row0, panelBegin, panelEnd);
            break;
        case 3:
            int4F32Rows<3>(p, row0, panelBegin, panelEnd);
            break;
        default:
            int4F32Rows<4>(p, row0, panelBegin, panelEnd);
            break;
        }
    }
}

// ---- bf16 GEMM (vdpbf16ps) ----------------------------------------------------------------------
// Tile of up to 8 rows x 32 columns (16 accumulators); each vdpbf16ps does 16 lanes x 2 products.
constexpr int kBf16RowBlock = 8;
constexpr int kBf16Width = kBf16PanelWidth;

template <int R, int NV>
__attribute__((always_inline)) inline void bf16Accumulate(int pairs, const uint16_t* a, const uint16_t* b,
                                                          __m512* out) {
    __m512 acc[R][NV];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_setzero_ps();
    for (int q = 0; q < pairs; ++q, b += kBf16Width * 2, a += kBf16RowBlock * 2) {
        __m512i bv[NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            bv[v] = _mm512_loadu_si512(b + 32 * v);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m512i av = _mm512_set1_epi32(load32(a + 2 * r));
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v)
                dpbf16(acc[r][v], av, bv[v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            _mm512_store_ps(out + r * NV + v, acc[r][v]);
}

template <int R, int NV>
void bf16Tile(const Bf16GemmProblem& p, const uint16_t* sliver, const uint16_t* panel, int row0, int col0,
              int cols) {
    __m512 acc[R][NV];
    {
        __m512 stored[R * NV];
        bf16Accumulate<R, NV>(p.kPadded / 2, sliver, panel, stored);
        for (int r = 0; r < R; ++r)
            for (int v = 0; v < NV; ++v)
                acc[r][v] = stored[r * NV + v];
    }
    for (int v = 0; v < NV; ++v) {
        const __mmask16 mask = tailMask(static_cast<size_t>(std::max(0, cols - 16 * v)));
        const __m512 bias =
            p.bias ? _mm512_maskz_loadu_ps(mask, p.bias + col0 + 16 * v) : _mm512_setzero_ps();
        for (int r = 0; r < R; ++r)
            _mm512_mask_storeu_ps(p.c + static_cast<size_t>(row0 + r) * p.ldc + col0 + 16 * v, mask,
                                  _mm512_add_ps(acc[r][v], bias));
    }
}

using Bf16TileFn = void (*)(const Bf16GemmProblem&, const uint16_t*, const uint16_t*, int, int, int);

template <int R> constexpr Bf16TileFn bf16TileFor(int nv) {
    return nv == 1 ? bf16Tile<R, 1> : bf16Tile<R, 2>;
}

Bf16TileFn bf16TileFn(int rows, int nv) {
    switch (rows) {
    case 1:
        return bf16TileFor<1>(nv);
    case 2:
        return bf16TileFor<2>(nv);
    case 3:
        return bf16TileFor<3>(nv);
    case 4:
        return bf16TileFor<4>(nv);
    case 5:
        return bf16TileFor<5>(nv);
    case 6:
        return bf16TileFor<6>(nv);
    case 7:
        return bf16TileFor<7>(nv);
    default:
        return bf16TileFor<8>(nv);
    }
}

void bf16GemmPanels(const Bf16GemmProblem& p, int panelBegin, int panelEnd) {
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const int col0 = panel * kBf16Width;
        const int cols = std::min(kBf16Width, p.n - col0);
        const int nv = (cols + 15) / 16;
        const uint16_t* b = p.packedB + static_cast<size_t>(panel) * kBf16Width * p.kPadded;
        for (int row0 = 0; row0 < p.m; row0 += kBf16RowBlock) {
            const int rows = std::min(kBf16RowBlock, p.m - row0);
            bf16TileFn(rows, nv)(p, p.packedA + static_cast<size_t>(row0) * p.kPadded, b, row0, col0, cols);
        }
    }
}

constexpr KernelTable makeTable() {
    KernelTable t;
    t.chunk = makeChunkKernels();
    t.path = IsaPath::Avx512;
    t.quantizeS8 = quantize<int8_t>;
    t.quantizeU8 = quantize<uint8_t>;
    t.dequantizeS8 = dequantize<int8_t>;
    t.dequantizeU8 = dequantize<uint8_t>;
    t.f32ToF16 = f32ToF16;
    t.f16ToF32 = f16ToF32;
    t.f32ToBf16 = f32ToBf16;
    t.bf16ToF32 = bf16ToF32;
    t.int8Layout = Int8Layout{kPanelWidth, 4, kRowBlock, false};
    t.int8GemmPanels = int8GemmPanels;
    t.requantizeU8 = requantizeValues<uint8_t>;
    t.requantizeS8 = requantizeValues<int8_t>;
    t.depthwisePlane = depthwisePlane;
    t.pointwisePixelTile = kPointwiseTile;
    t.pointwiseChannelBlock = kPointwiseChannels;
    t.pointwiseConvU8 = pointwiseConvU8;
    t.lookupU8 = avx2LookupU8;
    t.qlinearBinaryU8 = avx2QLinearBinaryU8;
    t.int4GemvF32 = int4GemvF32;
    t.int4GemvS8 = int4GemvS8;
    t.bf16RowBlock = kBf16RowBlock;
    t.bf16GemmPanels = bf16GemmPanels;
    t.erfF32 = avx2ErfValues;
    t.geluF32 = avx2GeluValues;
    t.softmaxF32 = avx2SoftmaxRow;
    t.layerNormF32 = avx2LayerNormRow;
    t.binaryF32 = avx2BinaryValues;
    t.depthwiseF32 = avx2conv::depthwisePlane;
    t.clampF32 = avx2conv::clampValues;
    return t;
}

} // namespace

const KernelTable* avx512KernelTable() {
    // Constant-initialised: building it runs no code of this path, which the processor may lack.
    static constexpr KernelTable table = makeTable();
    return &table;
}

} // namespace quantscope::kernels

#else

namespace quantscope::kernels {
const KernelTable* avx512KernelTable() {
    return nullptr;
}
} // namespace quantscope::kernels

#endif
