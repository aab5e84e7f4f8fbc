// Conv, ConvTranspose, MaxPool and AveragePool over three or more spatial axes (N x C x D x H x W
// ...): plain loops over an odometer of output positions and window offsets, the same ONNX
// window rules as the 2-D paths (which stay on im2col + sgemm for speed).
#include "model/WindowNd.h"

#include "model/ConvGeometry.h"
#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantscope {
namespace {

using ops::checkedProduct;
using ops::nodeSubject;

// Advances a multi-index over `extent` in row-major order; false after the last one.
bool advance(std::vector<int64_t>& index, const std::vector<int64_t>& extent) {
    for (int64_t d = static_cast<int64_t>(index.size()) - 1; d >= 0; --d) {
        if (++index[d] < extent[d])
            return true;
        index[d] = 0;
    }
    return false;
}

void requireFloat(const Node& n, const Value& v) {
    if (v.isInteger())
        throw Error(nodeSubject(n), "needs floating-point inputs, found " + std::string(dtypeName(v.dtype)));
}

} // namespace

WindowGeometry windowGeometry(const Node& node, const std::vector<int64_t>& inputShape,
                              const std::vector<int64_t>& kernelFromWeights, bool ceilMode) {
    if (inputShape.size() < 3)
        throw Error(nodeSubject(node),
                    "input must be N x C x spatial..., found " + shapeToString(inputShape));
    const std::size_t axes = inputShape.size() - 2;
    WindowGeometry g;
    g.input.assign(inputShape.begin() + 2, inputShape.end());
    g.kernel = node.intsAttribute("kernel_shape", kernelFromWeights);
    g.strides = node.intsAttribute("strides", std::vector<int64_t>(axes, 1));
    g.dilations = node.intsAttribute("dilations", std::vector<int64_t>(axes, 1));
    const auto pads = node.intsAttribute("pads", std::vector<int64_t>(2 * axes, 0));
    if (g.kernel.size() != axes || g.strides.size() != axes || g.dilations.size() != axes ||
        pads.size() != 2 * axes)
        throw Error(nodeSubject(node), "kernel_shape, strides and dilations need " + std::to_string(axes) +
                                           " values and pads " + std::to_string(2 * axes));
    g.padBegin.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(axes));
    g.padEnd.assign(pads.begin() + static_cast<std::ptrdiff_t>(axes), pads.end());
    g.output.resize(axes);
    const std::string autoPad = node.stringAttribute("auto_pad", "NOTSET");
    for (std::size_t a = 0; a < axes; ++a) {
        // Each axis follows the 2-D rules: run them on a 1 x 1 x 1 x size input.
        Node axisNode = node;
        axisNode.attributes.clear();
        const auto setInts = [&](const char* key, std::vector<int64_t> values) {
            Attribute attribute;
            attribute.kind = Attribute::Kind::Ints;
            attribute.ints = std::move(values);
            axisNode.attributes[key] = attribute;
        };
        setInts("kernel_shape", {1, g.kernel[a]});
        setInts("strides", {1, g.strides[a]});
        setInts("dilations", {1, g.dilations[a]});
        setInts("pads", {0, g.padBegin[a], 0, g.padEnd[a]});
        Attribute padMode;
        padMode.kind = Attribute::Kind::String;
        padMode.s = autoPad;
        axisNode.attributes["auto_pad"] = padMode;
        const ConvGeometry axis = convGeometry(axisNode, {1, 1, 1, g.input[a]}, 1, g.kernel[a], ceilMode);
        g.padBegin[a] = axis.padLeft;
        g.padEnd[a] = axis.padRight;
        g.output[a] = axis.outW;
    }
    return g;
}

std::vector<Value> poolNd(const Node& n, const Value& input, bool wantMax) {
    if (!n.attribute("kernel_shape"))
        throw Error(nodeSubject(n), "kernel_shape is required");
    const Value x = input.isInteger() ? Value::floats(input.shape, input.toFloats()) : input;
    const WindowGeometry g = windowGeometry(n, x.shape, {}, n.intAttribute("ceil_mode", 0) != 0);
    const bool countPad = n.intAttribute("count_include_pad", 0) != 0;
    const bool wantIndices = wantMax && n.outputs.size() > 1 && !n.outputs[1].empty();
    std::vector<int64_t> shape{x.shape[0], x.shape[1]};
    shape.insert(shape.end(), g.output.begin(), g.output.end());
    Value y = ops::zeros(DType::F32, shape);
    Value indices = ops::zeros(DType::I64, wantIndices ? shape : std::vector<int64_t>{0});
    const int64_t inSpatial = checkedProduct(n, g.input), outSpatial = checkedProduct(n, g.output);
    const auto strides = ops::stridesOf(g.input);
    const std::size_t axes = g.input.size();
    for (int64_t plane = 0; outSpatial > 0 && plane < x.shape[0] * x.shape[1]; ++plane) {
        const float* src = x.data.data() + plane * inSpatial;
        std::vector<int64_t> out(axes, 0);
        int64_t o = 0;
        do {
            double sum = 0.0, best = -std::numeric_limits<double>::infinity();
            int64_t bestAt = 0, real = 0, padded = 1;
            std::vector<int64_t> k(axes, 0);
            do {
                int64_t offset = 0;
                bool inside = true;
                for (std::size_t a = 0; a < axes; ++a) {
                    const int64_t at = out[a] * g.strides[a] - g.padBegin[a] + k[a] * g.dilations[a];
                    inside = inside && at >= 0 && at < g.input[a];
                    offset += at * strides[a];
                }
                if (!inside)
                    continue;
                ++real;
                sum += src[offset];
                if (src[offset] > best) {
                    best = src[offset];
                    bestAt = offset;
                }
            } while (advance(k, g.kernel));
            if (countPad) { // padding counts, but not the extra cells ceil_mode adds past it
                for (std::size_t a = 0; a < axes; ++a) {
                    const int64_t start = out[a] * g.strides[a] - g.padBegin[a];
                    const int64_t end =
                        std::min(start + (g.kernel[a] - 1) * g.dilations[a] + 1, g.input[a] + g.padEnd[a]);
                    padded *= (end - start + g.dilations[a] - 1) / g.dilations[a];
                }
            }
            const int64_t count = countPad ? padded : real;
            y.data[plane * outSpatial + o] =
                wantMax ? static_cast<float>(best)
                        : (count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f);
            if (wantIndices)
                indices.ints[plane * outSpatial + o] = plane * inSpatial + bestAt;
            ++o;
        } while (advance(out, g.output));
    }
    if (input.isInteger()) {
        Value converted = ops::zeros(input.dtype, shape);
        for (int64_t i = 0; i < y.size(); ++i)
            converted.ints[i] = static_cast<int64_t>(y.data[i]);
        y = std::move(converted);
    } else {
        y.dtype = input.dtype;
    }
    std::vector<Value> outputs{std::move(y)};
    if (wantIndices)
        outputs.push_back(std::move(indices));
    return outputs;
}

std::vector<Value> convNd(const Node& n, const Value& x, const Value& w, const Value* bias) {
    requireFloat(n, x);
    requireFloat(n, w);
    if (w.rank() != x.rank())
        throw Error(nodeSubject(n), "weights " + shapeToString(w.shape) + " do not match the input " +
                                        shapeToString(x.shape));
    const std::vector<int64_t> kernel(w.shape.begin() + 2, w.shape.end());
    const WindowGeometry g = windowGeometry(n, x.shape, kernel, false);
    if (g.kernel != kernel)
        throw Error(nodeSubject(n), "kernel_shape disagrees with the weights " + shapeToString(w.shape));
    const int64_t groups = n.intAttribute("group", 1), channels = x.shape[1], outChannels = w.shape[0];
    if (groups < 1 || channels % groups != 0 || outChannels % groups != 0 || w.shape[1] != channels / groups)
        throw Error(nodeSubject(n), "group " + std::to_string(groups) + " does not fit input channels " +
                                        std::to_string(channels) + " and weights " + shapeToString(w.shape));
    if (bias != nullptr && bias->size() != outChannels)
        throw Error(nodeSubject(n), "bias needs " + std::to_string(outChannels) + " values");
    std::vector<int64_t> shape{x.shape[0], outChannels};
    shape.insert(shape.end(), g.output.begin(), g.output.end());
    checkedProduct(n, shape);
    Value y = ops::zeros(x.dtype, shape);
    const int64_t groupIn = channels / groups, groupOut = outChannels / groups;
    const int64_t inSpatial = checkedProduct(n, g.input), outSpatial = checkedProduct(n, g.output);
    const int64_t kernelSize = checkedProduct(n, kernel);
    const auto strides = ops::stridesOf(g.input);
    const std::size_t axes = g.input.size();
    for (int64_t b = 0; outSpatial > 0 && b < x.shape[0]; ++b) {
        for (int64_t m = 0; m < outChannels; ++m) {
            const int64_t grp = m / groupOut;
            float* dst = y.data.data() + (b * outChannels + m) * outSpatial;
            std::vector<int64_t> out(axes, 0);
            int64_t o = 0;
            do {
                double sum = bias != nullptr ? bias->data[m] : 0.0;
                std::vector<int64_t> k(axes, 0);
                int64_t kFlat = 0;
                do {
                    int64_t offset = 0;
                    bool inside = true;
                    for (std::size_t a = 0; a < axes; ++a) {
                        const int64_t at = out[a] * g.strides[a] - g.padBegin[a] + k[a] * g.dilations[a];
                        inside = inside && at >= 0 && at < g.input[a];
                        offset += at * strides[a];
                    }
                    if (inside) {
                        for (int64_t c = 0; c < groupIn; ++c)
                            sum += static_cast<double>(
                                       x.data[(b * channels + grp * groupIn + c) * inSpatial + offset]) *
                                   w.data[(m * groupIn + c) * kernelSize + kFlat];
                    }
                    ++kFlat;
                } while (advance(k, g.kernel));
                dst[o++] = static_cast<float>(sum);
            } while (advance(out, g.output));
        }
    }
    return ops::single(std::move(y));
}

std::vector<Value> convTransposeNd(const Node& n, const Value& x, const Value& w, const Value* bias) {
    requireFloat(n, x);
    requireFloat(n, w);
    if (w.rank() != x.rank() || w.shape[0] != x.shape[1])
        throw Error(nodeSubject(n), "weights " + shapeToString(w.shape) + " do not match the input " +
                                        shapeToString(x.shape));
    const std::size_t axes = static_cast<std::size_t>(x.rank()) - 2;
    const std::vector<int64_t> kernel(w.shape.begin() + 2, w.shape.end());
    const std::vector<int64_t> input(x.shape.begin() + 2, x.shape.end());
    const auto strides = n.intsAttribute("strides", std::vector<int64_t>(axes, 1));
    const auto dilations = n.intsAttribute("dilations", std::vector<int64_t>(axes, 1));
    const auto outputPadding = n.intsAttribute("output_padding", std::vector<int64_t>(axes, 0));
    auto pads = n.intsAttribute("pads", std::vector<int64_t>(2 * axes, 0));
    const auto outputShape = n.intsAttribute("output_shape", {});
    const std::string autoPad = n.stringAttribute("auto_pad", "NOTSET");
    if (strides.size() != axes || dilations.size() != axes || outputPadding.size() != axes ||
        pads.size() != 2 * axes || (!outputShape.empty() && outputShape.size() < axes))
        throw Error(nodeSubject(n), "strides, dilations, output_padding and output_shape need " +
                                        std::to_string(axes) + " values and pads " +
                                        std::to_string(2 * axes));
    const int64_t groups = n.intAttribute("group", 1), channels = x.shape[1];
    if (groups < 1 || channels % groups != 0)
        throw Error(nodeSubject(n), "group " + std::to_string(groups) + " does not fit input channels " +
                                        std::to_string(channels));
    const int64_t groupIn = channels / groups, groupOut = w.shape[1], outChannels = groupOut * groups;
    if (bias != nullptr && bias->size() != outChannels)
        throw Error(nodeSubject(n), "bias needs " + std::to_string(outChannels) + " values");
    constexpr int64_t kLimit = int64_t{1} << 20;
    std::vector<int64_t> output(axes);
    for (std::size_t a = 0; a < axes; ++a) {
        if (strides[a] < 1 || dilations[a] < 1 || strides[a] > kLimit || dilations[a] > kLimit ||
            kernel[a] > kLimit || input[a] > kLimit || outputPadding[a] < 0 || outputPadding[a] > kLimit)
            throw Error(nodeSubject(n), "strides, dilations, kernel and input sizes must be in 1..2^20");
        const int64_t full =
            strides[a] * (input[a] - 1) + outputPadding[a] + (kernel[a] - 1) * dilations[a] + 1;
        if (!outputShape.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
            const int64_t target =
                !outputShape.empty() ? outputShape[outputShape.size() - axes + a] : input[a] * strides[a];
            const int64_t total = full - target;
            pads[a] = total < 0 ? 0 : (autoPad != "SAME_LOWER" ? total / 2 : total - total / 2);
            pads[a + axes] = total - pads[a];
        } else if (autoPad == "VALID") {
            pads[a] = pads[a + axes] = 0;
        }
        output[a] = full - pads[a] - pads[a + axes];
        if (output[a] < 0 || output[a] > kLimit || pads[a] < 0)
            throw Error(nodeSubject(n), "pads " + shapeToString(pads) + " do not fit the output");
    }
    std::vector<int64_t> shape{x.shape[0], outChannels};
    shape.insert(shape.end(), output.begin(), output.end());
    checkedProduct(n, shape);
    Value y = ops::zeros(x.dtype, shape);
    const int64_t inSpatial = checkedProduct(n, input), outSpatial = checkedProduct(n, output);
    const int64_t kernelSize = checkedProduct(n, kernel);
    const auto outStrides = ops::stridesOf(output);
    for (int64_t b = 0; inSpatial > 0 && outSpatial > 0 && b < x.shape[0]; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
            const int64_t grp = c / groupIn;
            const float* src = x.data.data() + (b * channels + c) * inSpatial;
            std::vector<int64_t> in(axes, 0);
            int64_t i = 0;
            do {
                std::vector<int64_t> k(axes, 0);
                int64_t kFlat = 0;
                do {
                    int64_t offset = 0;
                    bool inside = true;
                    for (std::size_t a = 0; a < axes; ++a) {
                        const int64_t at = in[a] * strides[a] + k[a] * dilations[a] - pads[a];
                        inside = inside && at >= 0 && at < output[a];
                        offset += at * outStrides[a];
                    }
                    if (inside) {
                        for (int64_t m = 0; m < groupOut; ++m)
                            y.data[(b * outChannels + grp * groupOut + m) * outSpatial + offset] +=
                                src[i] * w.data[(c * groupOut + m) * kernelSize + kFlat];
                    }
                    ++kFlat;
                } while (advance(k, kernel));
                ++i;
            } while (advance(in, input));
        }
    }
    if (bias != nullptr) {
        for (int64_t b = 0; b < x.shape[0]; ++b) {
            for (int64_t m = 0; m < outChannels; ++m) {
                float* dst = y.data.data() + (b * outChannels + m) * outSpatial;
                for (int64_t s = 0; s < outSpatial; ++s)
                    dst[s] += bias->data[m];
            }
        }
    }
    return ops::single(std::move(y));
}

} // namespace quantscope
