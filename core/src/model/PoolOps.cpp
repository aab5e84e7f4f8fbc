// MaxPool, AveragePool (count_include_pad, ceil_mode), GlobalAveragePool / GlobalMaxPool and
// MaxUnpool over N x C x H x W (N x C x L through runAs2d, three or more spatial axes through
// WindowNd).
#include "model/ConvGeometry.h"
#include "model/Ops.h"
#include "model/WindowNd.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace quantscope::ops {
namespace {

ConvGeometry poolGeometry(const Node& n, const Value& x) {
    if (!n.attribute("kernel_shape"))
        throw Error(nodeSubject(n), "kernel_shape is required");
    return convGeometry(n, x.shape, 0, 0, n.intAttribute("ceil_mode", 0) != 0);
}

// Pools compute in float32; integer inputs (MaxPool on uint8) convert there (into `storage`) and
// back exactly. A float input is read where it lies, not copied.
const Value& asFloat(const Value& x, Value& storage) {
    if (!x.isInteger())
        return x;
    storage = Value::floats(x.shape, x.toFloats());
    return storage;
}

Value asType(Value y, DType dtype) {
    if (dtypeIsFloat(dtype)) {
        y.dtype = dtype;
        return y;
    }
    Value out = zeros(dtype, y.shape);
    for (int64_t i = 0; i < y.size(); ++i)
        out.ints[i] = static_cast<int64_t>(y.data[i]);
    return out;
}

// The window taps [begin, end) of a window starting at `start` (tap k reads start + k * dilation)
// that fall inside [0, size): the loops over them need no test per tap.
std::pair<int64_t, int64_t> windowInside(int64_t start, int64_t dilation, int64_t taps, int64_t size) {
    int64_t begin = 0, end = taps;
    while (begin < end && start + begin * dilation < 0)
        ++begin;
    while (end > begin && start + (end - 1) * dilation >= size)
        --end;
    return {begin, end};
}

std::vector<Value> maxPool(const Node& n, const Inputs& in, int64_t opset) {
    const Value& input = requireInput(n, in, 0);
    if (input.rank() == 3)
        return runAs2d(n, in, opset, maxPool, 1);
    if (input.rank() >= 5)
        return poolNd(n, input, true);
    Value converted;
    const Value& x = asFloat(input, converted);
    const ConvGeometry g = poolGeometry(n, x);
    const bool columnMajor = n.intAttribute("storage_order", 0) != 0; // of the Indices output
    const bool wantIndices = n.outputs.size() > 1 && !n.outputs[1].empty();
    checkedProduct(n, {g.batch, g.channels, g.outH, g.outW});
    Value y = zeros(DType::F32, {g.batch, g.channels, g.outH, g.outW});
    Value indices = zeros(DType::I64, wantIndices ? y.shape : std::vector<int64_t>{0});
    for (int64_t plane = 0; plane < g.batch * g.channels; ++plane) {
        const float* src = x.data.data() + plane * g.height * g.width;
        float* dst = y.data.data() + plane * g.outSpatial();
        for (int64_t oy = 0; oy < g.outH; ++oy) {
            const int64_t y0 = oy * g.strideH - g.padTop;
            const auto [kiBegin, kiEnd] = windowInside(y0, g.dilationH, g.kernelH, g.height);
            for (int64_t ox = 0; ox < g.outW; ++ox) {
                const int64_t x0 = ox * g.strideW - g.padLeft;
                const auto [kjBegin, kjEnd] = windowInside(x0, g.dilationW, g.kernelW, g.width);
                float best = -std::numeric_limits<float>::infinity();
                int64_t bestAt = 0;
                for (int64_t ki = kiBegin; ki < kiEnd; ++ki) {
                    const int64_t row = (y0 + ki * g.dilationH) * g.width;
                    for (int64_t kj = kjBegin; kj < kjEnd; ++kj) {
                        const int64_t at = row + x0 + kj * g.dilationW;
                        if (src[at] > best) {
                            best = src[at];
                            bestAt = at;
                        }
                    }
                }
                dst[oy * g.outW + ox] = best;
                if (wantIndices)
                    indices.ints[plane * g.outSpatial() + oy * g.outW + ox] =
                        plane * g.height * g.width +
                        (columnMajor ? (bestAt % g.width) * g.height + bestAt / g.width : bestAt);
            }
        }
    }
    std::vector<Value> outputs{asType(std::move(y), input.dtype)};
    if (wantIndices)
        outputs.push_back(std::move(indices));
    return outputs;
}

std::vector<Value> averagePool(const Node& n, const Inputs& in, int64_t opset) {
    const Value& input = requireInput(n, in, 0);
    if (input.rank() == 3)
        return runAs2d(n, in, opset, averagePool, 1);
    if (input.rank() >= 5)
        return poolNd(n, input, false);
    Value converted;
    const Value& x = asFloat(input, converted);
    const ConvGeometry g = poolGeometry(n, x);
    if (g.dilationH != 1 || g.dilationW != 1)
        throw Error(nodeSubject(n), "dilations other than 1 are not supported");
    const bool countPad = n.intAttribute("count_include_pad", 0) != 0;
    checkedProduct(n, {g.batch, g.channels, g.outH, g.outW});
    Value y = zeros(DType::F32, {g.batch, g.channels, g.outH, g.outW});
    for (int64_t plane = 0; plane < g.batch * g.channels; ++plane) {
        const float* src = x.data.data() + plane * g.height * g.width;
        float* dst = y.data.data() + plane * g.outSpatial();
        for (int64_t oy = 0; oy < g.outH; ++oy) {
            const int64_t y0 = oy * g.strideH - g.padTop;
            for (int64_t ox = 0; ox < g.outW; ++ox) {
                const int64_t x0 = ox * g.strideW - g.padLeft;
                double sum = 0.0;
                int64_t real = 0;
                for (int64_t iy = std::max<int64_t>(y0, 0); iy < std::min(y0 + g.kernelH, g.height); ++iy) {
                    for (int64_t ix = std::max<int64_t>(x0, 0); ix < std::min(x0 + g.kernelW, g.width);
                         ++ix) {
                        sum += src[iy * g.width + ix];
                        ++real;
                    }
                }
                int64_t count = real;
                if (countPad) { // padding counts, but not the extra cells ceil_mode adds past it
                    const int64_t ys = std::min(y0 + g.kernelH, g.height + g.padBottom) - y0;
                    const int64_t xs = std::min(x0 + g.kernelW, g.width + g.padRight) - x0;
                    count = ys * xs;
                }
                dst[oy * g.outW + ox] =
                    count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
            }
        }
    }
    return {asType(std::move(y), input.dtype)};
}

std::vector<Value> globalPool(const Node& n, const Inputs& in, bool wantMax) {
    const Value& x = requireInput(n, in, 0);
    if (x.isInteger())
        throw Error(nodeSubject(n), "needs a floating-point input");
    if (x.rank() < 3)
        throw Error(nodeSubject(n), "input must be N x C x spatial...");
    const int64_t spatial = checkedProduct(n, std::vector<int64_t>(x.shape.begin() + 2, x.shape.end()));
    Value y;
    y.shape = {x.shape[0], x.shape[1]};
    y.shape.resize(x.shape.size(), 1);
    y.data.resize(static_cast<std::size_t>(checkedProduct(n, {x.shape[0], x.shape[1]})));
    for (std::size_t plane = 0; plane < y.data.size(); ++plane) {
        double sum = 0.0, peak = -std::numeric_limits<double>::infinity();
        for (int64_t s = 0; s < spatial; ++s) {
            sum += x.data[plane * spatial + s];
            peak = std::max<double>(peak, x.data[plane * spatial + s]);
        }
        y.data[plane] = wantMax
                            ? static_cast<float>(peak)
                            : (spatial > 0 ? static_cast<float>(sum / static_cast<double>(spatial)) : 0.0f);
    }
    return single(std::move(y));
}

// Scatters every input value to the flat output position its index names (MaxPool's Indices);
// the output is the size the pooling came from, or output_shape.
std::vector<Value> maxUnpool(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    const Value& indices = requireInput(n, in, 1);
    if (x.isInteger() || x.rank() < 3 || indices.shape != x.shape)
        throw Error(nodeSubject(n),
                    "needs a float input N x C x spatial... and indices of the same shape, found " +
                        shapeToString(x.shape) + " and " + shapeToString(indices.shape));
    const auto at = integerValues(n, indices, "indices");
    const std::size_t axes = static_cast<std::size_t>(x.rank()) - 2;
    const auto kernel = n.intsAttribute("kernel_shape", {});
    const auto strides = n.intsAttribute("strides", std::vector<int64_t>(axes, 1));
    const auto pads = n.intsAttribute("pads", std::vector<int64_t>(2 * axes, 0));
    if (kernel.size() != axes || strides.size() != axes || pads.size() != 2 * axes)
        throw Error(nodeSubject(n), "kernel_shape and strides need " + std::to_string(axes) +
                                        " values and pads " + std::to_string(2 * axes));
    // Indices address the shape the pooling came from; output_shape may add cells after it.
    std::vector<int64_t> inferred{x.shape[0], x.shape[1]};
    for (std::size_t a = 0; a < axes; ++a) {
        constexpr int64_t kLimit = int64_t{1} << 30;
        if (kernel[a] < 1 || strides[a] < 1 || kernel[a] > kLimit || strides[a] > kLimit || pads[a] < 0 ||
            pads[a + axes] < 0)
            throw Error(nodeSubject(n), "kernel sizes and strides must be in 1..2^30, pads non-negative");
        inferred.push_back(
            std::max<int64_t>((x.shape[2 + a] - 1) * strides[a] + kernel[a] - pads[a] - pads[a + axes], 0));
    }
    std::vector<int64_t> shape = inferred;
    if (const Value* given = optionalInput(in, 2)) {
        shape = integerValues(n, *given, "output_shape");
        bool fits = shape.size() == inferred.size();
        for (std::size_t d = 0; fits && d < shape.size(); ++d)
            fits = shape[d] >= inferred[d] && (d >= 2 || shape[d] == inferred[d]);
        if (!fits)
            throw Error(nodeSubject(n), "output_shape " + shapeToString(shape) + " is smaller than " +
                                            shapeToString(inferred) + " or does not fit the input");
    }
    const int64_t inferredCount = checkedProduct(n, inferred);
    checkedProduct(n, shape);
    Value y = zeros(x.dtype, shape);
    const auto outStrides = stridesOf(shape);
    for (int64_t i = 0; i < x.size(); ++i) {
        if (at[i] < 0 || at[i] >= inferredCount)
            throw Error(nodeSubject(n), "index " + std::to_string(at[i]) + " is outside the unpooled " +
                                            std::to_string(inferredCount) + " elements");
        int64_t rest = at[i], target = 0;
        for (int64_t d = static_cast<int64_t>(inferred.size()) - 1; d >= 0; --d) {
            target += rest % inferred[d] * outStrides[d];
            rest /= inferred[d];
        }
        y.data[target] = x.data[i];
    }
    return single(std::move(y));
}

} // namespace

void addPoolOps(OpTable& t) {
    t.push_back({"MaxUnpool", 9, 21, maxUnpool});
    t.push_back({"MaxPool", 7, 21, maxPool});
    t.push_back({"AveragePool", 7, 21, averagePool});
    t.push_back({"GlobalAveragePool", 1, 21,
                 +[](const Node& n, const Inputs& in, int64_t) { return globalPool(n, in, false); }});
    t.push_back({"GlobalMaxPool", 1, 21,
                 +[](const Node& n, const Inputs& in, int64_t) { return globalPool(n, in, true); }});
}

} // namespace quantscope::ops
