#pragma once

#include "quantscope/Progress.h"
#include "quantscope/model/BatchPlan.h"
#include "quantscope/model/QuantMode.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace quantscope {

// Signal-to-quantization-noise ratio of x̂ against x, 10 log10(Σx² / Σ(x - x̂)²); NaN with a
// note ("exact", "zero signal") when it is not a number.
struct Sqnr {
    double db = 0.0;
    std::string note;
};
Sqnr sqnr(double signalEnergy, double noiseEnergy);

// What one mode achieves on the samples.
struct ModeResult {
    QuantMode mode = QuantMode::Fp32;
    std::optional<double> accuracy; // top-1 against the labels, 0..1 (none without labels)
    double agreement = 1.0;         // top-1 equal to fp32's, 0..1
    Sqnr outputSqnr;                // of the first output against fp32's
    double latencyMs = 0.0;         // one sample per run (padded to latencyBatch rows), mean
    double throughputSps = 0.0;     // real samples per second at the batch size
    int64_t batch = 0;              // samples per run: the model's fixed batch, else the batch size
    int64_t latencyBatch = 1;       // rows of a latency run: the fixed batch, else 1
    uint64_t sizeBytes = 0;
    std::vector<int64_t> outputShape; // [N, ...]: the first graph output over all samples
    std::vector<float> outputs;       // the real samples' rows only
};

// Per quantized layer: its output against fp32 with only this layer quantized (local) and with
// everything up to it quantized (cumulative).
struct LayerSqnr {
    std::string name;
    Sqnr local;
    Sqnr cumulative;
    std::string weight; // the layer's weight initializer
    std::string input;  // the activation the layer reads
};

struct EvalOptions {
    int64_t batchSize = 256;     // ignored when the model fixes its batch (see BatchPlan)
    int64_t latencySamples = 64; // single-sample runs timed for the latency
    // Timed passes repeat (after one warm-up batch) until this much time has passed, at least
    // three times; the fastest pass counts, which filters out other work on the machine.
    double minSeconds = 0.3;
    int minRepeats = 3;       // timed passes at least
    int64_t timedSamples = 0; // samples of a timed throughput pass (0: all of them)
    int64_t layerSamples = 0; // samples layerSqnr() runs (0: all of them)
};

// Runs a QuantizedModel over samples in each mode and measures accuracy, agreement with fp32,
// output SQNR, latency, throughput and size; and per-layer SQNR. The first graph output is taken
// as the class scores (top-1 = the largest score of each sample). Samples are fed as BatchPlan
// says: a fixed-batch model gets exactly its batch per run, the padded rows dropped from every
// figure.
class ModelEvaluator {
public:
    // Throws Error when the labels' count differs from the samples', or the samples do not fit the
    // model's inputs (a missing .npz key, a float array for an integer input).
    ModelEvaluator(const QuantizedModel& model, const SampleSet& samples,
                   std::optional<std::vector<int64_t>> labels, EvalOptions options = {});

    // fp32 first (the reference the other modes are compared with) is computed on demand.
    // evaluate() is score() on every sample followed by measureTiming().
    ModeResult evaluate(QuantMode mode, const ProgressCallback& progress = {});
    // The outputs of the first `count` samples in `mode` and their accuracy, agreement and SQNR
    // against fp32's outputs of the same samples (run once per count and kept: the evaluator can
    // score again after the model was reconfigured). No timing.
    ModeResult score(QuantMode mode, int64_t count, const ProgressCallback& progress = {});
    // score() of each of `modes` on the first `count` samples, the work shared by up to `threads`
    // threads (this one included), each result equal to score()'s bit for bit. A mode whose
    // samples give the same bits in any batch (splitsSamples) is split into slices of samples
    // across the threads; the others run score()'s batches, each batch one piece of work (the
    // largest pieces start first). `kept` holds results of these
    // settings on fewer samples, with their outputs (a first slice): their outputs are reused for
    // the samples that would run the same way (a split mode, or whole batches). BLAS calls run on
    // the calling threads: Executor::setBlasThreads(1) (on the main thread) keeps them from
    // competing for the cores.
    std::vector<ModeResult> scoreModes(const std::vector<QuantMode>& modes, int64_t count, int threads,
                                       const std::vector<ModeResult>& kept = {},
                                       const ProgressCallback& progress = {});
    // Whether scoreModes() splits `mode`'s samples across threads: the graph keeps its samples
    // apart (keepsSamplesApart), fixes no batch, and runs no Gemm / MatMul on OpenBLAS (whose
    // kernels round a row differently with other row counts) nor with per-batch ranges (dynamic).
    bool splitsSamples(QuantMode mode) const;
    // Fills the result's latency and throughput (EvalOptions say how long to time).
    void measureTiming(ModeResult& result, const ProgressCallback& progress = {}) const;
    std::vector<LayerSqnr> layerSqnr(QuantMode mode, const ProgressCallback& progress = {});

private:
    const ModeResult& fp32(int64_t count, const ProgressCallback& progress);
    ModeResult runScored(QuantMode mode, int64_t count, const ProgressCallback& progress) const;
    // The first graph output of samples [first, first + n), checked to hold one row per sample.
    Value runOutput(QuantMode mode, int64_t first, int64_t n) const;
    // A mode's result from its outputs on the first `count` samples: accuracy, self-agreement.
    ModeResult scored(QuantMode mode, int64_t count, std::vector<float> outputs,
                      std::vector<int64_t> outputShape) const;
    // Agreement and SQNR of `result` against fp32's `reference` on the same samples.
    static void compareWithReference(ModeResult& result, const ModeResult& reference, int64_t count);
    // Runs samples [first, first + n) (padded to the plan's rows); the outputs hold only the real rows.
    std::map<std::string, Value>
    runBatch(QuantMode mode, int64_t first, int64_t n,
             const std::function<void(const std::string&, const Value&)>& observe = {}) const;

    const QuantizedModel& m_model;
    const SampleSet& m_samples;
    std::optional<std::vector<int64_t>> m_labels;
    EvalOptions m_options;
    BatchPlan m_plan;
    std::string m_outputName;
    bool m_samplesApart = false;          // keepsSamplesApart(graph) and no fixed batch
    std::map<int64_t, ModeResult> m_fp32; // by the number of samples scored
};

} // namespace quantscope
