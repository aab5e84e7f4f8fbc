// ONNX's own quantization ops, so QDQ and integer models run as exported: QuantizeLinear,
// DequantizeLinear (per tensor, per axis from opset 13, blocked from opset 21; int4 / uint4 inputs
// arrive unpacked as int8 / uint8), DynamicQuantizeLinear, MatMulInteger
// and QLinearMatMul. Follows the ONNX definitions: quantize divides by the scale and rounds half
// to even, then saturates to the zero point's type; integer products accumulate exactly in int64.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ops {
namespace {

int64_t typeMin(DType dtype) {
    switch (dtype) {
    case DType::I8:
        return -128;
    case DType::I16:
        return -32768;
    case DType::I32:
        return INT32_MIN;
    default:
        return 0;
    }
}

int64_t typeMax(DType dtype) {
    switch (dtype) {
    case DType::I8:
        return 127;
    case DType::U8:
        return 255;
    case DType::I16:
        return 32767;
    case DType::U16:
        return 65535;
    case DType::I32:
        return INT32_MAX;
    default:
        return INT64_MAX;
    }
}

// For every element of `x`, the index into a blocked parameter (opset 21's block_size: the
// parameter has x's rank, its `axis` dimension cut into blocks of block_size).
std::vector<int64_t> blockedParameterIndex(const Node& n, const Value& x, const Value& parameter,
                                           int64_t blockSize) {
    if (parameter.rank() != x.rank())
        throw Error(nodeSubject(n), "a blocked scale must have the input's rank " + std::to_string(x.rank()) +
                                        ", found rank " + std::to_string(parameter.rank()));
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", 1), x.rank());
    for (int64_t d = 0; d < x.rank(); ++d) {
        const int64_t expected = d == axis ? (x.shape[d] + blockSize - 1) / blockSize : x.shape[d];
        if (parameter.shape[d] != expected)
            throw Error(nodeSubject(n), "blocked scale dimension " + std::to_string(d) + " is " +
                                            std::to_string(parameter.shape[d]) + ", block_size " +
                                            std::to_string(blockSize) + " needs " + std::to_string(expected));
    }
    int64_t inner = 1;
    for (int64_t d = axis + 1; d < x.rank(); ++d)
        inner *= x.shape[d];
    const int64_t length = x.shape[axis];
    const int64_t blocks = parameter.shape[axis];
    std::vector<int64_t> index(static_cast<std::size_t>(x.size()));
    for (int64_t i = 0; i < x.size(); ++i) {
        const int64_t outer = i / (inner * length);
        const int64_t along = (i / inner) % length;
        index[i] = (outer * blocks + along / blockSize) * inner + i % inner;
    }
    return index;
}

// For every element of `x`, the index into a per-axis parameter (0 for a per-tensor one).
std::vector<int64_t> parameterIndex(const Node& n, const Value& x, const Value& parameter) {
    if (const int64_t blockSize = n.intAttribute("block_size", 0); blockSize != 0) {
        if (blockSize < 0)
            throw Error(nodeSubject(n), "block_size must be positive, found " + std::to_string(blockSize));
        return blockedParameterIndex(n, x, parameter, blockSize);
    }
    std::vector<int64_t> index(static_cast<std::size_t>(x.size()), 0);
    if (parameter.size() <= 1)
        return index;
    if (parameter.rank() != 1)
        throw Error(nodeSubject(n), "scale and zero point must be scalars or 1-D (per axis)");
    const int64_t axis = normalizeAxis(n, n.intAttribute("axis", 1), x.rank());
    if (parameter.size() != x.shape[axis])
        throw Error(nodeSubject(n), "per-axis scale needs " + std::to_string(x.shape[axis]) +
                                        " values, found " + std::to_string(parameter.size()));
    int64_t inner = 1;
    for (int64_t d = axis + 1; d < x.rank(); ++d)
        inner *= x.shape[d];
    for (int64_t i = 0; i < x.size(); ++i)
        index[i] = (i / inner) % x.shape[axis];
    return index;
}

int64_t saturate(double value, DType dtype) {
    return static_cast<int64_t>(
        std::clamp(value, static_cast<double>(typeMin(dtype)), static_cast<double>(typeMax(dtype))));
}

std::vector<Value> quantizeLinear(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const Value& scale = requireInput(n, in, 1);
    const Value* zeroPoint = optionalInput(in, 2);
    const DType type = zeroPoint ? zeroPoint->dtype : DType::U8;
    if (type != DType::U8 && type != DType::I8 && type != DType::U16 && type != DType::I16)
        throw Error(nodeSubject(n), "quantizing to " + std::string(dtypeName(type)) +
                                        " is not supported (int8, uint8, int16, uint16)");
    const auto index = parameterIndex(n, x, scale);
    Value y = zeros(type, x.shape);
    for (int64_t i = 0; i < x.size(); ++i) {
        // In float32 as ONNX's reference: x / scale rounds there before the half-to-even step.
        const double q =
            std::nearbyint(static_cast<float>(x.number(i)) / static_cast<float>(scale.number(index[i])));
        y.ints[i] = saturate(q + (zeroPoint ? zeroPoint->number(index[i]) : 0.0), type);
    }
    return single(std::move(y));
}

std::vector<Value> dequantizeLinear(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const Value& scale = requireInput(n, in, 1);
    const Value* zeroPoint = optionalInput(in, 2);
    const auto index = parameterIndex(n, x, scale);
    Value y = zeros(scale.dtype, x.shape);
    for (int64_t i = 0; i < x.size(); ++i) {
        const double zp = zeroPoint ? zeroPoint->number(index[i]) : 0.0;
        y.data[i] = static_cast<float>((x.number(i) - zp) * scale.number(index[i]));
    }
    return single(std::move(y));
}

std::vector<Value> dynamicQuantizeLinear(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    float lo = 0.0f, hi = 0.0f;
    for (float v : x.data) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    const float scale = (hi - lo) / 255.0f;
    const float zeroPoint = scale > 0.0f ? std::clamp(std::nearbyint(-lo / scale), 0.0f, 255.0f) : 0.0f;
    Value y = zeros(DType::U8, x.shape);
    for (int64_t i = 0; i < x.size(); ++i)
        y.ints[i] = scale > 0.0f ? saturate(std::nearbyint(x.data[i] / scale) + zeroPoint, DType::U8)
                                 : saturate(zeroPoint, DType::U8);
    return {std::move(y), Value::floats({}, {scale}),
            Value::integers(DType::U8, {}, {static_cast<int64_t>(zeroPoint)})};
}

// (A - a_zero) x (B - b_zero) in int64 for A [..., M, K] and B [K, N] or [..., K, N] with A's batch
// dimensions; zero points are scalars, per row of A or per column of B.
std::vector<int64_t> integerProduct(const Node& n, const Value& a, const Value* aZero, const Value& b,
                                    const Value* bZero, std::vector<int64_t>& shape) {
    const bool batchedB = b.rank() > 2;
    if (a.rank() < 1 || b.rank() < 2 || a.shape.back() != b.shape[b.rank() - 2] ||
        (batchedB &&
         (a.rank() != b.rank() || !std::equal(a.shape.begin(), a.shape.end() - 2, b.shape.begin()))))
        throw Error(nodeSubject(n), "needs A [..., M, K] and B [K, N] or [..., K, N], found " +
                                        shapeToString(a.shape) + " and " + shapeToString(b.shape));
    const int64_t k = b.shape[b.rank() - 2], cols = b.shape.back(), rows = k > 0 ? a.size() / k : 0;
    shape = a.shape;
    shape.back() = cols;
    std::vector<int64_t> result(static_cast<std::size_t>(rows * cols), 0);
    const int64_t rowsPerBatch = a.rank() >= 2 ? a.shape[a.rank() - 2] : 1;
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t za = aZero == nullptr ? 0 : aZero->ints[aZero->size() > 1 ? r % rowsPerBatch : 0];
        for (int64_t c = 0; c < cols; ++c) {
            const int64_t zb = bZero == nullptr ? 0 : bZero->ints[bZero->size() > 1 ? c : 0];
            int64_t sum = 0;
            for (int64_t j = 0; j < k; ++j)
                sum += (a.ints[r * k + j] - za) *
                       (b.ints[(batchedB ? r / rowsPerBatch * k * cols : 0) + j * cols + c] - zb);
            result[r * cols + c] = sum;
        }
    }
    return result;
}

std::vector<Value> matMulInteger(const Node& n, const Inputs& in, int64_t) {
    std::vector<int64_t> shape;
    auto product = integerProduct(n, requireInput(n, in, 0), optionalInput(in, 2), requireInput(n, in, 1),
                                  optionalInput(in, 3), shape);
    return {Value::integers(DType::I32, shape, std::move(product))};
}

std::vector<Value> qLinearMatMul(const Node& n, const Inputs& in, int64_t) {
    const Value& aScale = requireInput(n, in, 1);
    const Value& bScale = requireInput(n, in, 4);
    const Value& yScale = requireInput(n, in, 6);
    const Value& yZero = requireInput(n, in, 7);
    if (aScale.size() != 1 || yScale.size() != 1 || yZero.size() != 1)
        throw Error(nodeSubject(n), "a_scale, y_scale and y_zero_point must be scalars");
    std::vector<int64_t> shape;
    const auto product = integerProduct(n, requireInput(n, in, 0), &requireInput(n, in, 2),
                                        requireInput(n, in, 3), &requireInput(n, in, 5), shape);
    const int64_t cols = shape.back();
    Value y = zeros(yZero.dtype, shape);
    for (std::size_t i = 0; i < product.size(); ++i) {
        const double s = aScale.number(0) *
                         bScale.number(bScale.size() > 1 ? static_cast<int64_t>(i) % cols : 0) /
                         yScale.number(0);
        y.ints[i] =
            saturate(std::nearbyint(static_cast<double>(product[i]) * s) + yZero.number(0), yZero.dtype);
    }
    return single(std::move(y));
}

} // namespace

void addQuantizationOps(OpTable& t) {
    t.push_back({"QuantizeLinear", 10, 21, quantizeLinear});
    t.push_back({"DequantizeLinear", 10, 21, dequantizeLinear});
    t.push_back({"DynamicQuantizeLinear", 11, 21, dynamicQuantizeLinear});
    t.push_back({"MatMulInteger", 10, 21, matMulInteger});
    t.push_back({"QLinearMatMul", 10, 21, qLinearMatMul});
}

} // namespace quantscope::ops
