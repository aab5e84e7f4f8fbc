// The AVX2 path (AVX2 + FMA + F16C), compiled with those flags on this file only.
#include "PathTables.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include "Avx2Depthwise.h"
#include "Avx2Elementwise.h"
#include "Avx2FloatOps.h"
#include "Avx2Requantize.h"
#include "ChunkLoops.h"
#include "FloatConvAvx2.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

namespace quantscope::kernels {
namespace {

inline int32_t load32(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// ---- element-wise (8 lanes; the scalar rule finishes the tails) --------------------------------

template <class T>
void quantize(const float* x, size_t count, float inverseScale, int32_t zp, int32_t qmin, int32_t qmax,
              T* q) {
    const __m256 inverse = _mm256_set1_ps(inverseScale);
    const __m256 zpv = _mm256_set1_ps(static_cast<float>(zp));
    const __m256 lo = _mm256_set1_ps(static_cast<float>(qmin));
    const __m256 hi = _mm256_set1_ps(static_cast<float>(qmax));
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        __m256 r = _mm256_round_ps(_mm256_mul_ps(v, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        r = _mm256_add_ps(r, zpv);
        r = _mm256_blendv_ps(r, zpv, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)); // NaN -> zero point
        r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
        // Narrow 8 x int32 to bytes; the values are already in [qmin, qmax], so the saturating
        // packs never saturate.
        const __m256i lanes = _mm256_cvtps_epi32(r);
        const __m128i words =
            _mm_packs_epi32(_mm256_castsi256_si128(lanes), _mm256_extracti128_si256(lanes, 1));
        const __m128i bytes =
            std::is_signed_v<T> ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), bytes);
    }
    IntegerQuantizer tail;
    tail.inverseScale = inverseScale;
    tail.zeroPoint = zp;
    tail.qmin = qmin;
    tail.qmax = qmax;
    for (; i < count; ++i)
        q[i] = static_cast<T>(tail.quantize(x[i]));
}

template <class T> void dequantize(const T* q, size_t count, float scale, int32_t zp, float* x) {
    const __m256 s = _mm256_set1_ps(scale);
    const __m256i z = _mm256_set1_epi32(zp);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i));
        const __m256i wide = std::is_signed_v<T> ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(wide, z)), s));
    }
    for (; i < count; ++i)
        x[i] = static_cast<float>(static_cast<int32_t>(q[i]) - zp) * scale;
}

void f32ToF16(const float* x, size_t count, uint16_t* h) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm_storeu_si128(
            reinterpret_cast<__m128i*>(h + i),
            _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < count; ++i)
        h[i] = reference::f32ToF16(x[i]);
}

void f16ToF32(const uint16_t* h, size_t count, float* x) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
    for (; i < count; ++i)
        x[i] = reference::f16ToF32(h[i]);
}

void f32ToBf16(const float* x, size_t count, uint16_t* h) {
    size_t i = 0;
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i bias = _mm256_set1_epi32(0x7FFF);
    const __m256i absMask = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i infinity = _mm256_set1_epi32(0x7F800000);
    const __m256i quietBit = _mm256_set1_epi32(0x40);
    for (; i + 8 <= count; i += 8) {
        const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
        const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), one);
        const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(bits, _mm256_add_epi32(lsb, bias)), 16);
        const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(bits, 16), quietBit);
        // |x| > inf as signed compare is safe: the sign bit is cleared.
        const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, absMask), infinity);
        const __m256i value = _mm256_blendv_epi8(rounded, quiet, nan);
        // Pack 8 x 32-bit lanes (each < 65536) into 8 x 16-bit.
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(value, value), 0x08);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), _mm256_castsi256_si128(packed));
    }
    for (; i < count; ++i)
        h[i] = reference::f32ToBf16(x[i]);
}

void bf16ToF32(const uint16_t* h, size_t count, float* x) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)));
        _mm256_storeu_ps(x + i, _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16)));
    }
    for (; i < count; ++i)
        x[i] = reference::bf16ToF32(h[i]);
}

// ---- int8 GEMM ------------------------------------------------------------------------------------
// No vpmaddubsw: its int16 pair sums saturate (255 * -128 * 2 = -65280), which would break
// exactness for full-range uint8 activations. Instead activations are widened to int16 and
// weights on load (vpmovsxbw), and vpmaddwd sums each int16 pair into int32: |a * b| <= 255 * 128,
// so a pair sum (<= 65280) cannot overflow and results are exact for all inputs. Register tile
// 6 rows x 16 columns: 12 ymm accumulators + 2 weight vectors + 1 broadcast + 1 product.
// The activation rows stay row-major (Int8Layout): each step broadcasts one int16 pair of each of
// the tile's rows from its own row, so packing needs no transpose.
constexpr int kPanelWidth = 16;
constexpr int kRowBlock = 6;

// The K loop alone, ending in stores, so GCC keeps the accumulators in registers (with the
// epilogue in the same function it spilled them every step). Row r's K values are `segments` runs
// of `pairs` int16 pairs, run s at rows[r] + s * segmentStride (one run for packed rows, a
// convolution's kernel rows for windows read in place); the weights run on through the panel.
template <int R, int NV>
__attribute__((always_inline)) inline void int8Accumulate(int segments, int pairs, size_t segmentStride,
                                                          const int16_t* const (&rows)[R], const int8_t* b,
                                                          __m256i* out) {
    if constexpr (R == 1) {
        // GEMV: memory-bound; prefetch 2 KB ahead to keep more cache-line misses in flight.
        __m256i acc[NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            acc[v] = _mm256_setzero_si256();
        for (int s = 0; s < segments; ++s) {
            const int16_t* a = rows[0] + s * segmentStride;
            for (int q = 0; q < pairs; ++q, b += kPanelWidth * 2, a += 2) {
                if (q % 2 == 0)
                    _mm_prefetch(reinterpret_cast<const char*>(b + 2048), _MM_HINT_T0);
                const __m256i av = _mm256_set1_epi32(load32(a));
#pragma GCC unroll 2
                for (int v = 0; v < NV; ++v)
                    acc[v] = _mm256_add_epi32(
                        acc[v], _mm256_madd_epi16(av, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                          reinterpret_cast<const __m128i*>(b + 16 * v)))));
            }
        }
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            _mm256_store_si256(out + v, acc[v]);
        return;
    }
    __m256i acc[R][NV];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm256_setzero_si256();
    for (int s = 0; s < segments; ++s) {
        const int16_t* run[R];
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r)
            run[r] = rows[r] + s * segmentStride;
#pragma GCC unroll 2
        for (int q = 0; q < 2 * pairs; q += 2, b += kPanelWidth * 2) {
            __m256i bv[NV];
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v)
                bv[v] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16 * v)));
#pragma GCC unroll 6
            for (int r = 0; r < R; ++r) {
                const __m256i av = _mm256_set1_epi32(load32(run[r] + q));
#pragma GCC unroll 2
                for (int v = 0; v < NV; ++v)
                    acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(av, bv[v]));
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            _mm256_store_si256(out + r * NV + v, acc[r][v]);
}

// Int32 and requantized outputs in registers: acc - (za * colsum - bias) - (zb * rowsum - K za zb)
// modulo 2^32 (the bias folded into the column term), then for 8-bit outputs the fixed-point
// multiplier, the zero point and the clamp (Avx2Requantize.h), narrowed to bytes.
// Not inlined into the tile: with the requantization's lane constants in the same function, GCC
// allocated the accumulation loop's registers worse, and static ResNet-18 ran 1.3x slower.
template <int R, int NV, class T>
__attribute__((noinline)) void int8IntegerEpilogue(const Int8GemmProblem& p, const __m256i (&acc)[R][NV],
                                                   int row0, int col0, int cols) {
    const uint32_t kzz = static_cast<uint32_t>(p.k) * static_cast<uint32_t>(p.aZeroPoint) *
                         static_cast<uint32_t>(p.bZeroPoint);
    constexpr bool requantized = !std::is_same_v<T, int32_t>;
    __m256i colTerm[NV];
    Avx2RequantLanes lanes[NV];
    for (int v = 0; v < NV; ++v) {
        const int col = col0 + 8 * v;
        colTerm[v] = _mm256_mullo_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.colSums + col)),
                                        _mm256_set1_epi32(p.aZeroPoint));
        if constexpr (requantized) {
            colTerm[v] = _mm256_sub_epi32(
                colTerm[v], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.laneBias + col)));
            lanes[v] = avx2RequantLanes(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.laneMultipliers + col)),
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.laneShifts + col)));
        }
    }
    const Avx2OutputRange range = avx2OutputRange(p.outZeroPoint, p.clampMin, p.clampMax);
    for (int r = 0; r < R; ++r) {
        const int row = row0 + r;
        const __m256i rowTerm = _mm256_set1_epi32(static_cast<int32_t>(
            static_cast<uint32_t>(p.bZeroPoint) * static_cast<uint32_t>(p.rowSums[row]) - kzz));
        T* out = static_cast<T*>(p.c) + static_cast<size_t>(row) * p.ldc + col0;
        if constexpr (requantized && NV == 2) {
            if (cols == 16) { // a whole panel: both vectors in one 16-byte store
                const __m256i value0 = _mm256_sub_epi32(_mm256_sub_epi32(acc[r][0], colTerm[0]), rowTerm);
                const __m256i value1 = _mm256_sub_epi32(_mm256_sub_epi32(acc[r][1], colTerm[1]), rowTerm);
                avx2StoreBytes16(out, avx2Finish(avx2ApplyMultiplier(value0, lanes[0]), range),
                                 avx2Finish(avx2ApplyMultiplier(value1, lanes[1]), range));
                continue;
            }
        }
        for (int v = 0; v < NV; ++v) {
            const __m256i value = _mm256_sub_epi32(_mm256_sub_epi32(acc[r][v], colTerm[v]), rowTerm);
            const int valid = cols - 8 * v;
            if constexpr (requantized) {
                avx2StoreBytes(out + 8 * v, avx2Finish(avx2ApplyMultiplier(value, lanes[v]), range), valid);
            } else if (valid >= 8) {
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * v), value);
            } else {
                alignas(32) int32_t values[8];
                _mm256_store_si256(reinterpret_cast<__m256i*>(values), value);
                std::copy(values, values + valid, out + 8 * v);
            }
        }
    }
}

template <int R, int NV>
void int8Tile(const Int8GemmProblem& p, const int16_t* packedRows, const int8_t* panel, int row0, int col0,
              int cols) {
    __m256i acc[R][NV];
    {
        const int16_t* rows[R];
        for (int r = 0; r < R; ++r)
            rows[r] = p.rowStarts ? p.rowStarts[row0 + r] : packedRows + static_cast<size_t>(r) * p.kPadded;
        __m256i stored[R * NV];
        if (p.rowStarts)
            int8Accumulate<R, NV>(p.segments, p.segmentPairs, p.segmentStride, rows, panel, stored);
        else
            int8Accumulate<R, NV>(1, p.kPadded / 2, 0, rows, panel, stored);
        for (int r = 0; r < R; ++r)
            for (int v = 0; v < NV; ++v)
                acc[r][v] = stored[r * NV + v];
    }
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
    const uint32_t kzz = static_cast<uint32_t>(p.k) * static_cast<uint32_t>(p.aZeroPoint) *
                         static_cast<uint32_t>(p.bZeroPoint);
    alignas(32) float scales[kPanelWidth];
    alignas(32) float biases[kPanelWidth];
    for (int j = 0; j < kPanelWidth; ++j) {
        const int col = std::min(col0 + j, p.n - 1);
        scales[j] = p.aScale * (p.perChannelScales ? p.bScales[col] : p.bScales[0]);
        biases[j] = p.bias ? p.bias[col] : 0.0f;
    }
    for (int r = 0; r < R; ++r) {
        const int row = row0 + r;
        const uint32_t rowTerm =
            static_cast<uint32_t>(p.bZeroPoint) * static_cast<uint32_t>(p.rowSums[row]) - kzz;
        float* out = static_cast<float*>(p.c) + static_cast<size_t>(row) * p.ldc + col0;
        for (int v = 0; v < NV; ++v) {
            const __m256i colTerm = _mm256_mullo_epi32(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.colSums + col0 + 8 * v)),
                _mm256_set1_epi32(p.aZeroPoint));
            const __m256i value = _mm256_sub_epi32(_mm256_sub_epi32(acc[r][v], colTerm),
                                                   _mm256_set1_epi32(static_cast<int32_t>(rowTerm)));
            __m256 result = _mm256_mul_ps(_mm256_cvtepi32_ps(value), _mm256_load_ps(scales + 8 * v));
            if (p.bias)
                result = _mm256_add_ps(result, _mm256_load_ps(biases + 8 * v));
            const int valid = cols - 8 * v;
            if (valid >= 8) {
                _mm256_storeu_ps(out + 8 * v, result);
            } else {
                alignas(32) float lanes[8];
                _mm256_store_ps(lanes, result);
                std::copy(lanes, lanes + valid, out + 8 * v);
            }
        }
    }
}

using Int8TileFn = void (*)(const Int8GemmProblem&, const int16_t*, const int8_t*, int, int, int);

template <int R> constexpr Int8TileFn int8TileFor(int nv) {
    return nv == 1 ? int8Tile<R, 1> : int8Tile<R, 2>;
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
    default:
        return int8TileFor<6>(nv);
    }
}

// Weight panels are taken in blocks that stay in L2 (256 KB), and each block sweeps all row
// tiles: the activations, the larger operand in a convolution, are then read once per block
// instead of once per panel.
void int8GemmPanels(const Int8GemmProblem& p, int panelBegin, int panelEnd) {
    const auto* a = static_cast<const int16_t*>(p.packedA);
    const size_t panelBytes = static_cast<size_t>(kPanelWidth) * p.kPadded;
    const int blockPanels = static_cast<int>(std::max<size_t>(1, (size_t{256} << 10) / panelBytes));
    for (int block = panelBegin; block < panelEnd; block += blockPanels) {
        const int blockEnd = std::min(panelEnd, block + blockPanels);
        for (int row0 = 0; row0 < p.m; row0 += kRowBlock) {
            const int rows = std::min(kRowBlock, p.m - row0);
            const int16_t* tileRows = p.rowStarts ? nullptr : a + static_cast<size_t>(row0) * p.kPadded;
            for (int panel = block; panel < blockEnd; ++panel) {
                const int col0 = panel * kPanelWidth;
                const int cols = std::min(kPanelWidth, p.n - col0);
                const int nv = (cols + 7) / 8;
                int8TileFn(rows, nv)(p, tileRows, p.packedB + static_cast<size_t>(panel) * panelBytes, row0,
                                     col0, cols);
            }
        }
    }
}

// ---- int4 weight-only GEMV, fp32 activations -------------------------------------------------------
// Each 64-byte block holds 8 values of K for 16 columns (two ymm of 8 columns). A nibble is
// isolated with a shift and a mask, converted to float and multiplied by the broadcast activation;
// the +8 storage offset is removed once per group with the group's activation sum.
void int4GemvF32Row(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    const int groups = p.k / p.groupSize;
    const int octsPerGroup = p.groupSize / 8;
    const __m256i nibble = _mm256_set1_epi32(0x0F);
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint8_t* w = p.packedW + static_cast<size_t>(panel) * (p.k / 8) * 64;
        const float* scales = p.scales + static_cast<size_t>(panel) * groups * 16;
        __m256 y0 = _mm256_setzero_ps(), y1 = _mm256_setzero_ps();
        const float* x = p.x;
        for (int g = 0; g < groups; ++g) {
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
            float xSum = 0.0f;
            for (int o = 0; o < octsPerGroup; ++o, w += 64, x += 8) {
                const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
                const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
                for (int i = 0; i < 8; ++i) {
                    const int shift = (i % 4) * 8 + (i / 4) * 4;
                    const __m256 xi = _mm256_set1_ps(x[i]);
                    const __m256i count = _mm256_set1_epi64x(shift);
                    const __m256 w0 = _mm256_cvtepi32_ps(
                        _mm256_and_si256(_mm256_srl_epi32(v0, _mm256_castsi256_si128(count)), nibble));
                    const __m256 w1 = _mm256_cvtepi32_ps(
                        _mm256_and_si256(_mm256_srl_epi32(v1, _mm256_castsi256_si128(count)), nibble));
                    if (i % 2) {
                        b0 = _mm256_fmadd_ps(w0, xi, b0);
                        b1 = _mm256_fmadd_ps(w1, xi, b1);
                    } else {
                        a0 = _mm256_fmadd_ps(w0, xi, a0);
                        a1 = _mm256_fmadd_ps(w1, xi, a1);
                    }
                    xSum += x[i];
                }
            }
            const __m256 offset = _mm256_set1_ps(8.0f * xSum);
            const __m256 d0 = _mm256_sub_ps(_mm256_add_ps(a0, b0), offset);
            const __m256 d1 = _mm256_sub_ps(_mm256_add_ps(a1, b1), offset);
            y0 = _mm256_fmadd_ps(d0, _mm256_loadu_ps(scales + g * 16), y0);
            y1 = _mm256_fmadd_ps(d1, _mm256_loadu_ps(scales + g * 16 + 8), y1);
        }
        alignas(32) float lanes[16];
        _mm256_store_ps(lanes, y0);
        _mm256_store_ps(lanes + 8, y1);
        const int cols = std::min(16, p.n - panel * 16);
        std::copy(lanes, lanes + cols, p.y + panel * 16);
    }
}

// Several fp32 activation rows (a transformer's tokens): each group of a panel is decoded to
// floats once (16 columns x groupSize, 8 KB at G = 128, in L1) and reused by every row, where the
// one-row kernel decodes the whole matrix again for each row. A row's arithmetic is int4GemvF32Row's in the
// same order (the same a / b accumulators, the +8 offset by the group's activation sum, y += d * scale per
// group), so every row equals what the one-row kernel gives, bit for bit.
void int4GemmF32(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    if (p.m == 1) {
        int4GemvF32Row(p, panelBegin, panelEnd);
        return;
    }
    const int groups = p.k / p.groupSize;
    const int octsPerGroup = p.groupSize / 8;
    const __m256i nibble = _mm256_set1_epi32(0x0F);
    thread_local std::vector<float> decoded; // [k within the group][16 columns]
    thread_local std::vector<float> partial; // [row][16]: y of the panel so far
    thread_local std::vector<float> xSums;   // [row][group]: the activations' sum for the +8 offset
    decoded.resize(static_cast<size_t>(p.groupSize) * 16);
    partial.resize(static_cast<size_t>(std::min(p.m, 32)) * 16);
    // Each row's group sums, added in int4GemvF32Row's order, once for all panels: inside the FMA
    // loop their two serial add chains (4 cycles a step) held it to one FMA per cycle.
    xSums.resize(static_cast<size_t>(p.m) * groups);
    for (int row = 0; row < p.m; ++row)
        for (int g = 0; g < groups; ++g) {
            const float* x = p.x + static_cast<size_t>(row) * p.k + static_cast<size_t>(g) * p.groupSize;
            float sum = 0.0f;
            for (int t = 0; t < p.groupSize; ++t)
                sum += x[t];
            xSums[static_cast<size_t>(row) * groups + g] = sum;
        }
    // Rows r and r2 of one group: int4GemvF32Row's inner loop on decoded weights, the two rows
    // interleaved for eight independent FMA chains (each row's operations in its own order).
    const auto groupDot = [&](const float* x, const float* x2, float xSum, float x2Sum, const float* scales,
                              float* y, float* y2) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
        __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps();
        __m256 e0 = _mm256_setzero_ps(), e1 = _mm256_setzero_ps();
        const float* w = decoded.data();
        for (int t = 0; t < p.groupSize; t += 2, w += 32) {
            const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
            const __m256 w2 = _mm256_loadu_ps(w + 16), w3 = _mm256_loadu_ps(w + 24);
            const __m256 x0 = _mm256_set1_ps(x[t]), x1 = _mm256_set1_ps(x[t + 1]);
            a0 = _mm256_fmadd_ps(w0, x0, a0);
            a1 = _mm256_fmadd_ps(w1, x0, a1);
            b0 = _mm256_fmadd_ps(w2, x1, b0);
            b1 = _mm256_fmadd_ps(w3, x1, b1);
            const __m256 z0 = _mm256_set1_ps(x2[t]), z1 = _mm256_set1_ps(x2[t + 1]);
            c0 = _mm256_fmadd_ps(w0, z0, c0);
            c1 = _mm256_fmadd_ps(w1, z0, c1);
            e0 = _mm256_fmadd_ps(w2, z1, e0);
            e1 = _mm256_fmadd_ps(w3, z1, e1);
        }
        const __m256 s0 = _mm256_loadu_ps(scales), s1 = _mm256_loadu_ps(scales + 8);
        const __m256 offset = _mm256_set1_ps(8.0f * xSum);
        _mm256_storeu_ps(
            y, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_add_ps(a0, b0), offset), s0, _mm256_loadu_ps(y)));
        _mm256_storeu_ps(
            y + 8, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_add_ps(a1, b1), offset), s1, _mm256_loadu_ps(y + 8)));
        if (y2 == y)
            return; // an odd last row ran as its own pair
        const __m256 offset2 = _mm256_set1_ps(8.0f * x2Sum);
        _mm256_storeu_ps(
            y2, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_add_ps(c0, e0), offset2), s0, _mm256_loadu_ps(y2)));
        _mm256_storeu_ps(y2 + 8, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_add_ps(c1, e1), offset2), s1,
                                                 _mm256_loadu_ps(y2 + 8)));
    };
    // Blocks of rows whose activations stay in L2 while every panel of the block is computed.
    constexpr int kInt4Rows = 32;
    for (int first = 0; first < p.m; first += kInt4Rows) {
        const int rows = std::min(kInt4Rows, p.m - first);
        for (int panel = panelBegin; panel < panelEnd; ++panel) {
            const uint8_t* w = p.packedW + static_cast<size_t>(panel) * (p.k / 8) * 64;
            const float* scales = p.scales + static_cast<size_t>(panel) * groups * 16;
            std::fill(partial.begin(), partial.end(), 0.0f);
            for (int g = 0; g < groups; ++g) {
                float* out = decoded.data();
                for (int o = 0; o < octsPerGroup; ++o, w += 64) {
                    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
                    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
                    for (int i = 0; i < 8; ++i, out += 16) {
                        const __m128i count = _mm_cvtsi32_si128((i % 4) * 8 + (i / 4) * 4);
                        _mm256_storeu_ps(
                            out, _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srl_epi32(v0, count), nibble)));
                        _mm256_storeu_ps(out + 8, _mm256_cvtepi32_ps(
                                                      _mm256_and_si256(_mm256_srl_epi32(v1, count), nibble)));
                    }
                }
                const float* x =
                    p.x + static_cast<size_t>(first) * p.k + static_cast<size_t>(g) * p.groupSize;
                for (int row = 0; row < rows; row += 2) {
                    const int second = std::min(row + 1, rows - 1); // the last row twice when odd
                    groupDot(x + static_cast<size_t>(row) * p.k, x + static_cast<size_t>(second) * p.k,
                             xSums[static_cast<size_t>(first + row) * groups + g],
                             xSums[static_cast<size_t>(first + second) * groups + g], scales + g * 16,
                             partial.data() + static_cast<size_t>(row) * 16,
                             partial.data() + static_cast<size_t>(second) * 16);
                }
            }
            const int cols = std::min(16, p.n - panel * 16);
            for (int row = 0; row < rows; ++row)
                std::copy(partial.data() + static_cast<size_t>(row) * 16,
                          partial.data() + static_cast<size_t>(row) * 16 + cols,
                          p.y + static_cast<size_t>(first + row) * p.n + panel * 16);
        }
    }
}

// ---- int4 weight-only GEMV, int8 activations ------------------------------------------------------
// vpmaddubsw is exact here: the unsigned operand is a nibble (w + 8 <= 15) and the signed one an
// activation in [-127, 127], so a pair sum is at most 2 * 15 * 127 = 3810, far from saturation.
// vpmaddwd with ones then adds the pairs into int32 lanes, one per column (4 values of K each).
void int4GemvS8Row(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    const int groups = p.k / p.groupSize;
    const int octsPerGroup = p.groupSize / 8;
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint8_t* w = p.packedW + static_cast<size_t>(panel) * (p.k / 8) * 64;
        const float* scales = p.scales + static_cast<size_t>(panel) * groups * 16;
        __m256 y0 = _mm256_setzero_ps(), y1 = _mm256_setzero_ps();
        const int8_t* x = p.xq;
        for (int g = 0; g < groups; ++g) {
            __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
            for (int o = 0; o < octsPerGroup; ++o, w += 64, x += 8) {
                const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
                const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
                const __m256i xa = _mm256_set1_epi32(load32(x));
                const __m256i xb = _mm256_set1_epi32(load32(x + 4));
                const __m256i s0 = _mm256_add_epi16(
                    _mm256_maddubs_epi16(_mm256_and_si256(v0, low), xa),
                    _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v0, 4), low), xb));
                const __m256i s1 = _mm256_add_epi16(
                    _mm256_maddubs_epi16(_mm256_and_si256(v1, low), xa),
                    _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v1, 4), low), xb));
                // Each int16 now sums 4 products (<= 7620 in magnitude): still exact.
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(s0, ones));
                acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(s1, ones));
            }
            const __m256i offset = _mm256_set1_epi32(8 * p.xSums[g]);
            const __m256 xs = _mm256_set1_ps(p.xScales[g]);
            const __m256 d0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc0, offset));
            const __m256 d1 = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc1, offset));
            y0 = _mm256_fmadd_ps(d0, _mm256_mul_ps(xs, _mm256_loadu_ps(scales + g * 16)), y0);
            y1 = _mm256_fmadd_ps(d1, _mm256_mul_ps(xs, _mm256_loadu_ps(scales + g * 16 + 8)), y1);
        }
        alignas(32) float lanes[16];
        _mm256_store_ps(lanes, y0);
        _mm256_store_ps(lanes + 8, y1);
        const int cols = std::min(16, p.n - panel * 16);
        std::copy(lanes, lanes + cols, p.y + panel * 16);
    }
}

// ---- bf16 GEMM without BF16 instructions ---------------------------------------------------------
// A bf16 value is the top half of a float32: the pair (k, k + 1) of one column in a 32-bit lane
// gives k's float with a 16-bit left shift and k + 1's by masking the low half. Then two FMAs.
// Tile: 4 rows x 16 columns (half a 32-column panel), 8 ymm accumulators.
constexpr int kBf16RowBlock = 4;

template <int R>
__attribute__((always_inline)) inline void bf16Accumulate(int pairs, const uint16_t* a, const uint16_t* b,
                                                          __m256* out) {
    const __m256i highHalf = _mm256_set1_epi32(static_cast<int32_t>(0xFFFF0000u));
    __m256 acc[R][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int q = 0; q < pairs; ++q, b += kBf16PanelWidth * 2, a += kBf16RowBlock * 2) {
        const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
        const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
        const __m256 b0Even = _mm256_castsi256_ps(_mm256_slli_epi32(v0, 16));
        const __m256 b0Odd = _mm256_castsi256_ps(_mm256_and_si256(v0, highHalf));
        const __m256 b1Even = _mm256_castsi256_ps(_mm256_slli_epi32(v1, 16));
        const __m256 b1Odd = _mm256_castsi256_ps(_mm256_and_si256(v1, highHalf));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const __m256i pair = _mm256_set1_epi32(load32(a + 2 * r));
            const __m256 aEven = _mm256_castsi256_ps(_mm256_slli_epi32(pair, 16));
            const __m256 aOdd = _mm256_castsi256_ps(_mm256_and_si256(pair, highHalf));
            acc[r][0] = _mm256_fmadd_ps(aOdd, b0Odd, _mm256_fmadd_ps(aEven, b0Even, acc[r][0]));
            acc[r][1] = _mm256_fmadd_ps(aOdd, b1Odd, _mm256_fmadd_ps(aEven, b1Even, acc[r][1]));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
        _mm256_store_ps(reinterpret_cast<float*>(out + 2 * r), acc[r][0]);
        _mm256_store_ps(reinterpret_cast<float*>(out + 2 * r + 1), acc[r][1]);
    }
}

template <int R>
void bf16Tile(const Bf16GemmProblem& p, const uint16_t* sliver, const uint16_t* panelHalf, int row0, int col0,
              int cols) {
    __m256 stored[R * 2];
    bf16Accumulate<R>(p.kPadded / 2, sliver, panelHalf, stored);
    for (int r = 0; r < R; ++r) {
        alignas(32) float lanes[16];
        _mm256_store_ps(lanes, stored[2 * r]);
        _mm256_store_ps(lanes + 8, stored[2 * r + 1]);
        float* out = p.c + static_cast<size_t>(row0 + r) * p.ldc + col0;
        for (int j = 0; j < cols; ++j)
            out[j] = p.bias ? lanes[j] + p.bias[col0 + j] : lanes[j];
    }
}

void bf16GemmPanels(const Bf16GemmProblem& p, int panelBegin, int panelEnd) {
    using TileFn = void (*)(const Bf16GemmProblem&, const uint16_t*, const uint16_t*, int, int, int);
    static constexpr TileFn tiles[kBf16RowBlock] = {bf16Tile<1>, bf16Tile<2>, bf16Tile<3>, bf16Tile<4>};
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint16_t* b = p.packedB + static_cast<size_t>(panel) * kBf16PanelWidth * p.kPadded;
        for (int half = 0; half < 2; ++half) {
            const int col0 = panel * kBf16PanelWidth + 16 * half;
            const int cols = std::min(16, p.n - col0);
            if (cols <= 0)
                break;
            for (int row0 = 0; row0 < p.m; row0 += kBf16RowBlock) {
                const int rows = std::min(kBf16RowBlock, p.m - row0);
                tiles[rows - 1](p, p.packedA + static_cast<size_t>(row0) * p.kPadded, b + 32 * half, row0,
                                col0, cols);
            }
        }
    }
}

// Several activation rows: one row at a time (the weights of a panel stay in cache between rows).
template <void (*Row)(const Int4GemvProblem&, int, int)>
void int4GemvRows(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    const int groups = p.k / p.groupSize;
    for (int row = 0; row < p.m; ++row) {
        Int4GemvProblem one = p;
        one.m = 1;
        if (p.x)
            one.x = p.x + static_cast<size_t>(row) * p.k;
        if (p.xq) {
            one.xq = p.xq + static_cast<size_t>(row) * p.k;
            one.xScales = p.xScales + static_cast<size_t>(row) * groups;
            one.xSums = p.xSums + static_cast<size_t>(row) * groups;
        }
        one.y = p.y + static_cast<size_t>(row) * p.n;
        Row(one, panelBegin, panelEnd);
    }
}

constexpr KernelTable makeTable() {
    KernelTable t;
    t.chunk = makeChunkKernels();
    t.path = IsaPath::Avx2;
    t.quantizeS8 = quantize<int8_t>;
    t.quantizeU8 = quantize<uint8_t>;
    t.dequantizeS8 = dequantize<int8_t>;
    t.dequantizeU8 = dequantize<uint8_t>;
    t.f32ToF16 = f32ToF16;
    t.f16ToF32 = f16ToF32;
    t.f32ToBf16 = f32ToBf16;
    t.bf16ToF32 = bf16ToF32;
    t.int8Layout = Int8Layout{kPanelWidth, 2, kRowBlock, true};
    t.int8GemmPanels = int8GemmPanels;
    t.requantizeU8 = avx2RequantizeValues<uint8_t>;
    t.requantizeS8 = avx2RequantizeValues<int8_t>;
    t.depthwisePlane = avx2DepthwisePlane;
    t.lookupU8 = avx2LookupU8;
    t.qlinearBinaryU8 = avx2QLinearBinaryU8;
    t.int4GemvF32 = int4GemmF32;
    t.int4GemvS8 = int4GemvRows<int4GemvS8Row>;
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

const KernelTable* avx2KernelTable() {
    // Constant-initialised: building it runs no code of this path, which the processor may lack.
    static constexpr KernelTable table = makeTable();
    return &table;
}

} // namespace quantscope::kernels

#else

namespace quantscope::kernels {
const KernelTable* avx2KernelTable() {
    return nullptr;
}
} // namespace quantscope::kernels

#endif
