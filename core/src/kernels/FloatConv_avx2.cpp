// The AVX2 fp32 convolution kernels of FloatConvKernels.h, compiled with the AVX2 flags on this
// file only. Every output is the same float FMA chain, bias then every tap row by row (padding as
// zeros), so borders and tails agree with the interior exactly.
#include "FloatConvAvx2.h"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

// The plane copied into a zero border wide enough that every tap of every output, and every
// lane of the last (partial) vector of a row, reads inside it: the kernel then runs one loop with
// no bounds checks, padding included as the zeros ONNX defines it to be.
struct PaddedPlane {
    const float* data = nullptr;
    long width = 0; // of a padded row
};

PaddedPlane padPlane(const FloatDepthwisePlane& p, int stride) {
    // The border is zeroed once per geometry: the planes of a layer only overwrite the inside.
    thread_local std::vector<float> buffer;
    thread_local std::vector<long> geometry;
    const long vectorCols = (static_cast<long>(p.outW) + 7) / 8 * 8;
    const long rows = std::max<long>(static_cast<long>(p.height) + p.padTop,
                                     static_cast<long>(p.outH - 1) * p.strideH +
                                         static_cast<long>(p.kernelH - 1) * p.dilationH + 1);
    const long width =
        std::max<long>(static_cast<long>(p.width) + p.padLeft,
                       (vectorCols - 1) * stride + static_cast<long>(p.kernelW - 1) * p.dilationW + 16);
    const std::vector<long> current{rows, width, p.height, p.width, p.padTop, p.padLeft};
    if (current != geometry) {
        buffer.assign(static_cast<size_t>(rows * width), 0.0f);
        geometry = current;
    }
    for (long r = 0; r < p.height; ++r)
        std::copy(p.x + r * p.width, p.x + (r + 1) * p.width,
                  buffer.data() + (r + p.padTop) * width + p.padLeft);
    return {buffer.data(), width};
}

// `Blocks` vectors of 8 outputs of one row from column ox (independent FMA chains hide the FMA
// latency): bias, then the taps row by row.
template <int Stride, int Blocks>
inline void outputBlocks(const FloatDepthwisePlane& p, const PaddedPlane& padded, long rowStart, int ox,
                         __m256 (&acc)[Blocks]) {
    const __m256 bias = _mm256_set1_ps(p.bias);
    for (int b = 0; b < Blocks; ++b)
        acc[b] = bias;
    for (int kh = 0; kh < p.kernelH; ++kh) {
        const float* line = padded.data + (rowStart + static_cast<long>(kh) * p.dilationH) * padded.width +
                            static_cast<long>(ox) * Stride;
        const float* taps = p.w + kh * p.kernelW;
        for (int kw = 0; kw < p.kernelW; ++kw) {
            const __m256 weight = _mm256_broadcast_ss(taps + kw);
            const float* at = line + static_cast<long>(kw) * p.dilationW;
            for (int b = 0; b < Blocks; ++b)
                acc[b] = _mm256_fmadd_ps(loadStrided<Stride>(at + 8 * Stride * b), weight, acc[b]);
        }
    }
}

template <int Stride> void depthwiseRows(const FloatDepthwisePlane& p) {
    const ClampLanes clamp(p.clamp);
    const PaddedPlane padded = padPlane(p, Stride);
    const int rest = p.outW % 8;
    alignas(32) int32_t maskLanes[8];
    for (int i = 0; i < 8; ++i)
        maskLanes[i] = i < rest ? -1 : 0;
    const __m256i lastMask = _mm256_load_si256(reinterpret_cast<const __m256i*>(maskLanes));
    for (int oy = 0; oy < p.outH; ++oy) {
        const long rowStart = static_cast<long>(oy) * p.strideH;
        float* out = p.y + static_cast<size_t>(oy) * p.outW;
        int ox = 0;
        for (; ox + 32 <= p.outW; ox += 32) {
            __m256 acc[4];
            outputBlocks<Stride, 4>(p, padded, rowStart, ox, acc);
            for (int b = 0; b < 4; ++b)
                _mm256_storeu_ps(out + ox + 8 * b, clamp.apply(acc[b]));
        }
        for (; ox + 8 <= p.outW; ox += 8) {
            __m256 acc[1];
            outputBlocks<Stride, 1>(p, padded, rowStart, ox, acc);
            _mm256_storeu_ps(out + ox, clamp.apply(acc[0]));
        }
        if (ox < p.outW) {
            __m256 acc[1];
            outputBlocks<Stride, 1>(p, padded, rowStart, ox, acc);
            _mm256_maskstore_ps(out + ox, lastMask, clamp.apply(acc[0]));
        }
    }
}

// Other strides: one output at a time over the padded plane, the same FMA chain.
void depthwiseAnyStride(const FloatDepthwisePlane& p) {
    const PaddedPlane padded = padPlane(p, p.strideW);
    for (int oy = 0; oy < p.outH; ++oy) {
        for (int ox = 0; ox < p.outW; ++ox) {
            float sum = p.bias;
            for (int kh = 0; kh < p.kernelH; ++kh) {
                const float* line =
                    padded.data +
                    (static_cast<long>(oy) * p.strideH + static_cast<long>(kh) * p.dilationH) * padded.width +
                    static_cast<long>(ox) * p.strideW;
                for (int kw = 0; kw < p.kernelW; ++kw)
                    sum = std::fma(line[static_cast<long>(kw) * p.dilationW], p.w[kh * p.kernelW + kw], sum);
            }
            p.y[static_cast<size_t>(oy) * p.outW + ox] = clampOne(sum, p.clamp);
        }
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
