#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <map>

namespace quantscope::ops {

OpFunction findOp(const std::string& opType)
{
    static const std::map<std::string, OpFunction> table = {
        {"Add", add}, {"Sub", sub}, {"Mul", mul}, {"Div", div},
        {"Relu", relu}, {"LeakyRelu", leakyRelu}, {"Sigmoid", sigmoid}, {"Tanh", tanhOp},
        {"Erf", erf}, {"Gelu", gelu}, {"Clip", clip}, {"Identity", identity}, {"Dropout", dropout},
        {"Softmax", softmax}, {"BatchNormalization", batchNormalization},
        {"Gemm", gemm}, {"MatMul", matMul}, {"Conv", conv},
        {"MaxPool", maxPool}, {"AveragePool", averagePool}, {"GlobalAveragePool", globalAveragePool},
        {"Flatten", flatten}, {"Reshape", reshape}, {"Transpose", transpose}, {"Concat", concat},
        {"Squeeze", squeeze}, {"Unsqueeze", unsqueeze}, {"Constant", constant},
    };
    const auto found = table.find(opType);
    return found == table.end() ? nullptr : found->second;
}

std::string nodeSubject(const Node& node)
{
    return "node '" + node.label() + "' (" + node.opType + ")";
}

const Value& requireInput(const Node& node, const Inputs& inputs, std::size_t i)
{
    if (i >= inputs.size() || inputs[i] == nullptr)
        throw Error(nodeSubject(node), "input " + std::to_string(i) + " is required but missing");
    return *inputs[i];
}

int64_t normalizeAxis(const Node& node, int64_t axis, int64_t rank)
{
    if (axis < -rank || axis >= rank)
        throw Error(nodeSubject(node), "axis " + std::to_string(axis) + " is outside [" + std::to_string(-rank) +
                                           ", " + std::to_string(rank - 1) + "]");
    return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> integerValues(const Node& node, const Value& value, const char* what)
{
    if (!value.isInteger)
        throw Error(nodeSubject(node), std::string(what) + " must be an int64 tensor");
    return value.ints;
}

int64_t elementCount(const std::vector<int64_t>& shape)
{
    uint64_t count = 0;
    if (!checkedElementCount(shape, count))
        throw Error("shape " + shapeToString(shape), "negative dimension or too many elements");
    return static_cast<int64_t>(count);
}

namespace {

template <typename Factors>
int64_t productOf(const Node& node, const Factors& factors)
{
    int64_t product = 1;
    for (const int64_t factor : factors) {
        if (factor < 0)
            throw Error(nodeSubject(node), "negative dimension " + std::to_string(factor));
        if (__builtin_mul_overflow(product, factor, &product)) {
            std::string text;
            for (const int64_t f : factors)
                text += (text.empty() ? "" : " x ") + std::to_string(f);
            throw Error(nodeSubject(node), "size " + text + " overflows (more than 2^63 - 1 elements)");
        }
    }
    return product;
}

} // namespace

int64_t checkedProduct(const Node& node, std::initializer_list<int64_t> factors)
{
    return productOf(node, factors);
}

int64_t checkedProduct(const Node& node, const std::vector<int64_t>& shape)
{
    return productOf(node, shape);
}

} // namespace quantscope::ops
