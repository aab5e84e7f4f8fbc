// Element-wise ops with numpy-style broadcasting, activations, Softmax and inference-mode
// BatchNormalization. Sums run in double so that results stay within 1e-6 of float64 references.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace quantscope::ops {
namespace {

std::vector<int64_t> broadcastShape(const Node& node, const std::vector<int64_t>& a, const std::vector<int64_t>& b)
{
    const std::size_t rank = std::max(a.size(), b.size());
    std::vector<int64_t> shape(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da != db && da != 1 && db != 1)
            throw Error(nodeSubject(node), "shapes " + shapeToString(a) + " and " + shapeToString(b) +
                                               " do not broadcast");
        shape[i] = da == 1 ? db : da;
    }
    return shape;
}

// Strides of `shape` seen through the broadcast output shape (0 along broadcast dimensions).
std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& shape, const std::vector<int64_t>& outShape)
{
    const std::size_t rank = outShape.size();
    std::vector<int64_t> strides(rank, 0);
    int64_t stride = 1;
    for (std::size_t k = 0; k < shape.size(); ++k) {
        const std::size_t i = shape.size() - 1 - k;
        const std::size_t o = rank - 1 - k;
        strides[o] = shape[i] == 1 ? 0 : stride;
        stride *= shape[i];
    }
    return strides;
}

template <typename F>
std::vector<Value> binary(const Node& node, const Inputs& inputs, F f)
{
    const Value& a = requireInput(node, inputs, 0);
    const Value& b = requireInput(node, inputs, 1);
    Value out;
    out.shape = broadcastShape(node, a.shape, b.shape);
    const int64_t total = elementCount(out.shape);
    out.data.resize(total);
    if (a.shape == b.shape) {
        for (int64_t i = 0; i < total; ++i)
            out.data[i] = f(a.data[i], b.data[i]);
        return {std::move(out)};
    }
    if (total == 0)
        return {std::move(out)};
    const auto sa = broadcastStrides(a.shape, out.shape);
    const auto sb = broadcastStrides(b.shape, out.shape);
    const std::size_t rank = out.shape.size();
    const int64_t inner = out.shape[rank - 1];
    const int64_t ia = sa[rank - 1], ib = sb[rank - 1];
    std::vector<int64_t> index(rank, 0);
    int64_t offsetA = 0, offsetB = 0;
    for (int64_t start = 0; start < total; start += inner) {
        float* o = out.data.data() + start;
        for (int64_t j = 0; j < inner; ++j)
            o[j] = f(a.data[offsetA + j * ia], b.data[offsetB + j * ib]);
        // Advance the odometer over the outer dimensions.
        for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
            ++index[d];
            offsetA += sa[d];
            offsetB += sb[d];
            if (index[d] < out.shape[d])
                break;
            offsetA -= sa[d] * out.shape[d];
            offsetB -= sb[d] * out.shape[d];
            index[d] = 0;
        }
    }
    return {std::move(out)};
}

template <typename F>
std::vector<Value> unary(const Node& node, const Inputs& inputs, F f)
{
    Value out = requireInput(node, inputs, 0);
    out.isInteger = false;
    out.ints.clear();
    for (float& v : out.data)
        v = f(v);
    return {std::move(out)};
}

float scalarInput(const Node& node, const Inputs& inputs, std::size_t i, float fallback)
{
    if (i >= inputs.size() || inputs[i] == nullptr)
        return fallback;
    if (inputs[i]->size() != 1)
        throw Error(nodeSubject(node), "input " + std::to_string(i) + " must be a scalar");
    return inputs[i]->data[0];
}

} // namespace

std::vector<Value> add(const Node& n, const Inputs& in, int64_t)
{
    return binary(n, in, [](float a, float b) { return a + b; });
}

std::vector<Value> sub(const Node& n, const Inputs& in, int64_t)
{
    return binary(n, in, [](float a, float b) { return a - b; });
}

std::vector<Value> mul(const Node& n, const Inputs& in, int64_t)
{
    return binary(n, in, [](float a, float b) { return a * b; });
}

std::vector<Value> div(const Node& n, const Inputs& in, int64_t)
{
    return binary(n, in, [](float a, float b) { return a / b; });
}

std::vector<Value> relu(const Node& n, const Inputs& in, int64_t)
{
    return unary(n, in, [](float x) { return x > 0.0f ? x : 0.0f; });
}

std::vector<Value> leakyRelu(const Node& n, const Inputs& in, int64_t)
{
    const float alpha = n.floatAttribute("alpha", 0.01f);
    return unary(n, in, [alpha](float x) { return x >= 0.0f ? x : alpha * x; });
}

std::vector<Value> sigmoid(const Node& n, const Inputs& in, int64_t)
{
    return unary(n, in, [](float x) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x)))); });
}

std::vector<Value> tanhOp(const Node& n, const Inputs& in, int64_t)
{
    return unary(n, in, [](float x) { return std::tanh(x); });
}

std::vector<Value> erf(const Node& n, const Inputs& in, int64_t)
{
    return unary(n, in, [](float x) { return static_cast<float>(std::erf(static_cast<double>(x))); });
}

std::vector<Value> gelu(const Node& n, const Inputs& in, int64_t)
{
    const std::string approximate = n.stringAttribute("approximate", "none");
    if (approximate == "tanh") {
        const double c = std::sqrt(2.0 / std::numbers::pi);
        return unary(n, in, [c](float x) {
            const double d = x;
            return static_cast<float>(0.5 * d * (1.0 + std::tanh(c * (d + 0.044715 * d * d * d))));
        });
    }
    if (approximate != "none")
        throw Error(nodeSubject(n), "approximate '" + approximate + "' is not one of none, tanh");
    return unary(n, in, [](float x) {
        const double d = x;
        return static_cast<float>(0.5 * d * (1.0 + std::erf(d / std::numbers::sqrt2)));
    });
}

std::vector<Value> clip(const Node& n, const Inputs& in, int64_t)
{
    const float lo = scalarInput(n, in, 1, -std::numeric_limits<float>::infinity());
    const float hi = scalarInput(n, in, 2, std::numeric_limits<float>::infinity());
    return unary(n, in, [lo, hi](float x) { return std::min(std::max(x, lo), hi); });
}

std::vector<Value> identity(const Node& n, const Inputs& in, int64_t)
{
    return {requireInput(n, in, 0)};
}

std::vector<Value> dropout(const Node& n, const Inputs& in, int64_t)
{
    // Inference: the output is the input, and the optional mask keeps every element.
    std::vector<Value> outputs{requireInput(n, in, 0)};
    if (n.outputs.size() > 1) {
        Value mask;
        mask.shape = outputs[0].shape;
        mask.data.assign(outputs[0].data.size(), 1.0f);
        mask.ints.assign(outputs[0].data.size(), 1);
        mask.isInteger = true;
        outputs.push_back(std::move(mask));
    }
    return outputs;
}

std::vector<Value> softmax(const Node& n, const Inputs& in, int64_t opset)
{
    Value out = requireInput(n, in, 0);
    const int64_t rank = out.rank();
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", opset >= 13 ? -1 : 1), rank);
    // Before opset 13 the input is seen as 2-D [prod(dims < axis), prod(dims >= axis)].
    int64_t outer = 1, length = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) {
        if (d < axis)
            outer *= out.shape[d];
        else if (d == axis || opset < 13)
            length *= out.shape[d];
        else
            inner *= out.shape[d];
    }
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            float* base = out.data.data() + o * length * inner + i;
            float peak = -std::numeric_limits<float>::infinity();
            for (int64_t k = 0; k < length; ++k)
                peak = std::max(peak, base[k * inner]);
            double sum = 0.0;
            for (int64_t k = 0; k < length; ++k)
                sum += std::exp(static_cast<double>(base[k * inner]) - peak);
            for (int64_t k = 0; k < length; ++k)
                base[k * inner] = static_cast<float>(std::exp(static_cast<double>(base[k * inner]) - peak) / sum);
        }
    }
    return {std::move(out)};
}

std::vector<Value> batchNormalization(const Node& n, const Inputs& in, int64_t)
{
    if (n.outputs.size() > 1)
        throw Error(nodeSubject(n), "training mode (running mean and variance outputs) is not supported");
    Value out = requireInput(n, in, 0);
    const Value& scale = requireInput(n, in, 1);
    const Value& bias = requireInput(n, in, 2);
    const Value& mean = requireInput(n, in, 3);
    const Value& var = requireInput(n, in, 4);
    if (out.rank() < 2)
        throw Error(nodeSubject(n), "input must have a channel axis (rank 2 or more)");
    const int64_t channels = out.shape[1];
    for (const Value* v : {&scale, &bias, &mean, &var}) {
        if (v->size() != channels)
            throw Error(nodeSubject(n), "scale, bias, mean and variance need " + std::to_string(channels) +
                                            " values (one per channel)");
    }
    const double epsilon = n.floatAttribute("epsilon", 1e-5f);
    int64_t spatial = 1;
    for (int d = 2; d < out.rank(); ++d)
        spatial *= out.shape[d];
    for (int64_t c = 0; c < channels; ++c) {
        const double a = scale.data[c] / std::sqrt(static_cast<double>(var.data[c]) + epsilon);
        const double b = bias.data[c] - mean.data[c] * a;
        for (int64_t b0 = 0; b0 < out.shape[0]; ++b0) {
            float* p = out.data.data() + (b0 * channels + c) * spatial;
            for (int64_t s = 0; s < spatial; ++s)
                p[s] = static_cast<float>(p[s] * a + b);
        }
    }
    return {std::move(out)};
}

} // namespace quantscope::ops
