#pragma once

// Internal to core: the window arithmetic shared by Conv, the pools and the quantized Conv.

#include "quantscope/model/Node.h"
#include "quantscope/model/Value.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace quantscope {

namespace kernels {
struct Conv2dGeometry;
struct DepthwiseConvShape;
} // namespace kernels

// The 2-D sliding-window geometry of a node over an N x C x H x W input.
struct ConvGeometry {
    int64_t batch = 0, channels = 0, height = 0, width = 0;
    int64_t kernelH = 0, kernelW = 0;
    int64_t strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
    int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    int64_t outH = 0, outW = 0;

    int64_t outSpatial() const { return outH * outW; }
};

// Reads kernel_shape (or `kernel` when the node has none, as Conv takes it from the weights),
// strides, dilations, pads and auto_pad; with `ceilMode` the output size rounds up (pools).
// Throws Error naming the node when the input is not 4-D or the window does not fit.
ConvGeometry convGeometry(const Node& node, const std::vector<int64_t>& inputShape, int64_t kernelH,
                          int64_t kernelW, bool ceilMode);

// The checks every Conv route (fp32, ConvInteger / QLinearConv, the quantized layers) makes of
// its weights [M, C / groups, kH, kW] before trusting their sizes: the kernel shape, the groups
// against the input channels and the outputs, one bias value per output channel (`bias` may be
// null). Throws Error naming the node.
void checkConvWeights(const Node& node, const ConvGeometry& g, const std::vector<int64_t>& weightShape,
                      int64_t groups, const Value* bias);

// A size as the int8 kernels' int; throws Error naming the node when it exceeds 2^31 - 1.
int kernelSize(const Node& node, int64_t size);
// The same window in the int8 kernels' int sizes: for the direct convolution over `channels`
// input channels (one group's), and for the depthwise convolution of `batch` images of all
// g.channels channels. Throw Error naming the node when a size exceeds 2^31 - 1.
kernels::Conv2dGeometry kernelConvGeometry(const Node& node, const ConvGeometry& g, int64_t channels);
kernels::DepthwiseConvShape kernelDepthwiseShape(const Node& node, const ConvGeometry& g, int64_t batch);

// Unfolds `channels` planes (H x W each, contiguous) into a (channels * kH * kW) x (outH * outW)
// matrix, zero where the window reads padding; columns follow the output pixels in row-major order.
template <typename T>
void im2col(const T* image, int64_t channels, const ConvGeometry& g, T* columns, T padValue) {
    const int64_t spatial = g.outSpatial();
    for (int64_t c = 0; c < channels; ++c) {
        const T* plane = image + c * g.height * g.width;
        for (int64_t ki = 0; ki < g.kernelH; ++ki) {
            for (int64_t kj = 0; kj < g.kernelW; ++kj) {
                T* row = columns + ((c * g.kernelH + ki) * g.kernelW + kj) * spatial;
                for (int64_t oy = 0; oy < g.outH; ++oy) {
                    const int64_t y = oy * g.strideH - g.padTop + ki * g.dilationH;
                    T* out = row + oy * g.outW;
                    if (y < 0 || y >= g.height) {
                        for (int64_t ox = 0; ox < g.outW; ++ox)
                            out[ox] = padValue;
                        continue;
                    }
                    // Output columns [first, last) read inside the line (x = ox * stride + offset in
                    // [0, width)); the others read padding. No test per element.
                    const int64_t offset = kj * g.dilationW - g.padLeft;
                    const int64_t first =
                        std::min(g.outW, offset >= 0 ? 0 : (-offset + g.strideW - 1) / g.strideW);
                    const int64_t last = std::max(
                        first,
                        std::min(g.outW,
                                 g.width - offset <= 0 ? 0 : (g.width - offset + g.strideW - 1) / g.strideW));
                    const T* line = plane + y * g.width;
                    std::fill(out, out + first, padValue);
                    if (g.strideW == 1) {
                        std::copy(line + first + offset, line + last + offset, out + first);
                    } else {
                        for (int64_t ox = first; ox < last; ++ox)
                            out[ox] = line[ox * g.strideW + offset];
                    }
                    std::fill(out + last, out + g.outW, padValue);
                }
            }
        }
    }
}

} // namespace quantscope

namespace quantscope {

// Like im2col, transposed: one row of (channels * kH * kW) values per output pixel, the layout
// the integer GEMM reads (activations M x K).
template <typename T>
void im2row(const T* image, int64_t channels, const ConvGeometry& g, T* rows, T padValue) {
    const int64_t patch = channels * g.kernelH * g.kernelW;
    for (int64_t oy = 0; oy < g.outH; ++oy) {
        for (int64_t ox = 0; ox < g.outW; ++ox) {
            T* row = rows + (oy * g.outW + ox) * patch;
            for (int64_t c = 0; c < channels; ++c) {
                const T* plane = image + c * g.height * g.width;
                for (int64_t ki = 0; ki < g.kernelH; ++ki) {
                    const int64_t y = oy * g.strideH - g.padTop + ki * g.dilationH;
                    for (int64_t kj = 0; kj < g.kernelW; ++kj) {
                        const int64_t x = ox * g.strideW - g.padLeft + kj * g.dilationW;
                        *row++ = (y < 0 || y >= g.height || x < 0 || x >= g.width) ? padValue
                                                                                   : plane[y * g.width + x];
                    }
                }
            }
        }
    }
}

} // namespace quantscope

#include "model/Ops.h"

namespace quantscope {

// Runs a 2-D window op (`run`) on a 1-D one: inputs 0..liftedInputs-1 of rank 3 get a height of
// 1, the node's window attributes get a leading 1 (pads a leading 0 at each end), and the
// outputs drop the height again. Lets Conv, ConvTranspose and the pools take N x C x L.
std::vector<Value> runAs2d(const Node& node, const ops::Inputs& inputs, int64_t opset, ops::OpFunction run,
                           std::size_t liftedInputs);

} // namespace quantscope
