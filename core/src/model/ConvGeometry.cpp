#include "model/ConvGeometry.h"

#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/kernels/Int8ConvHelpers.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/tensor/TensorInfo.h"

namespace quantscope {
namespace {

// Output size and paddings of one spatial axis (ONNX Conv / pool rules).
void axisGeometry(const Node& node, const std::string& autoPad, int64_t size, int64_t kernel, int64_t stride,
                  int64_t dilation, bool ceilMode, int64_t& padBegin, int64_t& padEnd, int64_t& out) {
    const int64_t span = dilation * (kernel - 1) + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        out = (size + stride - 1) / stride;
        const int64_t total = std::max<int64_t>(0, (out - 1) * stride + span - size);
        padBegin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
        padEnd = total - padBegin;
        return;
    }
    if (autoPad == "VALID") {
        padBegin = padEnd = 0;
    } else if (autoPad != "NOTSET") {
        throw Error(ops::nodeSubject(node),
                    "auto_pad '" + autoPad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
    }
    const int64_t padded = size + padBegin + padEnd;
    if (padded < span)
        throw Error(ops::nodeSubject(node), "the window (" + std::to_string(span) +
                                                ") is larger than the padded input (" +
                                                std::to_string(padded) + ")");
    if (ceilMode) {
        out = (padded - span + stride - 1) / stride + 1;
        // A last window that would start inside the end padding is dropped (PyTorch, ONNX Runtime).
        if ((out - 1) * stride >= size + padBegin)
            --out;
    } else {
        out = (padded - span) / stride + 1;
    }
}

} // namespace

ConvGeometry convGeometry(const Node& node, const std::vector<int64_t>& inputShape, int64_t kernelH,
                          int64_t kernelW, bool ceilMode) {
    if (inputShape.size() != 4)
        throw Error(ops::nodeSubject(node),
                    "only 2-D windows are supported: the input must be N x C x H x W, found " +
                        shapeToString(inputShape));
    ConvGeometry g;
    g.batch = inputShape[0];
    g.channels = inputShape[1];
    g.height = inputShape[2];
    g.width = inputShape[3];
    const auto kernel = node.intsAttribute("kernel_shape", {kernelH, kernelW});
    const auto strides = node.intsAttribute("strides", {1, 1});
    const auto dilations = node.intsAttribute("dilations", {1, 1});
    const auto pads = node.intsAttribute("pads", {0, 0, 0, 0});
    if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
        throw Error(ops::nodeSubject(node),
                    "kernel_shape, strides and dilations need 2 values and pads 4 (2-D only)");
    // Bounded so that no window arithmetic below can overflow, whatever the file says.
    constexpr int64_t kLimit = int64_t{1} << 30;
    for (int i = 0; i < 2; ++i) {
        if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1 || kernel[i] > kLimit ||
            strides[i] > kLimit || dilations[i] > kLimit)
            throw Error(ops::nodeSubject(node), "kernel sizes, strides and dilations must be in 1..2^30");
    }
    for (int64_t p : pads) {
        if (p < 0 || p > kLimit)
            throw Error(ops::nodeSubject(node), "pads must be in 0..2^30");
    }
    for (int64_t d : inputShape) {
        if (d < 0 || d > kLimit)
            throw Error(ops::nodeSubject(node), "input dimensions must be in 0..2^30");
    }
    g.kernelH = kernel[0];
    g.kernelW = kernel[1];
    g.strideH = strides[0];
    g.strideW = strides[1];
    g.dilationH = dilations[0];
    g.dilationW = dilations[1];
    g.padTop = pads[0];
    g.padLeft = pads[1];
    g.padBottom = pads[2];
    g.padRight = pads[3];
    const std::string autoPad = node.stringAttribute("auto_pad", "NOTSET");
    axisGeometry(node, autoPad, g.height, g.kernelH, g.strideH, g.dilationH, ceilMode, g.padTop, g.padBottom,
                 g.outH);
    axisGeometry(node, autoPad, g.width, g.kernelW, g.strideW, g.dilationW, ceilMode, g.padLeft, g.padRight,
                 g.outW);
    return g;
}

} // namespace quantscope

namespace quantscope {

std::vector<Value> runAs2d(const Node& node, const ops::Inputs& inputs, int64_t opset, ops::OpFunction run,
                           std::size_t liftedInputs) {
    Node lifted = node;
    for (const char* key : {"kernel_shape", "strides", "dilations", "output_padding", "output_shape"}) {
        auto found = lifted.attributes.find(key);
        if (found != lifted.attributes.end() && found->second.ints.size() == 1)
            found->second.ints.insert(found->second.ints.begin(),
                                      std::string(key) == "output_padding" ? 0 : 1);
    }
    if (auto pads = lifted.attributes.find("pads");
        pads != lifted.attributes.end() && pads->second.ints.size() == 2)
        pads->second.ints = {0, pads->second.ints[0], 0, pads->second.ints[1]};
    std::vector<Value> owned;
    owned.reserve(liftedInputs);
    ops::Inputs liftedIn = inputs;
    for (std::size_t i = 0; i < liftedInputs && i < inputs.size(); ++i) {
        if (inputs[i] == nullptr || inputs[i]->rank() != 3)
            continue;
        owned.push_back(*inputs[i]);
        owned.back().shape.insert(owned.back().shape.begin() + 2, 1);
        liftedIn[i] = &owned.back();
    }
    std::vector<Value> outputs = run(lifted, liftedIn, opset);
    for (auto& out : outputs) {
        if (out.rank() == 4 && out.shape[2] == 1)
            out.shape.erase(out.shape.begin() + 2);
    }
    return outputs;
}

void checkConvWeights(const Node& node, const ConvGeometry& g, const std::vector<int64_t>& weightShape,
                      int64_t groups, const Value* bias) {
    if (weightShape.size() != 4)
        throw Error(ops::nodeSubject(node),
                    "weights must be M x C/group x kH x kW, found " + shapeToString(weightShape));
    if (g.kernelH != weightShape[2] || g.kernelW != weightShape[3])
        throw Error(ops::nodeSubject(node),
                    "kernel_shape disagrees with the weights " + shapeToString(weightShape));
    const int64_t outChannels = weightShape[0];
    if (groups < 1 || g.channels % groups != 0 || outChannels % groups != 0 ||
        weightShape[1] != g.channels / groups)
        throw Error(ops::nodeSubject(node), "group " + std::to_string(groups) +
                                                " does not fit input channels " + std::to_string(g.channels) +
                                                " and weights " + shapeToString(weightShape));
    if (bias != nullptr && bias->size() != outChannels)
        throw Error(ops::nodeSubject(node), "bias needs " + std::to_string(outChannels) + " values");
}

int kernelSize(const Node& node, int64_t size) {
    if (size > INT32_MAX)
        throw Error(ops::nodeSubject(node), "a size of " + std::to_string(size) + " exceeds 2^31 - 1");
    return static_cast<int>(size);
}

namespace {

// The window fields both kernel shapes share.
template <class Shape> void setWindow(const Node& node, const ConvGeometry& g, Shape& shape) {
    shape.height = kernelSize(node, g.height);
    shape.width = kernelSize(node, g.width);
    shape.kernelH = kernelSize(node, g.kernelH);
    shape.kernelW = kernelSize(node, g.kernelW);
    shape.strideH = kernelSize(node, g.strideH);
    shape.strideW = kernelSize(node, g.strideW);
    shape.padTop = kernelSize(node, g.padTop);
    shape.padLeft = kernelSize(node, g.padLeft);
    shape.padBottom = kernelSize(node, g.padBottom);
    shape.padRight = kernelSize(node, g.padRight);
    shape.dilationH = kernelSize(node, g.dilationH);
    shape.dilationW = kernelSize(node, g.dilationW);
}

} // namespace

kernels::Conv2dGeometry kernelConvGeometry(const Node& node, const ConvGeometry& g, int64_t channels) {
    kernels::Conv2dGeometry geometry;
    geometry.channels = kernelSize(node, channels);
    setWindow(node, g, geometry);
    return geometry;
}

kernels::DepthwiseConvShape kernelDepthwiseShape(const Node& node, const ConvGeometry& g, int64_t batch) {
    kernels::DepthwiseConvShape shape;
    shape.batch = kernelSize(node, batch);
    shape.channels = kernelSize(node, g.channels);
    setWindow(node, g, shape);
    return shape;
}

} // namespace quantscope
