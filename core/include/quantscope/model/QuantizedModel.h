#pragma once

#include "quantscope/Progress.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/ModelQuantConfig.h"
#include "quantscope/model/QuantMode.h"
#include "quantscope/model/SampleSet.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace quantscope {

class ActivationCalibration;
class Int8Linear;
class IntegerPipeline;
namespace kernels {
class PackedInt4Weights;
class PackedInt8Weights;
class ThreadPool;
} // namespace kernels

// A model with quantized weights and (after calibrate) quantized activations, run in any
// QuantMode.
//
// Static mode runs as an integer pipeline (see core/src/model/IntegerPipeline.h): activations
// whose format has at most 256 per-tensor levels flow between ops as one byte per value with
// their calibrated (scale, zero point), as in ONNX Runtime's QOperator format. Gemm, MatMul
// (constant B) and Conv requantize to the output's codes in the int8 GEMM epilogue with a
// fixed-point multiplier (a following Relu / Clip fused into the clamp); Add, Mul, Concat, the
// pools, element-wise functions (256-entry tables) and ops that move values run on the codes;
// other ops run in fp32 on dequantized values and their outputs are quantized again.
// staticExecution() says which node ran how.
//
// The simulation (runStaticSimulation, and run() with an observer) is the reference it is
// compared with: every activation is quantize-dequantized in float with its calibrated
// parameters (QDQ on every value); Gemm, MatMul and Conv run on the integer core with a float
// multiplier s_x * s_w[channel] plus the float bias, other ops in float. The two agree exactly
// except where the fixed-point multiplier or the QLinear formulas of Add / Mul / pools round a
// value near a half level the other way: one level there.
// Layers whose formats do not fit the integer core (activations wider than 8 bits, weights wider
// than 8 bits or per-group, float formats) run "simulated" in both.
//
// The work is split between internal classes (core/src/model): LayerWeights quantizes and packs
// each layer's weights, ActivationCalibration keeps the calibration's observers, IntegerPipeline
// plans and runs static mode, LayerRunner runs one layer in the other modes. This class holds
// the state and decides what must be redone when the settings change.
class QuantizedModel {
public:
    // A Gemm, MatMul or Conv with constant weights.
    struct Layer {
        std::size_t nodeIndex = 0;
        std::string name;       // node label
        std::string weightName; // initializer
        TensorAnalysis weight;  // spec, parameters, metrics, integers and dequantized values
        bool integerPath = false;
        // N x K int8 weights per Conv group (one for Gemm / MatMul) when integerPath
        std::vector<std::shared_ptr<const Int8Linear>> int8;
        std::vector<float> rowScales; // the weight scale of each output channel
        int64_t groups = 1;
        // A one-group Conv's int8 weights in kernels::convWeightsToHwc's (KH, KW, C) order, packed
        // for kernels::int8ConvDequantize (dynamic mode); null for other layers and when the
        // rows' weight zero points differ.
        std::shared_ptr<const kernels::PackedInt8Weights> hwcWeights;
        // A depthwise Conv's (one filter per input channel) int8 weights, [C][KH][KW], for
        // kernels::int8DepthwiseConvFloat (dynamic mode); empty for other layers and when a
        // weight zero point is not 0 (the kernel takes symmetric weights).
        std::vector<int8_t> depthwiseWeights;
        // Symmetric int4 per-group weights along K (group size a multiple of 8 dividing K) of a
        // Gemm / MatMul, packed for the int4 weight-only kernel; null otherwise.
        std::shared_ptr<const kernels::PackedInt4Weights> int4;
        std::string int4Path; // the kernel path int4 runs on
        // The settings the weight was quantized with (reconfigure() compares new ones with them).
        QuantSpec requestedSpec;
        std::optional<QParams> requestedParams;
    };

    // How one node runs in static mode.
    struct NodeExecution {
        std::string node; // label
        std::string opType;
        bool integer = false;  // on the quantized codes
        std::string fusedInto; // a Relu / Clip folded into the Conv / Gemm / MatMul before it
        // Set by execution(mode): the node runs quantized in that mode (static: on the codes, as
        // `integer`; dynamic: a layer whose input is quantized with run-time ranges; weight-only:
        // a layer on its quantized weights). Everything else runs in fp32.
        bool quantized = false;
    };

    // What reconfigure() had to redo.
    struct Reconfiguration {
        int weightsRequantized = 0;    // layers whose weights were quantized again
        bool needsCalibration = false; // call calibrateMissing() before running static mode
    };

    // Quantizes the weights of every Gemm / MatMul / Conv. Throws Error for invalid settings.
    QuantizedModel(const Executor& executor, ModelQuantConfig config);
    ~QuantizedModel();

    const Executor& executor() const { return m_executor; }
    const ModelQuantConfig& config() const { return m_config; }
    const std::vector<Layer>& layers() const { return m_layers; }

    // Static calibration: runs the samples through the fp32 model in batches with an observer
    // (config.activation.calib) on every activation. Activation entries of config.params with a
    // scale and zero point are used as written instead. A model with a fixed batch is fed exactly
    // that many samples per run (BatchPlan); the padded rows never reach an observer.
    void calibrate(const SampleSet& samples, int64_t batchSize, const ProgressCallback& progress = {});
    bool calibrated() const { return !m_activations.empty(); }
    // Observes the samples again only for the activations whose settings no observer kept by
    // calibrate() can serve (a new calibration method, say), then computes every activation's
    // parameters. The samples must be the ones calibrate() saw. Returns whether the model ran
    // (false: everything came from the kept observers).
    bool calibrateMissing(const SampleSet& samples, int64_t batchSize, const ProgressCallback& progress = {});

    // New settings for the same model, without starting over: only the weights whose settings
    // changed are quantized again; after calibrate() the activation parameters are recomputed from
    // the kept observers (min-max, histograms, kept values) when they can serve the new settings
    // (the same method; bits, scheme and percentile may change), and static mode is planned again.
    // Throws Error for invalid settings (the model is then unchanged).
    Reconfiguration reconfigure(ModelQuantConfig config);

    // The calibrated parameters of one activation (nullptr when it has none).
    const QParams* activationParams(const std::string& name) const;

    // Per node in graph order, after calibrate(); empty before.
    const std::vector<NodeExecution>& staticExecution() const;
    // Per node in graph order: how it runs in `mode` (see NodeExecution::quantized). Static mode
    // is staticExecution() (empty before calibrate()).
    std::vector<NodeExecution> execution(QuantMode mode) const;

    // The kernel thread pool the int8 / int4 GEMMs split their work on (null: one thread). Not
    // owned; it must outlive the runs.
    void setThreadPool(kernels::ThreadPool* pool) { m_pool = pool; }

    // Runs one batch in `mode` (Static needs calibrate() first).
    std::map<std::string, Value> run(QuantMode mode, std::map<std::string, Value> inputs) const;

    // Static mode as the float simulation described above (the reference of the integer pipeline).
    std::map<std::string, Value> runStaticSimulation(std::map<std::string, Value> inputs) const;

    // Like run(), and calls `observe(name, value)` with every activation as the next op sees it
    // (static mode: the simulation, which has every value).
    std::map<std::string, Value>
    run(QuantMode mode, std::map<std::string, Value> inputs,
        const std::function<void(const std::string&, const Value&)>& observe) const;

    // The fp32 model with only layer `layer` quantized in `mode`, evaluated on that layer's fp32
    // inputs: returns the layer's output (as the next op would see it).
    Value runLayerAlone(QuantMode mode, std::size_t layer, const std::vector<const Value*>& fp32Inputs) const;

    // Bytes of the model's parameters in `mode`: quantized weights at their storage width plus
    // one float scale (and an int32 zero point when affine) per block; everything else fp32.
    uint64_t sizeBytes(QuantMode mode) const;

    // The weight entries and (after calibration) the activation entries, as a qparams document.
    QParamsDocument document() const;

private:
    // The settings of each activation, for the calibration's observers.
    std::function<QuantSpec(const std::string&)> activationSpecs() const;
    // The activation entries from the given parameters and the kept observers; false when an
    // activation has no observer that can serve its settings.
    bool computeActivationParams();
    void planPipeline();
    void quantizeValue(const std::string& name, Value& value) const;
    std::map<std::string, Value>
    runExecutor(QuantMode mode, std::map<std::string, Value> inputs,
                const std::function<void(const std::string&, const Value&)>& observe) const;
    // Runs a layer in `mode` through LayerRunner; false when it runs as the fp32 node.
    bool runLayer(QuantMode mode, const Layer& layer, const std::vector<const Value*>& inputs,
                  std::vector<Value>& outputs) const;
    QuantSpec activationSpecFor(const std::string& name) const;
    QuantSpec dynamicActivationSpec() const;

    const Executor& m_executor;
    ModelQuantConfig m_config;
    std::vector<Layer> m_layers;
    std::map<std::size_t, std::size_t> m_layerOfNode;
    std::map<std::string, Value> m_dequantizedWeights;    // per layer name: the weight input fp32 ops see
    std::map<std::string, QParamsEntry> m_activations;    // calibrated activation entries by name
    std::unique_ptr<IntegerPipeline> m_pipeline;          // static mode, planned by calibrate()
    std::unique_ptr<ActivationCalibration> m_calibration; // the observers calibrate() kept
    kernels::ThreadPool* m_pool = nullptr;
    std::string m_calibrationPath;
    int64_t m_calibrationSamples = 0;
};

} // namespace quantscope
