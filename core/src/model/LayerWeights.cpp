#include "model/LayerWeights.h"

#include "model/Ops.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Int8Conv.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/PackedInt4Weights.h"
#include "quantscope/kernels/PackedInt8Weights.h"
#include "quantscope/model/Int8Linear.h"

#include <algorithm>

namespace quantscope {
namespace {

bool fitsInt8Weights(const QuantSpec& spec) {
    return spec.format.isInteger() && spec.format.isSigned && spec.format.bits <= 8 &&
           spec.granularity != Granularity::Group;
}

bool isQuantizableOp(const std::string& op) {
    return op == "Gemm" || op == "MatMul" || op == "Conv";
}

// Int8 rows per Conv group (one for Gemm / MatMul), and the layouts dynamic mode's Conv kernels
// take; leaves integerPath false when the weights do not fit the int8 core.
void packInt8(QuantizedModel::Layer& layer, const Node& node, const Value& w, const WeightView& geometry) {
    const std::vector<int64_t>& view = geometry.view;
    const bool transposed = geometry.transposed;
    const int64_t n = transposed ? view[1] : view[0];
    const int64_t k = transposed ? view[0] : view[1];
    if (k > Int8Linear::kMaxK || layer.groups < 1 || n % layer.groups != 0) {
        layer.integerPath = false;
        return;
    }
    std::vector<int8_t> rows(static_cast<std::size_t>(n * k));
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t c = 0; c < k; ++c)
            rows[r * k + c] = static_cast<int8_t>(layer.weight.integers[transposed ? c * n + r : r * k + c]);
    }
    const auto& p = layer.weight.params;
    layer.rowScales.resize(n);
    std::vector<int32_t> zeroPoints(n);
    for (int64_t r = 0; r < n; ++r) {
        const std::size_t block = p.scale.size() == 1 ? 0 : static_cast<std::size_t>(r);
        layer.rowScales[r] = p.scale[block];
        zeroPoints[r] = p.zeroPoint[block];
    }
    const int64_t groupRows = n / layer.groups;
    for (int64_t g = 0; g < layer.groups; ++g) {
        std::vector<int8_t> part(rows.begin() + g * groupRows * k, rows.begin() + (g + 1) * groupRows * k);
        std::vector<int32_t> zp(zeroPoints.begin() + g * groupRows, zeroPoints.begin() + (g + 1) * groupRows);
        layer.int8.push_back(std::make_shared<Int8Linear>(std::move(part), groupRows, k, std::move(zp)));
    }
    const kernels::PackedInt8Weights* packed = layer.int8[0]->packed();
    if (node.opType == "Conv" && layer.groups == 1 && packed) {
        const std::vector<int8_t> hwc = kernels::convWeightsToHwc(
            layer.int8[0]->weights().data(), static_cast<int>(w.shape[0]), static_cast<int>(w.shape[1]),
            static_cast<int>(w.shape[2]), static_cast<int>(w.shape[3]));
        layer.hwcWeights = std::make_shared<const kernels::PackedInt8Weights>(
            *kernels::KernelRegistry::table(packed->path()), hwc.data(), packed->n(), packed->k(),
            packed->zeroPoint());
    }
    // One filter per input channel: the depthwise kernel's rows are the groups' rows.
    if (node.opType == "Conv" && layer.groups > 1 && w.rank() == 4 && w.shape[0] == layer.groups &&
        w.shape[1] == 1 &&
        std::all_of(zeroPoints.begin(), zeroPoints.end(), [](int32_t z) { return z == 0; }))
        layer.depthwiseWeights = rows;
}

// Symmetric int4 per-group weights along K of a Gemm / MatMul, packed for the int4 kernel.
void packInt4(QuantizedModel::Layer& layer, const Node& node, const WeightView& geometry) {
    const QuantSpec& spec = layer.weight.spec;
    const QParams& p = layer.weight.params;
    const bool transposed = geometry.transposed;
    const int64_t n = transposed ? geometry.view[1] : geometry.view[0];
    const int64_t k = transposed ? geometry.view[0] : geometry.view[1];
    const bool eligible =
        node.opType != "Conv" && node.intAttribute("transA", 0) == 0 && spec.format.isInteger() &&
        spec.format.isSigned && spec.format.bits == 4 && spec.granularity == Granularity::Group &&
        spec.axis == geometry.inAxis && spec.groupSize % 8 == 0 && k % spec.groupSize == 0 &&
        std::all_of(p.zeroPoint.begin(), p.zeroPoint.end(), [](int32_t z) { return z == 0; });
    if (!eligible || layer.weight.integers.empty())
        return;
    const int64_t groups = k / spec.groupSize;
    std::vector<int8_t> q(static_cast<std::size_t>(n * k));
    std::vector<float> scales(static_cast<std::size_t>(n * groups));
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t c = 0; c < k; ++c)
            q[r * k + c] = static_cast<int8_t>(layer.weight.integers[transposed ? c * n + r : r * k + c]);
        // The block grid is [N, groups] for N x K weights and [groups, N] for K x N ones.
        for (int64_t g = 0; g < groups; ++g)
            scales[r * groups + g] = p.scale[transposed ? g * n + r : r * groups + g];
    }
    layer.int4 = std::make_shared<const kernels::PackedInt4Weights>(kernels::PackedInt4Weights::fromIntegers(
        q.data(), scales.data(), static_cast<int>(n), static_cast<int>(k), static_cast<int>(spec.groupSize)));
    layer.int4Path = kernels::isaName(
        kernels::int4GemmPath(kernels::KernelRegistry::active(), kernels::Int4Activations::Float32));
}

} // namespace

std::optional<WeightView> weightViewOf(const Node& node, const Value& w) {
    WeightView result;
    result.view = w.shape;
    if (node.opType == "Conv") {
        if (w.rank() != 4)
            return std::nullopt;
        result.view = {w.shape[0], ops::checkedProduct(node, {w.shape[1], w.shape[2], w.shape[3]})};
    } else {
        if (w.rank() != 2)
            return std::nullopt;
        result.transposed = node.opType == "MatMul" || node.intAttribute("transB", 0) == 0;
        if (result.transposed) {
            result.outAxis = 1;
            result.inAxis = 0;
        }
    }
    return result;
}

bool isQuantizedLayer(const Graph& graph, const Node& node) {
    if (!isQuantizableOp(node.opType) || node.inputs.size() < 2)
        return false;
    const auto init = graph.initializers.find(node.inputs[1]);
    return init != graph.initializers.end() && !init->second.isInteger() &&
           weightViewOf(node, init->second).has_value();
}

std::pair<QuantSpec, std::optional<QParams>>
weightSettings(const Graph& graph, const QuantizedModel::Layer& layer, const ModelQuantConfig& config) {
    const Node& node = graph.nodes[layer.nodeIndex];
    const WeightView w = *weightViewOf(node, graph.initializers.at(layer.weightName));
    QuantSpec spec = config.weight;
    std::optional<QParams> fixed;
    const QParamsEntry* entry = config.params ? config.params->find(layer.weightName) : nullptr;
    if (entry) {
        spec = entry->spec;
        fixed = entry->params;
    } else {
        spec.axis = spec.granularity == Granularity::Channel
                        ? w.outAxis
                        : (spec.granularity == Granularity::Group ? w.inAxis : 0);
    }
    spec.validateFor(w.view);
    return {spec, fixed};
}

Value quantizeLayerWeights(const Graph& graph, QuantizedModel::Layer& layer) {
    const Node& node = graph.nodes[layer.nodeIndex];
    const Value& w = graph.initializers.at(layer.weightName);
    const WeightView geometry = *weightViewOf(node, w);
    AnalysisOptions options;
    options.keepIntegers = true;
    options.keepDequantized = true;
    options.fixedParams = layer.requestedParams;
    layer.weight =
        analyzeTensor(Tensor(layer.weightName, geometry.view, w.data), layer.requestedSpec, options);
    layer.weight.kind = TensorKind::Weight;
    layer.int8.clear();
    layer.rowScales.clear();
    layer.hwcWeights.reset();
    layer.depthwiseWeights.clear();
    layer.int4.reset();
    layer.int4Path.clear();

    const bool transA = node.opType == "Gemm" && node.intAttribute("transA", 0) != 0;
    layer.integerPath = fitsInt8Weights(layer.requestedSpec) && !transA && !layer.weight.integers.empty();
    if (layer.integerPath)
        packInt8(layer, node, w, geometry);
    packInt4(layer, node, geometry);

    Value dequantized;
    dequantized.shape = w.shape;
    dequantized.data = layer.weight.dequantized;
    return dequantized;
}

} // namespace quantscope
