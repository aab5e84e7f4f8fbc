#pragma once

// The integer operators of the static pipeline (ONNX Runtime's QOperator format), as plain C++.
// They are the definition the tests compare with and the implementation the model runs until a
// kernel takes an op over; each has a narrow signature so a fast kernel can replace it one for one.
//
// Every quantized activation is stored as one byte per value, a "code" in [0, maxCode] with
// real = (code - zeroPoint) * scale. A signed format is stored shifted by -qmin (int8 q is code
// q + 128, its zero point z + 128), which changes no real value and lets one set of u8 routines
// serve uint8, int8 and narrower per-tensor formats.

#include "quantscope/kernels/FixedPointMultiplier.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace quantscope {

struct QuantLevels {
    float scale = 1.0f;
    int32_t zeroPoint = 0; // as a code (shifted by -qmin)
    int32_t maxCode = 255; // qmax - qmin

    float dequantize(int32_t code) const { return static_cast<float>(code - zeroPoint) * scale; }
    // IntegerQuantizer's rule: clamp(round_half_even(x * (1 / scale)) + zeroPoint, 0, maxCode);
    // NaN maps to the zero point.
    uint8_t quantize(float x) const;
    bool operator==(const QuantLevels&) const = default;
};

// One output code per input code.
using CodeTable = std::array<uint8_t, 256>;

// table[q] = out.quantize(f(in.dequantize(q))): any element-wise function of one quantized input
// (Relu, Clip, Sigmoid, Tanh, HardSwish, Gelu ... and plain requantization, f = identity), as
// ONNX Runtime's QLinearSigmoid / QLinearLeakyRelu and QLinearConcat build their tables.
CodeTable makeCodeTable(const QuantLevels& in, const QuantLevels& out, const std::function<float(float)>& f);
void applyCodeTable(const CodeTable& table, const uint8_t* x, std::size_t count, uint8_t* y);

// QLinearAdd / QLinearMul (com.microsoft, as ONNX Runtime's MLAS computes them), element i of y
// from element aIndex[i] of a and bIndex[i] of b (null index: i itself, i.e. no broadcasting):
//   add: y = clamp(round_half_even(sa/sy * (a - za) + sb/sy * (b - zb)) + zy)
//   mul: y = clamp(round_half_even(sa*sb/sy * ((a - za) * (b - zb))) + zy)
// with the ratios rounded to float once. Against dequantize-add-quantize in float the result can
// differ by one level when the exact value lies within float rounding of a half level.
void qlinearAdd(const uint8_t* a, const QuantLevels& la, const int64_t* aIndex, const uint8_t* b,
                const QuantLevels& lb, const int64_t* bIndex, std::size_t count, uint8_t* y,
                const QuantLevels& ly);
void qlinearMul(const uint8_t* a, const QuantLevels& la, const int64_t* aIndex, const uint8_t* b,
                const QuantLevels& lb, const int64_t* bIndex, std::size_t count, uint8_t* y,
                const QuantLevels& ly);

// A 2-D window over `planes` planes of height x width (pools and depthwise convolution).
struct Window2d {
    int64_t planes = 0, height = 0, width = 0;
    int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
    int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    int64_t outH = 0, outW = 0;
};

// QLinearAveragePool / QLinearGlobalAveragePool: the integer sum of (x - zx) over the window,
// then y = clamp(round_half_even(sum * (sx / (sy * count))) + zy), the ratio in float.
// `count` is the window's cells inside the image, or with countIncludePad the cells inside the
// padded image (ONNX's count_include_pad; the extra cells ceil_mode adds never count).
void qlinearAveragePool(const uint8_t* x, const QuantLevels& lx, const Window2d& window, bool countIncludePad,
                        uint8_t* y, const QuantLevels& ly);
void qlinearGlobalAveragePool(const uint8_t* x, const QuantLevels& lx, int64_t planes, int64_t spatial,
                              uint8_t* y, const QuantLevels& ly);

// MaxPool on codes: the largest code in each window (padding ignored), which is the code of the
// largest value. Returns false, leaving y unspecified, when a window lies wholly in the padding
// (fp32 MaxPool gives -inf there, which no code holds).
bool maxPoolU8(const uint8_t* x, const Window2d& window, uint8_t* y);

// The requantizing epilogue of QLinearConv / QLinearMatMul with integer-only arithmetic:
// y[i][c] = clamp(multipliers[c].apply(acc[i][c] + bias[c]) + zy, lo, hi) for an M x N int32
// accumulator (bias may be null). kernels::int8GemmRequantizeU8 computes the same with lo = 0,
// hi = 255. The fixed-point result is within one level of round(real * acc) (see
// FixedPointMultiplier).
void requantizeAccumulators(const int32_t* acc, int64_t m, int64_t n,
                            const kernels::FixedPointMultiplier* multipliers, const int32_t* bias, int32_t zy,
                            int32_t lo, int32_t hi, uint8_t* y);

// Depthwise QLinearConv (group = channels, one filter per channel) over NCHW codes, planes =
// batch * channels: acc = sum over the window of (x - zx) * (w[c] - wzp[c]) with padding read as
// zx (a real zero), then the epilogue above. weights: channels x kernelH x kernelW.
void depthwiseConvU8(const uint8_t* x, int32_t zx, const Window2d& window, int64_t channels,
                     const int8_t* weights, const int32_t* weightZeroPoints, const int32_t* bias,
                     const kernels::FixedPointMultiplier* multipliers, int32_t zy, int32_t lo, int32_t hi,
                     uint8_t* y);

} // namespace quantscope
