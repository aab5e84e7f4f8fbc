#include "quantscope/model/IntegerOps.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace quantscope {
namespace {

uint8_t clampCode(float level, int32_t zeroPoint, int32_t lo, int32_t hi) {
    const float r = level + static_cast<float>(zeroPoint);
    if (!(r > static_cast<float>(lo))) // NaN included
        return static_cast<uint8_t>(std::isnan(r) ? std::clamp(zeroPoint, lo, hi) : lo);
    if (r > static_cast<float>(hi))
        return static_cast<uint8_t>(hi);
    return static_cast<uint8_t>(r);
}

template <typename Combine>
void qlinearBinary(const uint8_t* a, const int64_t* aIndex, const uint8_t* b, const int64_t* bIndex,
                   std::size_t count, uint8_t* y, const QuantLevels& ly, Combine combine) {
    for (std::size_t i = 0; i < count; ++i) {
        const int32_t qa = a[aIndex ? static_cast<std::size_t>(aIndex[i]) : i];
        const int32_t qb = b[bIndex ? static_cast<std::size_t>(bIndex[i]) : i];
        y[i] = clampCode(std::nearbyint(combine(qa, qb)), ly.zeroPoint, 0, ly.maxCode);
    }
}

} // namespace

uint8_t QuantLevels::quantize(float x) const {
    if (std::isnan(x))
        return static_cast<uint8_t>(zeroPoint);
    return clampCode(std::nearbyint(x * (1.0f / scale)), zeroPoint, 0, maxCode);
}

CodeTable makeCodeTable(const QuantLevels& in, const QuantLevels& out, const std::function<float(float)>& f) {
    CodeTable table{};
    for (int32_t q = 0; q < 256; ++q)
        table[static_cast<std::size_t>(q)] = out.quantize(f(in.dequantize(std::min(q, in.maxCode))));
    return table;
}

void applyCodeTable(const CodeTable& table, const uint8_t* x, std::size_t count, uint8_t* y) {
    for (std::size_t i = 0; i < count; ++i)
        y[i] = table[x[i]];
}

void qlinearAdd(const uint8_t* a, const QuantLevels& la, const int64_t* aIndex, const uint8_t* b,
                const QuantLevels& lb, const int64_t* bIndex, std::size_t count, uint8_t* y,
                const QuantLevels& ly) {
    const float ratioA = la.scale / ly.scale, ratioB = lb.scale / ly.scale;
    // Same shapes (a residual connection): the same float steps in a loop the compiler vectorises.
    // round_half_even(v) is (v + 1.5 * 2^23) - 1.5 * 2^23 in float when |v| < 2^22, which the
    // bound on the ratios guarantees (|a - za|, |b - zb| <= 255); the clamp to the codes then
    // equals clampCode's (no NaN can arise from finite ratios).
    constexpr float kRoundingMagic = 12582912.0f;
    if (!aIndex && !bIndex && std::abs(ratioA) < 8192.0f && std::abs(ratioB) < 8192.0f) {
        const int32_t za = la.zeroPoint, zb = lb.zeroPoint;
        const float zy = static_cast<float>(ly.zeroPoint), maxCode = static_cast<float>(ly.maxCode);
        for (std::size_t i = 0; i < count; ++i) {
            const float va = ratioA * static_cast<float>(static_cast<int32_t>(a[i]) - za);
            const float vb = ratioB * static_cast<float>(static_cast<int32_t>(b[i]) - zb);
            const float rounded = (va + vb + kRoundingMagic) - kRoundingMagic;
            const float code = std::min(std::max(rounded + zy, 0.0f), maxCode);
            y[i] = static_cast<uint8_t>(static_cast<int32_t>(code));
        }
        return;
    }
    qlinearBinary(a, aIndex, b, bIndex, count, y, ly, [&](int32_t qa, int32_t qb) {
        return ratioA * static_cast<float>(qa - la.zeroPoint) +
               ratioB * static_cast<float>(qb - lb.zeroPoint);
    });
}

void qlinearMul(const uint8_t* a, const QuantLevels& la, const int64_t* aIndex, const uint8_t* b,
                const QuantLevels& lb, const int64_t* bIndex, std::size_t count, uint8_t* y,
                const QuantLevels& ly) {
    const float ratio = la.scale * lb.scale / ly.scale;
    qlinearBinary(a, aIndex, b, bIndex, count, y, ly, [&](int32_t qa, int32_t qb) {
        return ratio * static_cast<float>((qa - la.zeroPoint) * (qb - lb.zeroPoint));
    });
}

void qlinearAveragePool(const uint8_t* x, const QuantLevels& lx, const Window2d& w, bool countIncludePad,
                        uint8_t* y, const QuantLevels& ly) {
    for (int64_t plane = 0; plane < w.planes; ++plane) {
        const uint8_t* src = x + plane * w.height * w.width;
        uint8_t* dst = y + plane * w.outH * w.outW;
        for (int64_t oy = 0; oy < w.outH; ++oy) {
            const int64_t y0 = oy * w.strideH - w.padTop;
            for (int64_t ox = 0; ox < w.outW; ++ox) {
                const int64_t x0 = ox * w.strideW - w.padLeft;
                int64_t sum = 0, real = 0;
                for (int64_t iy = std::max<int64_t>(y0, 0); iy < std::min(y0 + w.kernelH, w.height); ++iy) {
                    for (int64_t ix = std::max<int64_t>(x0, 0); ix < std::min(x0 + w.kernelW, w.width);
                         ++ix) {
                        sum += src[iy * w.width + ix] - lx.zeroPoint;
                        ++real;
                    }
                }
                int64_t count = real;
                if (countIncludePad) // padded cells are real zeros: they add nothing to the sum
                    count = (std::min(y0 + w.kernelH, w.height + w.padBottom) - y0) *
                            (std::min(x0 + w.kernelW, w.width + w.padRight) - x0);
                const float ratio = count > 0 ? lx.scale / (ly.scale * static_cast<float>(count)) : 0.0f;
                dst[oy * w.outW + ox] =
                    clampCode(std::nearbyint(static_cast<float>(sum) * ratio), ly.zeroPoint, 0, ly.maxCode);
            }
        }
    }
}

void qlinearGlobalAveragePool(const uint8_t* x, const QuantLevels& lx, int64_t planes, int64_t spatial,
                              uint8_t* y, const QuantLevels& ly) {
    const float ratio = spatial > 0 ? lx.scale / (ly.scale * static_cast<float>(spatial)) : 0.0f;
    for (int64_t plane = 0; plane < planes; ++plane) {
        const uint8_t* src = x + plane * spatial;
        int64_t sum = 0;
        for (int64_t s = 0; s < spatial; ++s)
            sum += src[s];
        sum -= spatial * lx.zeroPoint;
        y[plane] = clampCode(std::nearbyint(static_cast<float>(sum) * ratio), ly.zeroPoint, 0, ly.maxCode);
    }
}

bool maxPoolU8(const uint8_t* x, const Window2d& w, uint8_t* y) {
    // Per output row: the element-wise largest of its window's input rows (a contiguous loop the
    // compiler vectorises), then the largest of each window's columns of that row.
    std::vector<uint8_t> rowMax(static_cast<std::size_t>(w.width));
    // Output columns whose window lies inside the row need no column checks.
    const int64_t firstInside = std::clamp<int64_t>((w.padLeft + w.strideW - 1) / w.strideW, 0, w.outW);
    int64_t endInside = firstInside;
    while (endInside < w.outW && endInside * w.strideW - w.padLeft + (w.kernelW - 1) * w.dilationW < w.width)
        ++endInside;
    for (int64_t plane = 0; plane < w.planes; ++plane) {
        const uint8_t* src = x + plane * w.height * w.width;
        uint8_t* dst = y + plane * w.outH * w.outW;
        for (int64_t oy = 0; oy < w.outH; ++oy, dst += w.outW) {
            bool any = false;
            for (int64_t ki = 0; ki < w.kernelH; ++ki) {
                const int64_t iy = oy * w.strideH - w.padTop + ki * w.dilationH;
                if (iy < 0 || iy >= w.height)
                    continue;
                const uint8_t* line = src + iy * w.width;
                if (!any)
                    std::copy(line, line + w.width, rowMax.begin());
                else
                    for (int64_t ix = 0; ix < w.width; ++ix)
                        rowMax[static_cast<std::size_t>(ix)] =
                            std::max(rowMax[static_cast<std::size_t>(ix)], line[ix]);
                any = true;
            }
            if (!any)
                return false;
            for (int64_t ox = 0; ox < w.outW; ++ox) {
                const int64_t x0 = ox * w.strideW - w.padLeft;
                int32_t best = -1;
                if (ox >= firstInside && ox < endInside) {
                    for (int64_t kj = 0; kj < w.kernelW; ++kj)
                        best =
                            std::max<int32_t>(best, rowMax[static_cast<std::size_t>(x0 + kj * w.dilationW)]);
                } else {
                    for (int64_t kj = 0; kj < w.kernelW; ++kj) {
                        const int64_t ix = x0 + kj * w.dilationW;
                        if (ix >= 0 && ix < w.width)
                            best = std::max<int32_t>(best, rowMax[static_cast<std::size_t>(ix)]);
                    }
                }
                if (best < 0)
                    return false;
                dst[ox] = static_cast<uint8_t>(best);
            }
        }
    }
    return true;
}

void requantizeAccumulators(const int32_t* acc, int64_t m, int64_t n,
                            const kernels::FixedPointMultiplier* multipliers, const int32_t* bias, int32_t zy,
                            int32_t lo, int32_t hi, uint8_t* y) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t c = 0; c < n; ++c) {
            // acc + bias cannot overflow: the planner keeps |bias| below 2^30 and |acc| <= 255 * 255 * K.
            const int32_t level = multipliers[c].apply(acc[i * n + c] + (bias ? bias[c] : 0));
            const int64_t code = static_cast<int64_t>(level) + zy;
            y[i * n + c] = static_cast<uint8_t>(std::clamp<int64_t>(code, lo, hi));
        }
    }
}

void depthwiseConvU8(const uint8_t* x, int32_t zx, const Window2d& w, int64_t channels, const int8_t* weights,
                     const int32_t* weightZeroPoints, const int32_t* bias,
                     const kernels::FixedPointMultiplier* multipliers, int32_t zy, int32_t lo, int32_t hi,
                     uint8_t* y) {
    const int64_t taps = w.kernelH * w.kernelW;
    for (int64_t plane = 0; plane < w.planes; ++plane) {
        const int64_t c = plane % channels;
        const uint8_t* src = x + plane * w.height * w.width;
        const int8_t* filter = weights + c * taps;
        uint8_t* dst = y + plane * w.outH * w.outW;
        for (int64_t oy = 0; oy < w.outH; ++oy) {
            for (int64_t ox = 0; ox < w.outW; ++ox) {
                int32_t acc = 0;
                for (int64_t ki = 0; ki < w.kernelH; ++ki) {
                    const int64_t iy = oy * w.strideH - w.padTop + ki * w.dilationH;
                    if (iy < 0 || iy >= w.height)
                        continue; // padding: x - zx = 0
                    for (int64_t kj = 0; kj < w.kernelW; ++kj) {
                        const int64_t ix = ox * w.strideW - w.padLeft + kj * w.dilationW;
                        if (ix < 0 || ix >= w.width)
                            continue;
                        acc += (static_cast<int32_t>(src[iy * w.width + ix]) - zx) *
                               (static_cast<int32_t>(filter[ki * w.kernelW + kj]) - weightZeroPoints[c]);
                    }
                }
                requantizeAccumulators(&acc, 1, 1, multipliers + c, bias ? bias + c : nullptr, zy, lo, hi,
                                       dst + oy * w.outW + ox);
            }
        }
    }
}

} // namespace quantscope
