#pragma once

#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/KernelTable.h"

#include <climits>
#include <cstdint>

namespace quantscope::kernels {

class ThreadPool;

// The geometry of a depthwise convolution (ONNX Conv / QLinearConv with group = channels): input
// N x C x H x W, output N x (C * channelMultiplier) x outHeight x outWidth; output channel oc reads
// input channel oc / channelMultiplier (so a multiplier of 1 is MobileNet's depthwise 3x3).
struct DepthwiseConvShape {
    int batch = 1, channels = 0, height = 0, width = 0;
    int channelMultiplier = 1;
    int kernelH = 3, kernelW = 3;
    int strideH = 1, strideW = 1;
    int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    int dilationH = 1, dilationW = 1;

    int outChannels() const { return channels * channelMultiplier; }
    // floor((H + pads - dilation * (kernel - 1) - 1) / stride) + 1, as ONNX Conv.
    int outHeight() const {
        return (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }
    int outWidth() const {
        return (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }
};

// u8 depthwise convolution with requantized u8 output, ONNX QLinearConv semantics:
//
//   acc[n][oc][oh][ow] = bias[oc] + sum_{kh, kw} (x[n][ic][ih][iw] - inputZeroPoint) * w[oc][kh][kw]
//   with ic = oc / channelMultiplier, ih = oh * strideH - padTop + kh * dilationH,
//        iw = ow * strideW - padLeft + kw * dilationW; a padded position reads inputZeroPoint (adds 0);
//   y[n][oc][oh][ow] = clamp(multipliers[oc].apply(acc) + outputZeroPoint, lo, hi)
//
// input: N x C x H x W u8 (NCHW, contiguous); weights: [C * channelMultiplier][1][KH][KW] s8,
// symmetric (zero point 0, the QLinearConv weight zero point PyTorch and ORT use for per-channel
// weights); bias: one int32 per output channel (in units of x_scale * w_scale[oc]) or null;
// multipliers: one per output channel (perChannel) or one for all, each x_scale * w_scale / y_scale;
// [lo, hi] is [clampMin, clampMax] intersected with [0, 255] (a fused Relu: clampMin =
// outputZeroPoint); output: N x (C * channelMultiplier) x outHeight x outWidth u8.
// Every path gives the same bytes as the scalar one (AVX2 / AVX-512 vectorise along the output
// width and requantize each vector of sums in registers). With a pool, the N x C output planes are split
// across its threads. Throws Error for a bad shape (non-positive sizes, an empty output, negative pads), a
// zero point or clamp out of range, or missing pointers.
void int8DepthwiseConv(const KernelTable& path, const DepthwiseConvShape& shape, const uint8_t* input,
                       int32_t inputZeroPoint, const int8_t* weights, const int32_t* bias,
                       const FixedPointMultiplier* multipliers, bool perChannel, int32_t outputZeroPoint,
                       uint8_t* output, ThreadPool* pool = nullptr, int32_t clampMin = INT32_MIN,
                       int32_t clampMax = INT32_MAX);

// The same depthwise convolution with a float output (dynamic quantization: the input quantized
// per call with one zero point, the weights symmetric per output channel):
//
//   acc[n][oc][oh][ow] = sum_{kh, kw} (x[n][ic][ih][iw] - inputZeroPoint) * w[oc][kh][kw]  (int32,
//                        exact; a padded position adds 0), indices as above;
//   y[n][oc][oh][ow]   = float(acc) * scales[oc] + (bias ? bias[oc] : 0.0f)
//
// float(acc) rounds to nearest; the multiply and the add round separately (no fused multiply-add),
// so every path gives the same bits. scales (one per output channel, typically x_scale *
// w_scale[oc]) and output (N x (C * channelMultiplier) x outHeight x outWidth floats) are
// required, bias may be null. Throws Error as int8DepthwiseConv does.
void int8DepthwiseConvFloat(const KernelTable& path, const DepthwiseConvShape& shape, const uint8_t* input,
                            int32_t inputZeroPoint, const int8_t* weights, const float* scales,
                            const float* bias, float* output, ThreadPool* pool = nullptr);

// Which path's depthwise kernel runs for `path`.
IsaPath int8DepthwiseConvPath(const KernelTable& path);

} // namespace quantscope::kernels
