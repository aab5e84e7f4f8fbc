#pragma once

#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/Int8ConvHelpers.h"
#include "quantscope/kernels/PackedInt8Weights.h"

#include <climits>
#include <cstdint>
#include <vector>

namespace quantscope::kernels {

class ThreadPool;

// ONNX weights [OC][C][KH][KW] reordered to [OC][KH][KW][C]: the K order in which one window of
// an NHWC image lies in KH runs of KW * C consecutive bytes. Pack the result once (as an OC x
// KH*KW*C PackedInt8Weights) for int8ConvRequantizeU8.
std::vector<int8_t> convWeightsToHwc(const int8_t* weights, int outChannels, int channels, int kernelH,
                                     int kernelW);

// A regular (one group) QLinearConv of `batch` NCHW u8 images, requantized to NCHW u8 codes:
//   y[n][o][p] = clamp(multipliers[o].apply(sum_k (x_k - inputZeroPoint)(w[o][k] - zw) + bias[o])
//                      + outZeroPoint, lo, hi)
// over the window of output pixel p (padding reads inputZeroPoint, so it adds 0), with [lo, hi]
// = [clampMin, clampMax] intersected with [0, 255] as in int8GemmRequantizeU8. `weights` are
// convWeightsToHwc's order packed for `path` (K = KH * KW * C, zero point zw); one multiplier, or
// OC when perChannel; bias may be null.
//
// The same bytes as im2rowU8 + int8GemmRequantizeU8 + transposeU8 (integer sums do not depend
// on their order), without the im2col matrix: the input is turned to NHWC once, and the output
// pixels are cut into tiles of a few dozen rows whose window rows (KH copies of KW * C bytes
// each, none at all for a 1 x 1 stride-1 convolution) stay in cache while the GEMM reads them;
// each tile's pixels x channels result is transposed straight into its NCHW planes. On the AVX2
// layout the gather writes the GEMM's int16 rows and row sums itself (no second packing pass);
// there a kernel larger than 1 x 1 without dilation along W gathers nothing at all: the batch is
// copied once into a padded int16 NHWC image (the border holding the zero point) and the GEMM
// reads each window in place as KH runs of KW * C values (an odd run is read one value longer,
// against an added weight equal to the weights' zero point, so it adds nothing).
// With a pool, threads take whole tiles one at a time; with fewer than 16 register tiles of
// pixels per thread, one tile whose GEMM splits the weight panels instead. Either way every
// output byte is computed exactly as by one thread.
// A 1 x 1 stride-1 unpadded convolution with weights of zero point 0, on a path with a direct
// NCHW kernel (KernelTable::pointwiseConvU8, AVX-512), skips all of this: each image is already
// the GEMM W (OC x C) * X (C x HW), computed on the NCHW codes with pixels as vector lanes; the
// same bytes again.
// Throws Error for a bad geometry, a K that does not match, or zero points outside [0, 255].
void int8ConvRequantizeU8(const KernelTable& path, const Conv2dGeometry& geometry, int batch,
                          const uint8_t* input, int32_t inputZeroPoint, const PackedInt8Weights& weights,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, uint8_t* output, ThreadPool* pool = nullptr,
                          int32_t clampMin = INT32_MIN, int32_t clampMax = INT32_MAX);

// The same convolution with a float output, for dynamic quantization: image n of the batch has
// its own input zero point inputZeroPoints[n] in [0, 255] and scale inputScales[n], and
//   y[n][o][p] = float(acc) * (inputScales[n] * weightScales[o]) + bias[o]
//   acc = sum_k (x_k - inputZeroPoints[n])(w[o][k] - zw)
// over the window of output pixel p (padding reads the image's zero point), NCHW float output.
// Exactly this float arithmetic, in this order (the product of the scales first, then multiply,
// then add; 0.0f is added when bias is null), so results equal the im2row route's bit for bit.
// weightScales holds one value, or OC when perChannelScales. The weights, tiles and threads are
// as in int8ConvRequantizeU8, whose tile loop this shares: the GEMM writes int32 accumulators
// and each tile is dequantized as it is transposed into the NCHW planes.
// Throws Error for a bad geometry, a K that does not match, or zero points outside [0, 255].
void int8ConvDequantize(const KernelTable& path, const Conv2dGeometry& geometry, int batch,
                        const uint8_t* input, const int32_t* inputZeroPoints, const float* inputScales,
                        const PackedInt8Weights& weights, const float* weightScales, bool perChannelScales,
                        const float* bias, float* output, ThreadPool* pool = nullptr);

} // namespace quantscope::kernels
