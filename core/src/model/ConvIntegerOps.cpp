// ConvInteger and QLinearConv (1-D and 2-D, groups, pads, strides, dilations) as ONNX defines
// them: (x - x_zero_point) * (w - w_zero_point) accumulated exactly in int64, the weight zero
// point per tensor or per output channel. QLinearConv adds its int32 bias, rescales by
// x_scale * w_scale / y_scale (w_scale per tensor or per output channel), rounds half to even and
// saturates to y_zero_point's type.
#include "model/ConvGeometry.h"
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ops {
namespace {

void requireInteger8(const Node& n, const Value& v, const char* what) {
    if (v.dtype != DType::U8 && v.dtype != DType::I8)
        throw Error(nodeSubject(n),
                    std::string(what) + " must be uint8 or int8, found " + std::string(dtypeName(v.dtype)));
}

// The zero point of output channel m: a scalar, or one per output channel.
int64_t channelValue(const Node& n, const Value* zero, int64_t channels, int64_t m, const char* what) {
    if (zero == nullptr)
        return 0;
    if (zero->size() == 1)
        return zero->ints[0];
    if (zero->size() != channels)
        throw Error(nodeSubject(n), std::string(what) + " needs 1 or " + std::to_string(channels) +
                                        " values, found " + std::to_string(zero->size()));
    return zero->ints[m];
}

// The exact accumulators [N, M, outH, outW] of the integer convolution.
std::vector<int64_t> integerConv(const Node& n, const Value& x, const Value* xZero, const Value& w,
                                 const Value* wZero, std::vector<int64_t>& outShape) {
    requireInteger8(n, x, "x");
    requireInteger8(n, w, "w");
    if (w.rank() != 4)
        throw Error(nodeSubject(n),
                    "only 1-D and 2-D convolution are supported: weights must be M x C/group x "
                    "kH x kW, found " +
                        shapeToString(w.shape));
    if (xZero != nullptr && xZero->size() != 1)
        throw Error(nodeSubject(n), "x_zero_point must be a scalar");
    const ConvGeometry g = convGeometry(n, x.shape, w.shape[2], w.shape[3], false);
    const int64_t groups = n.intAttribute("group", 1);
    const int64_t outChannels = w.shape[0];
    checkConvWeights(n, g, w.shape, groups, nullptr);
    const int64_t xz = xZero != nullptr ? xZero->ints[0] : 0;
    const int64_t groupIn = g.channels / groups, groupOut = outChannels / groups;
    const int64_t patch = checkedProduct(n, {groupIn, g.kernelH, g.kernelW});
    const int64_t spatial = checkedProduct(n, {g.outH, g.outW});
    outShape = {g.batch, outChannels, g.outH, g.outW};
    std::vector<int64_t> acc(static_cast<std::size_t>(checkedProduct(n, outShape)), 0);
    // Centred input, so padding reads the zero point's value 0 as ONNX's padding with x_zero_point.
    std::vector<int64_t> centred(x.ints.size());
    std::transform(x.ints.begin(), x.ints.end(), centred.begin(), [xz](int64_t v) { return v - xz; });
    std::vector<int64_t> columns(static_cast<std::size_t>(checkedProduct(n, {patch, spatial})));
    for (int64_t b = 0; b < g.batch; ++b) {
        for (int64_t grp = 0; grp < groups; ++grp) {
            im2col(centred.data() + (b * g.channels + grp * groupIn) * g.height * g.width, groupIn, g,
                   columns.data(), int64_t{0});
            for (int64_t m = grp * groupOut; m < (grp + 1) * groupOut; ++m) {
                const int64_t wz = channelValue(n, wZero, outChannels, m, "w_zero_point");
                int64_t* out = acc.data() + (b * outChannels + m) * spatial;
                for (int64_t k = 0; k < patch; ++k) {
                    const int64_t weight = w.ints[m * patch + k] - wz;
                    const int64_t* column = columns.data() + k * spatial;
                    for (int64_t s = 0; s < spatial; ++s)
                        out[s] += weight * column[s];
                }
            }
        }
    }
    return acc;
}

std::vector<Value> convInteger(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const Value& w = requireInput(n, in, 1);
    if (x.rank() == 3 && w.rank() == 3)
        return runAs2d(n, in, opset, convInteger, 2);
    std::vector<int64_t> shape;
    auto acc = integerConv(n, x, optionalInput(in, 2), w, optionalInput(in, 3), shape);
    for (auto& v : acc)
        v = wrapInteger(DType::I32, v);
    return {Value::integers(DType::I32, shape, std::move(acc))};
}

std::vector<Value> qLinearConv(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const Value& w = requireInput(n, in, 3);
    if (x.rank() == 3 && w.rank() == 3)
        return runAs2d(n, in, opset, qLinearConv, 4);
    const Value& xScale = requireInput(n, in, 1);
    const Value& wScale = requireInput(n, in, 4);
    const Value& yScale = requireInput(n, in, 6);
    const Value& yZero = requireInput(n, in, 7);
    const Value* bias = optionalInput(in, 8);
    if (xScale.size() != 1 || yScale.size() != 1 || yZero.size() != 1)
        throw Error(nodeSubject(n), "x_scale, y_scale and y_zero_point must be scalars");
    requireInteger8(n, yZero, "y_zero_point");
    std::vector<int64_t> shape;
    const auto acc = integerConv(n, x, &requireInput(n, in, 2), w, &requireInput(n, in, 5), shape);
    const int64_t channels = shape[1], spatial = shape[2] * shape[3];
    if (bias != nullptr && (bias->size() != channels || !bias->isInteger()))
        throw Error(nodeSubject(n), "B must hold " + std::to_string(channels) + " int32 values");
    if (wScale.size() != 1 && wScale.size() != channels)
        throw Error(nodeSubject(n), "w_scale needs 1 or " + std::to_string(channels) + " values, found " +
                                        std::to_string(wScale.size()));
    const int64_t lo = yZero.dtype == DType::U8 ? 0 : -128, hi = yZero.dtype == DType::U8 ? 255 : 127;
    Value y = zeros(yZero.dtype, shape);
    for (std::size_t i = 0; i < acc.size(); ++i) {
        const int64_t m = static_cast<int64_t>(i) / spatial % channels;
        // In float32 as ONNX's reference: the combined scale, then the product rounded half to even.
        const float multiplier = static_cast<float>(xScale.number(0)) *
                                 static_cast<float>(wScale.number(wScale.size() > 1 ? m : 0)) /
                                 static_cast<float>(yScale.number(0));
        const int64_t sum = acc[i] + (bias != nullptr ? bias->ints[m] : 0);
        const double q = std::nearbyint(static_cast<float>(sum) * multiplier) + yZero.number(0);
        y.ints[i] =
            static_cast<int64_t>(std::clamp<double>(q, static_cast<double>(lo), static_cast<double>(hi)));
    }
    return single(std::move(y));
}

} // namespace

void addConvIntegerOps(OpTable& t) {
    t.push_back({"ConvInteger", 10, 21, convInteger});
    t.push_back({"QLinearConv", 10, 21, qLinearConv});
}

} // namespace quantscope::ops
