#include "model/LayerRunner.h"

#include "model/ActivationCodes.h"
#include "model/ConvGeometry.h"
#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/calib/Observer.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Int8Conv.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/PackedInt4Weights.h"
#include "quantscope/kernels/PackedInt8Weights.h"
#include "quantscope/model/Int8Linear.h"
#include "quantscope/quant/ValueQuantizer.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <span>

namespace quantscope {
namespace {

QParams perTensorParams(std::span<const float> values, const QuantSpec& spec) {
    const auto observer = makeObserver(spec);
    observer->observe(values);
    return observedParams(*observer, spec);
}

// One image of a dynamic Conv's input quantized with its own min / max (PyTorch's dynamic rule
// applied per sample, so a result does not depend on the other images of the batch), as
// integerLayer quantizes: q - qmin shifts any <= 8-bit integer format into 0..255.
struct ImageCodes {
    int32_t zeroPoint = 0; // in those codes
    float scale = 0.0f;
};
ImageCodes quantizeImage(const float* image, std::size_t size, const QuantSpec& spec, uint8_t* codes) {
    const QParams params = perTensorParams(std::span<const float>(image, size), spec);
    quantizeToCodes(image, size, spec, params, codes);
    return {params.zeroPoint[0] - static_cast<int32_t>(params.qmin), params.scale[0]};
}

// Gemm's y = alpha * product + beta * C, C broadcast to M x N from [], [N], [1, N], [M, 1] or
// [M, N] as in the fp32 Gemm.
void applyGemmEpilogue(const Node& node, const Value& a, const Value* c, int64_t m, int64_t n,
                       std::vector<float>& y) {
    if (a.rank() != 2)
        throw Error(ops::nodeSubject(node), "A must be 2-D, found " + shapeToString(a.shape));
    const float alpha = node.floatAttribute("alpha", 1.0f);
    const float beta = node.floatAttribute("beta", 1.0f);
    if (alpha != 1.0f) {
        for (float& v : y)
            v *= alpha;
    }
    if (c == nullptr || beta == 0.0f)
        return;
    const auto& cs = c->shape;
    const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
    if (cs.size() > 2 || (rows != 1 && rows != m) || (cols != 1 && cols != n))
        throw Error(ops::nodeSubject(node),
                    "C of shape " + shapeToString(cs) + " does not broadcast to the output");
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j)
            y[i * n + j] += beta * c->data[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
    }
}

// The layer's inputs with its weights replaced by the dequantized ones.
std::vector<const Value*> withWeights(const std::vector<const Value*>& inputs, const Value& dequantized) {
    std::vector<const Value*> result = inputs;
    result[1] = &dequantized;
    return result;
}

// A Gemm / MatMul input must end in the weights' K inputs; returns its rows.
int64_t linearRows(const Node& node, const Value& x, int64_t k) {
    if (x.rank() < 1 || x.shape.back() != k)
        throw Error(ops::nodeSubject(node), "input " + shapeToString(x.shape) +
                                                " does not end in the weights' " + std::to_string(k) +
                                                " inputs");
    return static_cast<int64_t>(x.data.size()) / k;
}

// A Conv's window must hold as many values as the packed weights' rows.
void checkPatch(const Node& node, int64_t patch, int64_t weightK) {
    if (patch != weightK)
        throw Error(ops::nodeSubject(node), "a window of " + std::to_string(patch) +
                                                " values does not match the weights' " +
                                                std::to_string(weightK));
}

} // namespace

LayerRunner::LayerRunner(const Executor& executor, kernels::ThreadPool* pool)
    : m_executor(executor), m_pool(pool) {}

bool LayerRunner::takesCodes(const QuantSpec& spec) {
    return spec.format.isInteger() && spec.granularity == Granularity::Tensor &&
           spec.qmax() - spec.qmin() <= 255;
}

const Node& LayerRunner::nodeOf(const QuantizedModel::Layer& layer) const {
    return m_executor.graph().nodes[layer.nodeIndex];
}

std::vector<Value> LayerRunner::weightOnly(const QuantizedModel::Layer& layer, const Value& dequantized,
                                           const std::vector<const Value*>& inputs) const {
    const Node& node = nodeOf(layer);
    if (!layer.int4)
        return m_executor.runNode(node, withWeights(inputs, dequantized)); // fp32 arithmetic
    const Value& x = ops::requireInput(node, inputs, 0);
    const int64_t n = layer.int4->n();
    const int64_t m = linearRows(node, x, layer.int4->k());
    Value y;
    y.shape = x.shape;
    y.shape.back() = n;
    y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, {m, n})));
    if (m > 0)
        kernels::int4Gemm(kernels::KernelRegistry::active(), x.data.data(), static_cast<int>(m), *layer.int4,
                          y.data.data(), kernels::Int4Activations::Float32, m_pool);
    if (node.opType == "Gemm")
        applyGemmEpilogue(node, x, inputs.size() > 2 ? inputs[2] : nullptr, m, n, y.data);
    std::vector<Value> outputs;
    outputs.push_back(std::move(y));
    return outputs;
}

bool LayerRunner::dynamic(const QuantizedModel::Layer& layer, const Value& dequantized, const QuantSpec& spec,
                          const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const {
    const Node& node = nodeOf(layer);
    const Value& x = ops::requireInput(node, inputs, 0);
    if (node.opType == "Conv") {
        if (!layer.integerPath || !takesCodes(spec) || x.rank() != 4 || x.shape[0] == 0)
            return false;
        Value y;
        if (layer.hwcWeights)
            y = dynamicConv(layer, x, spec, inputs);
        else if (!layer.depthwiseWeights.empty())
            y = dynamicDepthwiseConv(layer, x, spec, inputs);
        else
            y = dynamicConvByImage(layer, x, spec, inputs);
        outputs.clear();
        outputs.push_back(std::move(y));
        return true;
    }
    // Per batch min / max, as PyTorch's dynamic Linear, whatever --calib says.
    const QParams params = perTensorParams(x.data, spec);
    if (layer.integerPath && takesCodes(spec)) {
        outputs.clear();
        outputs.push_back(integerLayer(layer, x, params, spec, inputs));
        return true;
    }
    Value fake = x;
    fakeQuantize(fake.data, spec, params);
    std::vector<const Value*> quantized = withWeights(inputs, dequantized);
    quantized[0] = &fake;
    outputs = m_executor.runNode(node, quantized);
    return true;
}

std::vector<Value> LayerRunner::simulatedStatic(const QuantizedModel::Layer& layer, const Value& dequantized,
                                                const QParamsEntry* input,
                                                const std::vector<const Value*>& inputs) const {
    if (input && layer.integerPath && takesCodes(input->spec)) {
        std::vector<Value> outputs;
        outputs.push_back(integerLayer(layer, ops::requireInput(nodeOf(layer), inputs, 0), *input->params,
                                       input->spec, inputs));
        return outputs;
    }
    // The input is already quantized (or a constant): the fp32 op on the quantized weights.
    return m_executor.runNode(nodeOf(layer), withWeights(inputs, dequantized));
}

Value LayerRunner::integerLayer(const QuantizedModel::Layer& layer, const Value& x, const QParams& xParams,
                                const QuantSpec& xSpec, const std::vector<const Value*>& inputs) const {
    const Node& node = nodeOf(layer);
    // Quantize the input to uint8: q - qmin shifts any <= 8-bit integer format into 0..255.
    const int32_t qmin = static_cast<int32_t>(xParams.qmin);
    std::vector<uint8_t> xq(x.data.size());
    quantizeToCodes(x.data.data(), xq.size(), xSpec, xParams, xq.data());
    const int32_t zx = xParams.zeroPoint[0] - qmin;
    const float sx = xParams.scale[0];
    const Value* bias = inputs.size() > 2 ? inputs[2] : nullptr;

    if (node.opType == "Conv") {
        const Value& w = m_executor.graph().initializers.at(layer.weightName);
        const ConvGeometry g = convGeometry(node, x.shape, w.shape[2], w.shape[3], false);
        const int64_t groups = layer.groups;
        checkConvWeights(node, g, w.shape, groups, bias); // im2row and the int8 GEMM trust these sizes
        const int64_t groupIn = g.channels / groups, groupOut = w.shape[0] / groups;
        const int64_t patch = ops::checkedProduct(node, {groupIn, g.kernelH, g.kernelW});
        const int64_t spatial = ops::checkedProduct(node, {g.outH, g.outW});
        checkPatch(node, patch, layer.int8[0]->k());
        Value y;
        y.shape = {g.batch, w.shape[0], g.outH, g.outW};
        y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, y.shape)));
        // All images of a chunk in one GEMM (M = images x output pixels): the kernels pack
        // activations per call, so few large calls beat many small ones. Chunks bound the memory.
        const int64_t chunk = std::max<int64_t>(
            1, std::min<int64_t>(g.batch, (int64_t{16} << 20) / std::max<int64_t>(1, spatial * patch)));
        std::vector<uint8_t> rows(static_cast<std::size_t>(chunk * spatial * patch));
        std::vector<int32_t> acc(static_cast<std::size_t>(chunk * spatial * groupOut));
        for (int64_t first = 0; first < g.batch; first += chunk) {
            const int64_t images = std::min(chunk, g.batch - first);
            for (int64_t grp = 0; grp < groups; ++grp) {
                for (int64_t i = 0; i < images; ++i) {
                    im2row(xq.data() + ((first + i) * g.channels + grp * groupIn) * g.height * g.width,
                           groupIn, g, rows.data() + i * spatial * patch,
                           static_cast<uint8_t>(zx)); // padding is real zero: the zero point
                }
                layer.int8[grp]->run(rows.data(), images * spatial, zx, acc.data(), m_pool);
                for (int64_t i = 0; i < images; ++i) {
                    const int32_t* imageAcc = acc.data() + i * spatial * groupOut;
                    for (int64_t j = 0; j < groupOut; ++j) {
                        const int64_t channel = grp * groupOut + j;
                        const float scale = sx * layer.rowScales[channel];
                        const float add = bias ? bias->data[channel] : 0.0f;
                        float* out = y.data.data() + ((first + i) * w.shape[0] + channel) * spatial;
                        for (int64_t p = 0; p < spatial; ++p)
                            out[p] = static_cast<float>(imageAcc[p * groupOut + j]) * scale + add;
                    }
                }
            }
        }
        return y;
    }

    const Int8Linear& linear = *layer.int8[0];
    const int64_t n = linear.n();
    const int64_t m = linearRows(node, x, linear.k());
    std::vector<int32_t> acc(static_cast<std::size_t>(ops::checkedProduct(node, {m, n})));
    linear.run(xq.data(), m, zx, acc.data(), m_pool);
    Value y;
    y.shape = x.shape;
    y.shape.back() = n;
    y.data.resize(acc.size());
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j)
            y.data[i * n + j] = static_cast<float>(acc[i * n + j]) * (sx * layer.rowScales[j]);
    }
    if (node.opType == "Gemm")
        applyGemmEpilogue(node, x, bias, m, n, y.data);
    return y;
}

Value LayerRunner::dynamicConv(const QuantizedModel::Layer& layer, const Value& x, const QuantSpec& spec,
                               const std::vector<const Value*>& inputs) const {
    const Node& node = nodeOf(layer);
    const Value& w = m_executor.graph().initializers.at(layer.weightName);
    const ConvGeometry g = convGeometry(node, x.shape, w.shape[2], w.shape[3], false);
    const Value* bias = inputs.size() > 2 ? inputs[2] : nullptr;
    checkConvWeights(node, g, w.shape, 1, bias);
    checkPatch(node, ops::checkedProduct(node, {g.channels, g.kernelH, g.kernelW}), layer.hwcWeights->k());
    const kernels::Conv2dGeometry geometry = kernelConvGeometry(node, g, g.channels);
    const int batch = kernelSize(node, g.batch);

    const std::size_t imageSize =
        static_cast<std::size_t>(ops::checkedProduct(node, {g.channels, g.height, g.width}));
    std::vector<uint8_t> codes(x.data.size());
    std::vector<int32_t> zeroPoints(static_cast<std::size_t>(g.batch));
    std::vector<float> scales(static_cast<std::size_t>(g.batch));
    for (std::size_t i = 0; i < zeroPoints.size(); ++i) {
        const ImageCodes image =
            quantizeImage(x.data.data() + i * imageSize, imageSize, spec, codes.data() + i * imageSize);
        zeroPoints[i] = image.zeroPoint;
        scales[i] = image.scale;
    }
    Value y;
    y.shape = {g.batch, w.shape[0], g.outH, g.outW};
    y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, y.shape)));
    const kernels::PackedInt8Weights& packed = *layer.hwcWeights;
    kernels::int8ConvDequantize(*kernels::KernelRegistry::table(packed.path()), geometry, batch, codes.data(),
                                zeroPoints.data(), scales.data(), packed, layer.rowScales.data(), true,
                                bias ? bias->data.data() : nullptr, y.data.data(), m_pool);
    return y;
}

Value LayerRunner::dynamicDepthwiseConv(const QuantizedModel::Layer& layer, const Value& x,
                                        const QuantSpec& spec,
                                        const std::vector<const Value*>& inputs) const {
    const Node& node = nodeOf(layer);
    const Value& w = m_executor.graph().initializers.at(layer.weightName);
    const ConvGeometry g = convGeometry(node, x.shape, w.shape[2], w.shape[3], false);
    const Value* bias = inputs.size() > 2 ? inputs[2] : nullptr;
    checkConvWeights(node, g, w.shape, layer.groups, bias);                     // one input channel per group
    const kernels::DepthwiseConvShape shape = kernelDepthwiseShape(node, g, 1); // image by image

    const std::size_t imageSize =
        static_cast<std::size_t>(ops::checkedProduct(node, {g.channels, g.height, g.width}));
    const std::size_t outImage =
        static_cast<std::size_t>(ops::checkedProduct(node, {w.shape[0], g.outH, g.outW}));
    Value y;
    y.shape = {g.batch, w.shape[0], g.outH, g.outW};
    y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, y.shape)));
    std::vector<uint8_t> codes(imageSize);
    std::vector<float> scales(static_cast<std::size_t>(w.shape[0]));
    const kernels::KernelTable& path = kernels::KernelRegistry::active();
    for (int64_t i = 0; i < g.batch; ++i) {
        const ImageCodes image = quantizeImage(x.data.data() + static_cast<std::size_t>(i) * imageSize,
                                               imageSize, spec, codes.data());
        for (std::size_t c = 0; c < scales.size(); ++c)
            scales[c] = image.scale * layer.rowScales[c]; // integerLayer's per-channel factor, rounded alike
        kernels::int8DepthwiseConvFloat(path, shape, codes.data(), image.zeroPoint,
                                        layer.depthwiseWeights.data(), scales.data(),
                                        bias ? bias->data.data() : nullptr,
                                        y.data.data() + static_cast<std::size_t>(i) * outImage, m_pool);
    }
    return y;
}

Value LayerRunner::dynamicConvByImage(const QuantizedModel::Layer& layer, const Value& x,
                                      const QuantSpec& spec, const std::vector<const Value*>& inputs) const {
    const int64_t images = x.shape[0];
    const std::size_t imageSize = x.data.size() / static_cast<std::size_t>(images);
    Value y;
    for (int64_t i = 0; i < images; ++i) {
        Value image;
        image.shape = x.shape;
        image.shape[0] = 1;
        image.data.assign(x.data.begin() + static_cast<std::ptrdiff_t>(i * imageSize),
                          x.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * imageSize));
        const QParams params = perTensorParams(image.data, spec);
        Value part = integerLayer(layer, image, params, spec, inputs);
        if (i == 0) {
            y.shape = part.shape;
            y.shape[0] = images;
            y.data.reserve(part.data.size() * static_cast<std::size_t>(images));
        }
        y.data.insert(y.data.end(), part.data.begin(), part.data.end());
    }
    return y;
}

} // namespace quantscope
