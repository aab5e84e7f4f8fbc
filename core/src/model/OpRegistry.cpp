#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace quantscope::ops {

const OpTable& opTable() {
    static const OpTable table = [] {
        OpTable t;
        addElementwiseOps(t);
        addActivationOps(t);
        addReduceOps(t);
        addShapeOps(t);
        addIndexingOps(t);
        addNormalizationOps(t);
        addResizeOps(t);
        addLinearOps(t);
        addConvOps(t);
        addPoolOps(t);
        addQuantizationOps(t);
        addLossOps(t);
        addConvIntegerOps(t);
        addSignalOps(t);
        addRecurrentOps(t);
        addDetectionOps(t);
        addAlgebraOps(t);
        addSetOps(t);
        addGridSampleOps(t);
        addTfIdfOps(t);
        std::sort(t.begin(), t.end(), [](const OpEntry& a, const OpEntry& b) {
            return a.op != b.op ? a.op < b.op : a.since < b.since;
        });
        return t;
    }();
    return table;
}

OpFunction findOp(const std::string& opType, int64_t opset) {
    for (const auto& entry : opTable()) {
        if (entry.op == opType && opset >= entry.since && opset <= entry.until)
            return entry.run;
    }
    return nullptr;
}

std::string nodeSubject(const Node& node) {
    return "node '" + node.label() + "' (" + node.opType + ")";
}

const Value& requireInput(const Node& node, const Inputs& inputs, std::size_t i) {
    if (i >= inputs.size() || inputs[i] == nullptr)
        throw Error(nodeSubject(node), "input " + std::to_string(i) + " is required but missing");
    return *inputs[i];
}

const Value* optionalInput(const Inputs& inputs, std::size_t i) {
    return i < inputs.size() ? inputs[i] : nullptr;
}

namespace {
thread_local Value* t_donated = nullptr; // the value DonatedInput lends on this thread
} // namespace

DonatedInput::DonatedInput(Value* value) : m_previous(t_donated) {
    t_donated = value;
}

DonatedInput::~DonatedInput() {
    t_donated = m_previous;
}

bool isDonated(const Inputs& inputs, std::size_t i) {
    return t_donated != nullptr && i < inputs.size() && inputs[i] == t_donated;
}

Value takeInput(const Node& node, const Inputs& inputs, std::size_t i) {
    const Value& value = requireInput(node, inputs, i);
    if (!isDonated(inputs, i))
        return value;
    Value* lent = t_donated;
    t_donated = nullptr; // taken once
    return std::move(*lent);
}

int64_t normalizeAxis(const Node& node, int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
        throw Error(nodeSubject(node), "axis " + std::to_string(axis) + " is outside [" +
                                           std::to_string(-rank) + ", " + std::to_string(rank - 1) + "]");
    return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> integerValues(const Node& node, const Value& value, const char* what) {
    if (!value.isInteger() || value.isBool())
        throw Error(nodeSubject(node), std::string(what) + " must be an integer tensor");
    return value.ints;
}

int64_t elementCount(const std::vector<int64_t>& shape) {
    uint64_t count = 0;
    if (!checkedElementCount(shape, count) || count > static_cast<uint64_t>(INT64_MAX / 8))
        throw Error("shape " + shapeToString(shape), "negative dimension or too many elements");
    return static_cast<int64_t>(count);
}

namespace {

template <typename Factors> int64_t productOf(const Node& node, const Factors& factors) {
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

int64_t checkedProduct(const Node& node, std::initializer_list<int64_t> factors) {
    return productOf(node, factors);
}

int64_t checkedProduct(const Node& node, const std::vector<int64_t>& shape) {
    return productOf(node, shape);
}

std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape) {
    std::vector<int64_t> strides(shape.size(), 1);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
        strides[d] = strides[d + 1] * shape[d + 1];
    return strides;
}

Value zeros(DType dtype, std::vector<int64_t> shape) {
    Value v;
    v.dtype = dtype;
    const int64_t count = elementCount(shape);
    v.shape = std::move(shape);
    if (v.isInteger())
        v.ints.assign(static_cast<std::size_t>(count), 0);
    else
        v.data.assign(static_cast<std::size_t>(count), 0.0f);
    return v;
}

Value gatherByIndex(const Value& source, const std::vector<int64_t>& index, std::vector<int64_t> shape) {
    Value out;
    out.dtype = source.dtype;
    out.shape = std::move(shape);
    if (source.isInteger()) {
        out.ints.resize(index.size());
        for (std::size_t i = 0; i < index.size(); ++i)
            out.ints[i] = source.ints[index[i]];
    } else {
        out.data.resize(index.size());
        for (std::size_t i = 0; i < index.size(); ++i)
            out.data[i] = source.data[index[i]];
    }
    return out;
}

int64_t wrapInteger(DType dtype, int64_t value) {
    switch (dtype) {
    case DType::I8:
        return static_cast<int8_t>(value);
    case DType::U8:
        return static_cast<uint8_t>(value);
    case DType::I16:
        return static_cast<int16_t>(value);
    case DType::U16:
        return static_cast<uint16_t>(value);
    case DType::I32:
        return static_cast<int32_t>(value);
    case DType::U32:
        return static_cast<uint32_t>(value);
    case DType::Bool:
        return value != 0 ? 1 : 0;
    default:
        return value;
    }
}

float roundToType(DType dtype, float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    if (dtype == DType::BF16) {
        if ((bits & 0x7fffffffu) > 0x7f800000u)
            return value;                                            // NaN
        bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u; // round half to even
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }
    if (dtype == DType::F16) {
        const float magnitude = std::abs(value);
        if (!(magnitude < 65520.0f))
            return std::isnan(value) ? value : std::copysign(std::numeric_limits<float>::infinity(), value);
        // Round to 11 significant bits (or to a multiple of 2^-24 for subnormals), half to even.
        int exponent = 0;
        std::frexp(magnitude, &exponent);
        const int step = std::max(exponent - 11, -24);
        const float quantum = std::ldexp(1.0f, step);
        return std::copysign(std::nearbyint(magnitude / quantum) * quantum, value);
    }
    return value;
}

void storeNumber(Value& target, int64_t i, double number) {
    if (target.isBool()) {
        target.ints[i] = number != 0.0 ? 1 : 0;
    } else if (target.isInteger()) {
        if (std::isnan(number))
            target.ints[i] = 0;
        else if (number >= 9.2e18 || number <= -9.2e18)
            target.ints[i] = number > 0 ? INT64_MAX : INT64_MIN;
        else
            target.ints[i] = wrapInteger(target.dtype, static_cast<int64_t>(number));
    } else {
        target.data[i] = roundToType(target.dtype, static_cast<float>(number));
    }
}

std::vector<int64_t> broadcastShape(const Node& node,
                                    const std::vector<const std::vector<int64_t>*>& shapes) {
    std::size_t rank = 0;
    for (const auto* s : shapes)
        rank = std::max(rank, s->size());
    std::vector<int64_t> out(rank, 1);
    for (const auto* s : shapes) {
        for (std::size_t k = 0; k < s->size(); ++k) {
            const std::size_t o = rank - s->size() + k;
            const int64_t d = (*s)[k];
            if (d == out[o] || d == 1)
                continue;
            if (out[o] != 1) {
                std::string list;
                for (const auto* t : shapes)
                    list += (list.empty() ? "" : ", ") + shapeToString(*t);
                throw Error(nodeSubject(node), "shapes " + list + " do not broadcast");
            }
            out[o] = d;
        }
    }
    return out;
}

std::vector<int64_t> broadcastIndex(const std::vector<int64_t>& shape, const std::vector<int64_t>& outShape) {
    const int64_t total = elementCount(outShape);
    std::vector<int64_t> index(static_cast<std::size_t>(total));
    const std::size_t rank = outShape.size();
    std::vector<int64_t> strides(rank, 0);
    int64_t stride = 1;
    for (std::size_t k = 0; k < shape.size(); ++k) {
        const std::size_t i = shape.size() - 1 - k;
        strides[rank - 1 - k] = shape[i] == 1 ? 0 : stride;
        stride *= shape[i];
    }
    std::vector<int64_t> counter(rank, 0);
    int64_t offset = 0;
    for (int64_t i = 0; i < total; ++i) {
        index[static_cast<std::size_t>(i)] = offset;
        for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; --d) {
            offset += strides[d];
            if (++counter[d] < outShape[d])
                break;
            offset -= strides[d] * outShape[d];
            counter[d] = 0;
        }
    }
    return index;
}

std::vector<int64_t> axesOf(const Node& node, const Inputs& inputs, int64_t opset, int64_t inputSince,
                            std::size_t inputIndex, bool& given) {
    given = true;
    if (opset >= inputSince) {
        if (const Value* axes = optionalInput(inputs, inputIndex))
            return integerValues(node, *axes, "axes");
    } else if (const Attribute* a = node.attribute("axes")) {
        return a->ints;
    }
    given = false;
    return {};
}

} // namespace quantscope::ops
