#include "learn/LearnDatapath.h"

#include "quantscope/samples/SampleFiles.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/PackedInt8Weights.h"
#include "quantscope/model/BatchPlan.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/Int8Linear.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ui {
namespace {

using kernels::FixedPointMultiplier;

// The integer-only requantization of one accumulator, step by step (what the kernel's epilogue
// does in one line): bias, fixed-point multiply, rounding shift, zero point, saturation.
struct Requantized {
    int32_t withBias = 0;
    int32_t highMul = 0;
    int32_t scaled = 0;
    int32_t withZeroPoint = 0;
    uint8_t output = 0;
    bool saturated = false;
};

Requantized requantizeSteps(int64_t accumulator, int32_t bias, const FixedPointMultiplier& multiplier,
                            int32_t z3) {
    Requantized r;
    // int32 wrap-around addition, as the kernel does (the accumulator bound keeps it exact here).
    r.withBias = static_cast<int32_t>(static_cast<uint32_t>(static_cast<int32_t>(accumulator)) +
                                      static_cast<uint32_t>(bias));
    if (multiplier.shift() <= 0) {
        r.highMul =
            FixedPointMultiplier::saturatingRoundingDoublingHighMul(r.withBias, multiplier.multiplier());
        r.scaled = FixedPointMultiplier::roundingDivideByPowerOfTwo(r.highMul, -multiplier.shift());
    } else {
        // M >= 1 (never for a layer whose output range is wider than its input range times
        // its weights'): one 64-bit rounding shift.
        r.scaled = multiplier.apply(r.withBias);
        r.highMul = r.scaled;
    }
    const int64_t shifted = static_cast<int64_t>(r.scaled) + z3;
    r.withZeroPoint = static_cast<int32_t>(std::clamp<int64_t>(shifted, INT32_MIN, INT32_MAX));
    r.output = static_cast<uint8_t>(std::clamp<int64_t>(shifted, 0, 255));
    r.saturated = shifted < 0 || shifted > 255;
    return r;
}

} // namespace

LearnDatapath LearnDatapath::compute(const Request& request, const ProgressCallback& progress) {
    LearnDatapath d;
    d.request = request;
    reportProgress(progress, Stage::Opened, 0.0);
    const Executor executor(loadOnnxGraph(request.modelPath));
    const SampleSet samples = loadSampleFile(request.samplesPath);
    const Graph& graph = executor.graph();
    if (graph.inputs.size() != 1)
        throw Error(request.modelPath, "the datapath lesson needs a model with one input");

    ModelQuantConfig config;
    config.activation.format = QuantFormat::integer(8, false); // uint8 activations, as in the paper
    config.activation.scheme = Scheme::Affine;
    if (request.affineWeights) {
        config.weight.scheme = Scheme::Affine;
        config.weight.granularity = Granularity::Tensor;
    }
    QuantizedModel model(executor, config);
    reportProgress(progress, Stage::TensorsListed, 0.2);
    const auto calibrationProgress = [&progress](Stage stage, double f) {
        return !progress || progress(stage, 0.2 + 0.6 * f);
    };
    if (request.calibrationPath.empty())
        model.calibrate(samples, 256, calibrationProgress);
    else
        model.calibrate(loadSampleFile(request.calibrationPath), 256, calibrationProgress);

    // The Gemm layers whose weights run on the integer core.
    std::vector<const QuantizedModel::Layer*> usable;
    for (const auto& layer : model.layers()) {
        const Node& node = graph.nodes[layer.nodeIndex];
        if (node.opType == "Gemm" && layer.integerPath && layer.int8.size() == 1) {
            usable.push_back(&layer);
            d.layerNames.push_back(layer.name);
        }
    }
    if (usable.empty())
        throw Error(request.modelPath, "has no Gemm layer with int8 weights to follow");
    if (request.layer < 0 || request.layer >= static_cast<int>(usable.size()))
        throw Error("layer", "must be in 0.." + std::to_string(usable.size() - 1));
    const QuantizedModel::Layer& layer = *usable[static_cast<std::size_t>(request.layer)];
    const Node& node = graph.nodes[layer.nodeIndex];
    d.layerName = layer.name;
    const Int8Linear& linear = *layer.int8.front();
    d.k = static_cast<int>(linear.k());
    d.n = static_cast<int>(linear.n());
    if (request.output < 0 || request.output >= d.n)
        throw Error("output", "must be in 0.." + std::to_string(d.n - 1) + " for " + d.layerName);
    if (request.sample < 0 || request.sample >= samples.count())
        throw Error("sample", "must be in 0.." + std::to_string(samples.count() - 1));
    if (node.floatAttribute("alpha", 1.0f) != 1.0f || node.floatAttribute("beta", 1.0f) != 1.0f)
        throw Error(d.layerName, "the datapath lesson follows Gemm layers with alpha = beta = 1");

    const QParams* inParams = model.activationParams(node.inputs[0]);
    const QParams* outParams = model.activationParams(node.outputs[0]);
    if (!inParams || !outParams)
        throw Error(d.layerName, "its input or output has no calibrated parameters");
    d.s1 = inParams->scale[0];
    d.z1 = inParams->zeroPoint[0];
    d.s3 = outParams->scale[0];
    d.z3 = outParams->zeroPoint[0];
    const QParams& wParams = layer.weight.params;
    const std::size_t wBlock = wParams.scale.size() == 1 ? 0 : static_cast<std::size_t>(request.output);
    d.s2 = wParams.scale[wBlock];
    d.z2 = wParams.zeroPoint[wBlock];
    for (int32_t zp : wParams.zeroPoint)
        if (zp != d.z2)
            throw Error(d.layerName,
                        "the kernel takes one weight zero point; use symmetric or per-tensor weights");

    // The fp32 activations of this sample at the layer's input and output.
    Value layerInput;
    Value layerOutput;
    Executor::Hooks hooks;
    hooks.onValue = [&](const std::string& name, Value& value) {
        if (name == node.inputs[0])
            layerInput = value;
        if (name == node.outputs[0])
            layerOutput = value;
    };
    // One sample, fed as evaluation feeds it: a model with a fixed batch N gets N rows (padding dropped).
    const BatchPlan plan(graph, 1);
    const int64_t rows = plan.rowsFor(1);
    executor.run(plan.inputs(samples, request.sample, 1), hooks);
    plan.dropPadding(node.inputs[0], layerInput, rows, 1);
    plan.dropPadding(node.outputs[0], layerOutput, rows, 1);
    if (layerInput.size() != d.k || layerOutput.size() != d.n)
        throw Error(d.layerName, "its input does not have " + std::to_string(d.k) + " values");
    reportProgress(progress, Stage::Statistics, 0.85);

    const IntegerQuantizer inputQuantizer(d.s1, d.z1, 0, 255);
    d.inputs.resize(static_cast<std::size_t>(d.k));
    for (int i = 0; i < d.k; ++i)
        d.inputs[static_cast<std::size_t>(i)] =
            static_cast<uint8_t>(inputQuantizer.quantize(layerInput.data[static_cast<std::size_t>(i)]));
    const std::vector<int8_t>& allWeights = linear.weights();

    // Per output channel: bias in int32 with scale S1·S2 (TFLite / gemmlowp convention) and the multiplier.
    const Value* biasValue = node.inputs.size() > 2 && graph.initializers.count(node.inputs[2])
                                 ? &graph.initializers.at(node.inputs[2])
                                 : nullptr;
    std::vector<int32_t> biases(static_cast<std::size_t>(d.n), 0);
    std::vector<FixedPointMultiplier> multipliers;
    for (int j = 0; j < d.n; ++j) {
        const std::size_t block = wParams.scale.size() == 1 ? 0 : static_cast<std::size_t>(j);
        const double product = static_cast<double>(d.s1) * static_cast<double>(wParams.scale[block]);
        if (biasValue) {
            const float b = biasValue->data[biasValue->data.size() == 1 ? 0 : static_cast<std::size_t>(j)];
            biases[static_cast<std::size_t>(j)] =
                static_cast<int32_t>(std::nearbyint(static_cast<double>(b) / product));
        }
        multipliers.emplace_back(product / static_cast<double>(d.s3));
    }

    // The step-by-step integer computation of every output (the one shown, and the rest for the check).
    d.stepOutputs.resize(static_cast<std::size_t>(d.n));
    for (int j = 0; j < d.n; ++j) {
        const int8_t* w = allWeights.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(d.k);
        int64_t sumProducts = 0;
        int64_t sumInputs = 0;
        int64_t sumWeights = 0;
        for (int i = 0; i < d.k; ++i) {
            sumProducts += static_cast<int64_t>(d.inputs[static_cast<std::size_t>(i)]) * w[i];
            sumInputs += d.inputs[static_cast<std::size_t>(i)];
            sumWeights += w[i];
        }
        const int64_t accumulator = sumProducts - static_cast<int64_t>(d.z2) * sumInputs -
                                    static_cast<int64_t>(d.z1) * sumWeights +
                                    static_cast<int64_t>(d.k) * d.z1 * d.z2;
        const Requantized r = requantizeSteps(accumulator, biases[static_cast<std::size_t>(j)],
                                              multipliers[static_cast<std::size_t>(j)], d.z3);
        d.stepOutputs[static_cast<std::size_t>(j)] = r.output;
        if (j != request.output)
            continue;
        d.weights.assign(w, w + d.k);
        d.sumProducts = sumProducts;
        d.sumInputs = sumInputs;
        d.sumWeights = sumWeights;
        d.accumulator = accumulator;
        d.accumulatorWithBias = r.withBias;
        d.highMul = r.highMul;
        d.scaled = r.scaled;
        d.withZeroPoint = r.withZeroPoint;
        d.output = r.output;
        d.saturated = r.saturated;
        d.biasInt32 = biases[static_cast<std::size_t>(j)];
        d.bias =
            biasValue ? biasValue->data[biasValue->data.size() == 1 ? 0 : static_cast<std::size_t>(j)] : 0.0f;
        const FixedPointMultiplier& m = multipliers[static_cast<std::size_t>(j)];
        d.realMultiplier = static_cast<double>(d.s1) * static_cast<double>(d.s2) / static_cast<double>(d.s3);
        d.m0 = m.multiplier();
        d.exponent = m.shift();
    }

    // The same inputs through the SIMD core.
    const kernels::KernelTable& path = kernels::KernelRegistry::active();
    d.kernelPath = kernels::isaName(path.path);
    const kernels::PackedInt8Weights packed(path, allWeights.data(), d.n, d.k, d.z2);
    kernels::QuantizedActivations a;
    a.data = d.inputs.data();
    a.m = 1;
    a.k = d.k;
    a.zeroPoint = d.z1;
    a.scale = d.s1;
    std::vector<int32_t> accumulators(static_cast<std::size_t>(d.n));
    kernels::int8GemmInt32(path, a, packed, accumulators.data());
    d.kernelOutputs.resize(static_cast<std::size_t>(d.n));
    kernels::int8GemmRequantizeU8(path, a, packed, multipliers.data(), true, biases.data(), d.z3,
                                  d.kernelOutputs.data());
    d.kernelAccumulator = accumulators[static_cast<std::size_t>(request.output)];
    d.kernelOutput = d.kernelOutputs[static_cast<std::size_t>(request.output)];

    d.fp32Output = layerOutput.data[static_cast<std::size_t>(request.output)];
    d.dequantizedOutput = static_cast<float>(static_cast<int32_t>(d.output) - d.z3) * d.s3;
    reportProgress(progress, Stage::Results, 1.0);
    return d;
}

} // namespace quantscope::ui
