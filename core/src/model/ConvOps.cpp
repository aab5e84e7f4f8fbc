// Conv and ConvTranspose (groups, pads, strides, dilations) on OpenBLAS sgemm: Conv as im2col +
// sgemm per image and group (a 1 x 1 window at stride 1 straight on the image), depthwise Conv
// (one input channel per group) on the kernel table's plane kernel, ConvTranspose as sgemm +
// col2im; 1-D runs as 2-D, three or more spatial axes through WindowNd's plain loops. A float32
// Conv applies the Relu / Clip the executor fused into it (FusedClampOffer) image by image, while
// the image's output is still in cache.
#include "model/ConvGeometry.h"
#include "model/FusedClampOffer.h"
#include "model/Ops.h"
#include "model/WindowNd.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/FloatConvKernels.h"
#include "quantscope/kernels/FloatKernels.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cblas.h>

#include <climits>

namespace quantscope::ops {
namespace {

// Every size the plane kernel indexes with int (sizes are checked to 2^30 by convGeometry, but an
// image side is only bounded by memory).
bool fitsPlaneKernel(const ConvGeometry& g) {
    constexpr int64_t kMax = int64_t{1} << 30;
    for (int64_t v : {g.height, g.width, g.outH, g.outW, g.kernelH, g.kernelW, g.strideH, g.strideW,
                      g.dilationH, g.dilationW, g.padTop, g.padLeft})
        if (v < 0 || v > kMax)
            return false;
    return g.kernelH * g.kernelW <= kMax;
}

// Depthwise Conv (one input channel per group, `multiplier` output channels each): one plane
// kernel call per image and output channel, bias and clamp in the same pass.
void depthwiseConv(const Value& x, const Value& w, const Value* bias, const ConvGeometry& g,
                   int64_t multiplier, const kernels::FloatClamp& clamp, Value& y) {
    const kernels::KernelTable& path = kernels::KernelRegistry::active();
    const int64_t outChannels = g.channels * multiplier;
    const int64_t taps = g.kernelH * g.kernelW, plane = g.height * g.width, spatial = g.outSpatial();
    kernels::FloatDepthwisePlane p;
    p.height = static_cast<int>(g.height);
    p.width = static_cast<int>(g.width);
    p.kernelH = static_cast<int>(g.kernelH);
    p.kernelW = static_cast<int>(g.kernelW);
    p.strideH = static_cast<int>(g.strideH);
    p.strideW = static_cast<int>(g.strideW);
    p.dilationH = static_cast<int>(g.dilationH);
    p.dilationW = static_cast<int>(g.dilationW);
    p.padTop = static_cast<int>(g.padTop);
    p.padLeft = static_cast<int>(g.padLeft);
    p.outH = static_cast<int>(g.outH);
    p.outW = static_cast<int>(g.outW);
    p.clamp = clamp;
    for (int64_t b = 0; b < g.batch; ++b) {
        for (int64_t channel = 0; channel < outChannels; ++channel) {
            p.x = x.data.data() + (b * g.channels + channel / multiplier) * plane;
            p.w = w.data.data() + channel * taps;
            p.bias = bias != nullptr ? bias->data[channel] : 0.0f;
            p.y = y.data.data() + (b * outChannels + channel) * spatial;
            kernels::depthwiseConv(path, p);
        }
    }
}

void requireFloat(const Node& n, const Value& v) {
    if (v.isInteger())
        throw Error(nodeSubject(n), "needs floating-point inputs, found " + std::string(dtypeName(v.dtype)));
}

std::vector<Value> conv(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const Value& w = requireInput(n, in, 1);
    if (x.rank() == 3 && w.rank() == 3)
        return runAs2d(n, in, opset, conv, 2);
    if (x.rank() >= 5)
        return convNd(n, x, w, optionalInput(in, 2));
    requireFloat(n, x);
    requireFloat(n, w);
    const Value* bias = optionalInput(in, 2);
    if (w.rank() != 4)
        throw Error(nodeSubject(n), "weights must be M x C/group x kernel... with the input's rank, found " +
                                        shapeToString(w.shape));
    const ConvGeometry g = convGeometry(n, x.shape, w.shape[2], w.shape[3], false);
    const int64_t groups = n.intAttribute("group", 1);
    const int64_t outChannels = w.shape[0];
    checkConvWeights(n, g, w.shape, groups, bias);

    const int64_t groupIn = g.channels / groups, groupOut = outChannels / groups;
    const int64_t patch = checkedProduct(n, {groupIn, g.kernelH, g.kernelW});
    const int64_t spatial = checkedProduct(n, {g.outH, g.outW});
    checkedProduct(n, {g.batch, outChannels, g.outH, g.outW});
    // Other float types keep the executor's own Relu / Clip, which rounds to their precision.
    const std::optional<kernels::FloatClamp> fused =
        x.dtype == DType::F32 ? FusedClampOffer::take() : std::optional<kernels::FloatClamp>{};
    const kernels::FloatClamp clamp = fused.value_or(kernels::FloatClamp{});
    Value y = zeros(x.dtype, {g.batch, outChannels, g.outH, g.outW});
    if (groupIn == 1 && groups > 1 && spatial > 0 && fitsPlaneKernel(g)) {
        depthwiseConv(x, w, bias, g, groupOut, clamp, y);
        return single(std::move(y));
    }
    // A 1 x 1 window at stride 1 without padding reads the image as it lies: no unfolding.
    const bool pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 &&
                           g.padTop == 0 && g.padLeft == 0 && g.outH == g.height && g.outW == g.width;
    std::vector<float> columns(pointwise ? 0 : static_cast<std::size_t>(checkedProduct(n, {patch, spatial})));
    const kernels::KernelTable& path = kernels::KernelRegistry::active();
    for (int64_t b = 0; b < g.batch; ++b) {
        for (int64_t grp = 0; grp < groups; ++grp) {
            const float* image = x.data.data() + (b * g.channels + grp * groupIn) * g.height * g.width;
            if (!pointwise)
                im2col(image, groupIn, g, columns.data(), 0.0f);
            const float* unfolded = pointwise ? image : columns.data();
            float* out = y.data.data() + (b * outChannels + grp * groupOut) * spatial;
            // y starts as zeros: beta 1 adds to them, where beta 0 costs OpenBLAS a pass that zeroes C.
            if (spatial > 0 && patch > 0) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(groupOut),
                            static_cast<int>(spatial), static_cast<int>(patch), 1.0f,
                            w.data.data() + grp * groupOut * patch, static_cast<int>(patch), unfolded,
                            static_cast<int>(spatial), 1.0f, out, static_cast<int>(spatial));
            }
            // Bias, then the clamp, row by row: the second pass finds the row in cache.
            for (int64_t m = 0; m < groupOut && (bias != nullptr || !clamp.isIdentity()); ++m) {
                float* row = out + m * spatial;
                if (bias != nullptr)
                    kernels::binary(path, kernels::FloatBinaryOp::Add, row, 1,
                                    &bias->data[grp * groupOut + m], 0, static_cast<std::size_t>(spatial),
                                    row);
                kernels::clampValues(path, row, static_cast<std::size_t>(spatial), clamp);
            }
        }
    }
    return single(std::move(y));
}

std::vector<Value> convTranspose(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const Value& w = requireInput(n, in, 1);
    if (x.rank() == 3 && w.rank() == 3)
        return runAs2d(n, in, opset, convTranspose, 2);
    if (x.rank() >= 5)
        return convTransposeNd(n, x, w, optionalInput(in, 2));
    requireFloat(n, x);
    requireFloat(n, w);
    if (x.rank() != 4 || w.rank() != 4)
        throw Error(nodeSubject(n), "input and weights must have the same rank (3 or more), found input " +
                                        shapeToString(x.shape) + " and weights " + shapeToString(w.shape));
    const Value* bias = optionalInput(in, 2);
    const int64_t groups = n.intAttribute("group", 1);
    const int64_t channels = x.shape[1];
    if (groups < 1 || channels % groups != 0 || w.shape[0] != channels)
        throw Error(nodeSubject(n), "group " + std::to_string(groups) + " does not fit input channels " +
                                        std::to_string(channels) + " and weights " + shapeToString(w.shape));
    const int64_t groupIn = channels / groups, groupOut = w.shape[1], outChannels = groupOut * groups;
    if (bias != nullptr && bias->size() != outChannels)
        throw Error(nodeSubject(n), "bias needs " + std::to_string(outChannels) + " values");
    const std::vector<int64_t> kernel{w.shape[2], w.shape[3]};
    const auto strides = n.intsAttribute("strides", {1, 1});
    const auto dilations = n.intsAttribute("dilations", {1, 1});
    const auto outputPadding = n.intsAttribute("output_padding", {0, 0});
    auto pads = n.intsAttribute("pads", {0, 0, 0, 0});
    const auto outputShape = n.intsAttribute("output_shape", {});
    const std::string autoPad = n.stringAttribute("auto_pad", "NOTSET");
    if (strides.size() != 2 || dilations.size() != 2 || outputPadding.size() != 2 || pads.size() != 4)
        throw Error(nodeSubject(n), "strides, dilations and output_padding need 2 values and pads 4");
    constexpr int64_t kLimit = int64_t{1} << 20;
    std::vector<int64_t> outSize(2), full(2);
    for (int i = 0; i < 2; ++i) {
        if (strides[i] < 1 || dilations[i] < 1 || strides[i] > kLimit || dilations[i] > kLimit ||
            kernel[i] > kLimit || x.shape[2 + i] > kLimit || outputPadding[i] < 0 ||
            outputPadding[i] > kLimit)
            throw Error(nodeSubject(n), "strides, dilations, kernel and input sizes must be in 1..2^20");
        full[i] = strides[i] * (x.shape[2 + i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
        if (!outputShape.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
            const int64_t target =
                !outputShape.empty() ? outputShape[outputShape.size() - 2 + i] : x.shape[2 + i] * strides[i];
            const int64_t total = full[i] - target;
            const bool upper = autoPad != "SAME_LOWER";
            // A larger output_shape than the input reaches leaves extra (bias-only) cells at the end.
            pads[i] = total < 0 ? 0 : (upper ? total / 2 : total - total / 2);
            pads[i + 2] = total - pads[i];
        } else if (autoPad == "VALID") {
            pads[i] = pads[i + 2] = 0;
        }
        outSize[i] = full[i] - pads[i] - pads[i + 2];
        if (outSize[i] < 0 || outSize[i] > kLimit || pads[i] < 0 || (pads[i + 2] < 0 && outputShape.empty()))
            throw Error(nodeSubject(n), "pads " + shapeToString(pads) + " do not fit the output");
    }
    const int64_t height = x.shape[2], width = x.shape[3], spatial = height * width;
    const int64_t patch = groupOut * kernel[0] * kernel[1];
    Value y = zeros(x.dtype, {x.shape[0], outChannels, outSize[0], outSize[1]});
    std::vector<float> columns(static_cast<std::size_t>(patch * spatial));
    for (int64_t b = 0; b < x.shape[0]; ++b) {
        for (int64_t grp = 0; grp < groups; ++grp) {
            // columns (groupOut*kH*kW x H*W) = W_g^T (groupOut*kH*kW x groupIn) * X_g (groupIn x H*W)
            if (patch > 0 && spatial > 0 && groupIn > 0) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(patch),
                            static_cast<int>(spatial), static_cast<int>(groupIn), 1.0f,
                            w.data.data() + grp * groupIn * patch, static_cast<int>(patch),
                            x.data.data() + (b * channels + grp * groupIn) * spatial,
                            static_cast<int>(spatial), 0.0f, columns.data(), static_cast<int>(spatial));
            } else {
                std::fill(columns.begin(), columns.end(), 0.0f);
            }
            // col2im: scatter every column entry to the output pixel it lands on.
            for (int64_t m = 0; m < groupOut; ++m) {
                const int64_t channel = grp * groupOut + m;
                float* out = y.data.data() + (b * outChannels + channel) * outSize[0] * outSize[1];
                for (int64_t ki = 0; ki < kernel[0]; ++ki) {
                    for (int64_t kj = 0; kj < kernel[1]; ++kj) {
                        const float* row = columns.data() + ((m * kernel[0] + ki) * kernel[1] + kj) * spatial;
                        for (int64_t iy = 0; iy < height; ++iy) {
                            const int64_t oy = iy * strides[0] + ki * dilations[0] - pads[0];
                            if (oy < 0 || oy >= outSize[0])
                                continue;
                            for (int64_t ix = 0; ix < width; ++ix) {
                                const int64_t ox = ix * strides[1] + kj * dilations[1] - pads[1];
                                if (ox >= 0 && ox < outSize[1])
                                    out[oy * outSize[1] + ox] += row[iy * width + ix];
                            }
                        }
                    }
                }
                if (bias != nullptr) {
                    for (int64_t i = 0; i < outSize[0] * outSize[1]; ++i)
                        out[i] += bias->data[channel];
                }
            }
        }
    }
    return single(std::move(y));
}

} // namespace

void addConvOps(OpTable& t) {
    t.push_back({"Conv", 7, 21, conv});
    t.push_back({"ConvTranspose", 7, 21, convTranspose});
}

} // namespace quantscope::ops
