#pragma once

#include <cstddef>
#include <cstdint>

namespace quantscope::kernels {

// The geometry of a 2-D convolution over one image of `channels` planes (for a grouped
// convolution: one group's channels, the input pointer at the group's first plane).
struct Conv2dGeometry {
    int channels = 0, height = 0, width = 0;
    int kernelH = 1, kernelW = 1;
    int strideH = 1, strideW = 1;
    int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    int dilationH = 1, dilationW = 1;

    // floor((H + pads - dilation * (kernel - 1) - 1) / stride) + 1, as ONNX Conv.
    int outHeight() const {
        return (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }
    int outWidth() const {
        return (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }
    // The GEMM's M (output pixels) and K (one patch).
    int rows() const { return outHeight() * outWidth(); }
    int patch() const { return channels * kernelH * kernelW; }
};

// Throws Error("int8 im2col", ...) for a bad geometry: sizes, strides or dilations outside
// [1, 2^24], pads outside [0, 65536], a kernel larger than the padded input, or more than 2^40
// im2col bytes.
void checkConv2dGeometry(const Conv2dGeometry& geometry);

// im2col for the int8 GEMM (one row per output pixel): rows[(oh * outW + ow) * K + (c * KH + kh) * KW + kw]
// = x[c][ih][iw] with ih = oh * strideH - padTop + kh * dilationH, iw likewise, or zeroPoint where
// (ih, iw) falls in the padding (ONNX QLinearConv: padding is the input zero point, so it adds 0).
// The column order matches ONNX weights [OC][C][KH][KW] flattened to OC x K (PackedInt8Weights'
// N x K), so Conv = im2rowU8 + int8GemmRequantizeU8 + transposeU8 into NCHW. input is C x H x W
// u8; rows has rows() x patch() bytes. A 1 x 1, stride-1, unpadded convolution is a transpose.
// Throws Error for a bad geometry (non-positive sizes, negative pads, an empty output).
void im2rowU8(const Conv2dGeometry& geometry, const uint8_t* input, uint8_t zeroPoint, uint8_t* rows);

// dst[c][r] = src[r][c] for a rows x cols byte matrix (row-major): a GEMM's M x N result (one row
// per output pixel) into N planes of M (NCHW). Blocked 16 x 16 (SSE2 byte shuffles where the
// processor has them), so both sides stream through the cache.
void transposeU8(const uint8_t* src, int rows, int cols, uint8_t* dst);
// The same with row strides: dst[c * dstStride + r] = src[r * srcStride + c] (strides of at least
// cols and rows), e.g. a block of a GEMM's pixels into its place in NCHW planes.
void transposeU8(const uint8_t* src, int rows, int cols, size_t srcStride, uint8_t* dst, size_t dstStride);

} // namespace quantscope::kernels
