// The AVX2 fp32 convolution kernels of FloatConvKernels.h, compiled with the AVX2 flags on this
// file only. Every output, vector lane or scalar border, is the same float FMA chain: bias, then
// the taps inside the image row by row (padding skipped), so borders and tails agree with the
// interior exactly.
#include "FloatConvAvx2.h"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>

namespace quantscope::kernels::avx2conv {
namespace {

// The clamp on 8 lanes, as FloatClamp defines it: _mm256_max_ps(a, b) is a > b ? a : b and
// _mm256_min_ps(a, b) is a < b ? a : b, so the operand order gives each rule's NaN and -0.
struct ClampLanes {
    __m256 low, high;
    bool reluRule;

    explicit ClampLanes(const FloatClamp& c)
        : low(_mm256_set1_ps(c.low)), high(_mm256_set1_ps(c.high)), reluRule(c.reluRule) {}

    __m256 apply(__m256 v) const {
        const __m256 t = reluRule ? _mm256_max_ps(v, low) : _mm256_max_ps(low, v);
        return _mm256_min_ps(high, t);
    }
};

inline float clampOne(float v, const FloatClamp& c) {
    const float t = c.reluRule ? (v > c.low ? v : c.low) : (v < c.low ? c.low : v);
    return c.high < t ? c.high : t;
}

// 8 values x[0], x[stride], ..., x[7 * stride] for stride 1 or 2 (stride 2 reads x[0..15]).
template <int Stride> inline __m256 loadStrided(const float* x) {
    if constexpr (Stride == 1) {
        return _mm256_loadu_ps(x);
    } else {
        const __m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);
        // [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6]
        const __m256 evens = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0)));
    }
}

// One output of row `oy` at column ox, any position (padding checked per tap).
inline float outputAt(const FloatDepthwisePlane& p, int firstTapRow, int lastTapRow, int oy, int ox) {
    float sum = p.bias;
    const long rowBase = static_cast<long>(oy) * p.strideH - p.padTop;
    const long colBase = static_cast<long>(ox) * p.strideW - p.padLeft;
    for (int kh = firstTapRow; kh < lastTapRow; ++kh) {
        const float* line = p.x + (rowBase + static_cast<long>(kh) * p.dilationH) * p.width;
        for (int kw = 0; kw < p.kernelW; ++kw) {
            const long ix = colBase + static_cast<long>(kw) * p.dilationW;
            if (ix >= 0 && ix < p.width)
                sum = std::fma(line[ix], p.w[kh * p.kernelW + kw], sum);
        }
    }
    return clampOne(sum, p.clamp);
}

// Columns [begin, end) of one output row whose taps all lie inside the image row, `Blocks`
// vectors of 8 at a time (independent FMA chains hide the FMA latency).
template <int Stride, int Blocks>
int interiorColumns(const FloatDepthwisePlane& p, const ClampLanes& clamp, int firstTapRow, int lastTapRow,
                    int oy, int begin, int end, float* out) {
    const long rowBase = static_cast<long>(oy) * p.strideH - p.padTop;
    const __m256 bias = _mm256_set1_ps(p.bias);
    int ox = begin;
    for (; ox + 8 * Blocks <= end; ox += 8 * Blocks) {
        __m256 acc[Blocks];
        for (int b = 0; b < Blocks; ++b)
            acc[b] = bias;
        const long colBase = static_cast<long>(ox) * Stride - p.padLeft;
        for (int kh = firstTapRow; kh < lastTapRow; ++kh) {
            const float* line = p.x + (rowBase + static_cast<long>(kh) * p.dilationH) * p.width + colBase;
            const float* taps = p.w + kh * p.kernelW;
            for (int kw = 0; kw < p.kernelW; ++kw) {
                const __m256 weight = _mm256_broadcast_ss(taps + kw);
                const float* at = line + static_cast<long>(kw) * p.dilationW;
                for (int b = 0; b < Blocks; ++b)
                    acc[b] = _mm256_fmadd_ps(loadStrided<Stride>(at + 8 * Stride * b), weight, acc[b]);
            }
        }
        for (int b = 0; b < Blocks; ++b)
            _mm256_storeu_ps(out + ox + 8 * b, clamp.apply(acc[b]));
    }
    return ox;
}

template <int Stride> void depthwiseRows(const FloatDepthwisePlane& p) {
    const ClampLanes clamp(p.clamp);
    // Columns whose every tap is inside the row: ox * Stride - padLeft >= 0 and the last value a
    // vector load touches, (ox + 7) * Stride + (Stride - 1) - padLeft + (kernelW - 1) * dilationW,
    // is below width (stride 2 loads one value past its last tap).
    const long reach = static_cast<long>(p.kernelW - 1) * p.dilationW + (Stride - 1) - p.padLeft;
    const int begin = static_cast<int>(std::clamp<long>((p.padLeft + Stride - 1) / Stride, 0, p.outW));
    const long lastStart = static_cast<long>(p.width) - 1 - reach; // ox * Stride <= lastStart
    const int end = static_cast<int>(
        std::max<long>(begin, std::min<long>(p.outW, lastStart < 0 ? 0 : lastStart / Stride + 1)));
    for (int oy = 0; oy < p.outH; ++oy) {
        // Tap rows inside the image: rowBase + kh * dilationH in [0, height).
        const long rowBase = static_cast<long>(oy) * p.strideH - p.padTop;
        int firstTapRow = 0, lastTapRow = p.kernelH;
        while (firstTapRow < p.kernelH && rowBase + static_cast<long>(firstTapRow) * p.dilationH < 0)
            ++firstTapRow;
        while (lastTapRow > firstTapRow &&
               rowBase + static_cast<long>(lastTapRow - 1) * p.dilationH >= p.height)
            --lastTapRow;
        float* out = p.y + static_cast<size_t>(oy) * p.outW;
        for (int ox = 0; ox < begin; ++ox)
            out[ox] = outputAt(p, firstTapRow, lastTapRow, oy, ox);
        int ox = interiorColumns<Stride, 4>(p, clamp, firstTapRow, lastTapRow, oy, begin, end, out);
        ox = interiorColumns<Stride, 1>(p, clamp, firstTapRow, lastTapRow, oy, ox, end, out);
        for (; ox < p.outW; ++ox)
            out[ox] = outputAt(p, firstTapRow, lastTapRow, oy, ox);
    }
}

void depthwiseAnyStride(const FloatDepthwisePlane& p) {
    for (int oy = 0; oy < p.outH; ++oy) {
        const long rowBase = static_cast<long>(oy) * p.strideH - p.padTop;
        int firstTapRow = 0, lastTapRow = p.kernelH;
        while (firstTapRow < p.kernelH && rowBase + static_cast<long>(firstTapRow) * p.dilationH < 0)
            ++firstTapRow;
        while (lastTapRow > firstTapRow &&
               rowBase + static_cast<long>(lastTapRow - 1) * p.dilationH >= p.height)
            --lastTapRow;
        for (int ox = 0; ox < p.outW; ++ox)
            p.y[static_cast<size_t>(oy) * p.outW + ox] = outputAt(p, firstTapRow, lastTapRow, oy, ox);
    }
}

} // namespace

void depthwisePlane(const FloatDepthwisePlane& plane) {
    if (plane.strideW == 1)
        depthwiseRows<1>(plane);
    else if (plane.strideW == 2)
        depthwiseRows<2>(plane);
    else
        depthwiseAnyStride(plane);
}

void clampValues(float* y, size_t count, const FloatClamp& c) {
    const ClampLanes clamp(c);
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(y + i, clamp.apply(_mm256_loadu_ps(y + i)));
    for (; i < count; ++i)
        y[i] = clampOne(y[i], c);
}

} // namespace quantscope::kernels::avx2conv

#endif
