#include "quantscope/model/ModelEvaluator.h"

#include "quantscope/Error.h"
#include "quantscope/ParallelItems.h"
#include "quantscope/model/SampleIndependence.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace quantscope {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t argmax(const float* row, int64_t n) {
    return std::max_element(row, row + n) - row;
}

struct EnergyPair {
    double signal = 0.0;
    double noise = 0.0;
    void add(std::span<const float> reference, std::span<const float> actual) {
        for (std::size_t i = 0; i < reference.size() && i < actual.size(); ++i) {
            const double x = reference[i];
            const double d = x - actual[i];
            signal += x * x;
            noise += d * d;
        }
    }
};

} // namespace

Sqnr sqnr(double signalEnergy, double noiseEnergy) {
    if (signalEnergy == 0.0)
        return {std::nan(""), "zero signal"};
    if (noiseEnergy == 0.0)
        return {std::nan(""), "exact"};
    return {10.0 * std::log10(signalEnergy / noiseEnergy), ""};
}

ModelEvaluator::ModelEvaluator(const QuantizedModel& model, const SampleSet& samples,
                               std::optional<std::vector<int64_t>> labels, EvalOptions options)
    : m_model(model), m_samples(samples), m_labels(std::move(labels)), m_options(options),
      m_plan(model.executor().graph(), options.batchSize) {
    const Graph& graph = model.executor().graph();
    if (graph.outputs.empty())
        throw Error(graph.path, "the model has no outputs");
    m_outputName = graph.outputs[0].name;
    // A fixed batch pads every run to its size: slices would pad (and run) more rows than eval.
    m_samplesApart = !m_plan.fixedBatch() && keepsSamplesApart(graph);
    m_plan.inputs(samples, 0, 1); // the samples fit the inputs: fails here, before any timing
    if (m_labels && static_cast<int64_t>(m_labels->size()) != samples.count())
        throw Error("labels", std::to_string(m_labels->size()) + " labels for " +
                                  std::to_string(samples.count()) + " samples in " + samples.path() +
                                  "; the counts must be equal");
}

std::map<std::string, Value>
ModelEvaluator::runBatch(QuantMode mode, int64_t first, int64_t n,
                         const std::function<void(const std::string&, const Value&)>& observe) const {
    const int64_t rows = m_plan.rowsFor(n);
    auto outputs = m_model.run(mode, m_plan.inputs(m_samples, first, n), observe);
    for (auto& [name, value] : outputs)
        m_plan.dropPadding(name, value, rows, n);
    return outputs;
}

const ModeResult& ModelEvaluator::fp32(int64_t count, const ProgressCallback& progress) {
    auto found = m_fp32.find(count);
    if (found == m_fp32.end())
        found = m_fp32.emplace(count, runScored(QuantMode::Fp32, count, progress)).first;
    return found->second;
}

ModeResult ModelEvaluator::evaluate(QuantMode mode, const ProgressCallback& progress) {
    const auto part = [&progress](double from, double share) {
        return ProgressCallback([&progress, from, share](Stage stage, double fraction) {
            return !progress || progress(stage, from + share * fraction);
        });
    };
    ModeResult result = score(mode, m_samples.count(), part(0.0, 0.4));
    measureTiming(result, part(0.4, 0.6));
    return result;
}

ModeResult ModelEvaluator::score(QuantMode mode, int64_t count, const ProgressCallback& progress) {
    count = std::clamp<int64_t>(count, 0, m_samples.count());
    const ModeResult& reference = fp32(count, progress);
    if (mode == QuantMode::Fp32)
        return reference;
    ModeResult result = runScored(mode, count, progress);
    compareWithReference(result, reference, count);
    return result;
}

void ModelEvaluator::compareWithReference(ModeResult& result, const ModeResult& reference, int64_t count) {
    const int64_t classes = count > 0 ? static_cast<int64_t>(result.outputs.size()) / count : 0;
    int64_t agree = 0;
    for (int64_t i = 0; i < count; ++i)
        agree += argmax(result.outputs.data() + i * classes, classes) ==
                 argmax(reference.outputs.data() + i * classes, classes);
    result.agreement = static_cast<double>(agree) / static_cast<double>(count);
    EnergyPair energy;
    energy.add(reference.outputs, result.outputs);
    result.outputSqnr = sqnr(energy.signal, energy.noise);
}

bool ModelEvaluator::splitsSamples(QuantMode mode) const {
    if (!m_samplesApart)
        return false;
    // A Gemm / MatMul on OpenBLAS rounds a row differently with other row counts (its kernels
    // block the rows): only the integer core's GEMMs give each row the same bits in any batch.
    // Dynamic mode also measures a Gemm / MatMul input's range over the whole batch.
    const auto linear = [](const std::string& op) { return op == "Gemm" || op == "MatMul"; };
    switch (mode) {
    case QuantMode::Dynamic:
    case QuantMode::Fp32:
    case QuantMode::WeightOnly: {
        const auto& nodes = m_model.executor().graph().nodes;
        return std::none_of(nodes.begin(), nodes.end(),
                            [&](const Node& node) { return linear(node.opType); });
    }
    case QuantMode::Static: {
        const auto placed = m_model.staticExecution();
        return !placed.empty() && std::all_of(placed.begin(), placed.end(), [&](const auto& node) {
            return node.integer || !linear(node.opType);
        });
    }
    }
    return false;
}

std::vector<ModeResult> ModelEvaluator::scoreModes(const std::vector<QuantMode>& modes, int64_t count,
                                                   int threads, const std::vector<ModeResult>& kept,
                                                   const ProgressCallback& progress) {
    count = std::clamp<int64_t>(count, 0, m_samples.count());
    threads = std::max(1, threads);
    const int64_t batch = m_plan.batch();
    // One run per mode to compute: fp32 first unless kept for this count, then the others.
    struct Run {
        QuantMode mode = QuantMode::Fp32;
        const ModeResult* prefix = nullptr; // outputs of its first samples, reused
        int64_t from = 0;                   // the samples the run computes: [from, count)
    };
    std::vector<Run> runs;
    const auto reusable = [&](const ModeResult& result, QuantMode mode) {
        const int64_t n = result.outputShape.empty() ? 0 : result.outputShape.front();
        return result.mode == mode && n > 0 && n <= count && !result.outputs.empty() &&
               (splitsSamples(mode) || n % batch == 0 || n == count);
    };
    const auto addRun = [&](QuantMode mode) {
        Run run;
        run.mode = mode;
        const auto consider = [&](const ModeResult& result) {
            if (reusable(result, mode) && (!run.prefix || result.outputShape.front() > run.from)) {
                run.prefix = &result;
                run.from = result.outputShape.front();
            }
        };
        // fp32's own kept outputs first: another slice replaces them only when it is longer.
        if (mode == QuantMode::Fp32) {
            for (const auto& [n, result] : m_fp32)
                consider(result);
        }
        for (const ModeResult& result : kept)
            consider(result);
        runs.push_back(run);
    };
    if (m_fp32.count(count) == 0)
        addRun(QuantMode::Fp32);
    for (QuantMode mode : modes) {
        const bool listed =
            std::any_of(runs.begin(), runs.end(), [mode](const Run& r) { return r.mode == mode; });
        if (mode != QuantMode::Fp32 && !listed)
            addRun(mode);
    }

    // The pieces of work: slices of a split mode's samples (about four per thread and mode, so
    // that the threads finish together), else score()'s batches.
    struct Piece {
        std::size_t run = 0;
        int64_t first = 0;
        int64_t n = 0;
        Value output;
    };
    std::vector<Piece> pieces;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        const int64_t remaining = count - runs[r].from;
        const int64_t slice =
            splitsSamples(runs[r].mode)
                ? std::clamp<int64_t>((remaining + 4 * threads - 1) / (4 * threads), 1, batch)
                : batch;
        for (int64_t first = runs[r].from; first < count; first += slice)
            pieces.push_back({r, first, std::min(slice, count - first), {}});
    }
    // The largest pieces first: a long unsplit batch must not start last.
    std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.n > b.n; });
    forEachItemInParallel(
        pieces.size(), threads,
        [&](std::size_t index) {
            Piece& piece = pieces[index];
            piece.output = runOutput(runs[piece.run].mode, piece.first, piece.n);
        },
        [&](std::size_t done) {
            reportProgress(progress, Stage::Results,
                           static_cast<double>(done) / static_cast<double>(pieces.size()));
        });

    // Each run's outputs in sample order: the reused prefix, then its pieces.
    std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
        return a.run != b.run ? a.run < b.run : a.first < b.first;
    });
    std::vector<ModeResult> computed;
    std::size_t next = 0;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        std::vector<float> outputs;
        std::vector<int64_t> shape;
        if (runs[r].prefix) {
            outputs = runs[r].prefix->outputs;
            shape = runs[r].prefix->outputShape;
        }
        for (; next < pieces.size() && pieces[next].run == r; ++next) {
            const Value& output = pieces[next].output;
            if (shape.empty())
                shape = output.shape;
            outputs.insert(outputs.end(), output.data.begin(), output.data.end());
        }
        if (!shape.empty())
            shape[0] = count;
        computed.push_back(scored(runs[r].mode, count, std::move(outputs), std::move(shape)));
    }
    if (!runs.empty() && runs.front().mode == QuantMode::Fp32 && m_fp32.count(count) == 0)
        m_fp32.emplace(count, std::move(computed.front()));
    const ModeResult& reference = m_fp32.at(count);
    std::vector<ModeResult> results;
    for (QuantMode mode : modes) {
        if (mode == QuantMode::Fp32) {
            results.push_back(reference);
            continue;
        }
        for (std::size_t r = 0; r < runs.size(); ++r) {
            if (runs[r].mode == mode) {
                ModeResult result = computed[r];
                compareWithReference(result, reference, count);
                results.push_back(std::move(result));
                break;
            }
        }
    }
    return results;
}

Value ModelEvaluator::runOutput(QuantMode mode, int64_t first, int64_t n) const {
    auto outputs = runBatch(mode, first, n);
    Value& out = outputs.at(m_outputName);
    if (out.shape.empty() || out.shape[0] != n)
        throw Error(m_model.executor().graph().path,
                    "output '" + m_outputName + "' has shape " + shapeToString(out.shape) +
                        ", not one row per sample of the batch of " + std::to_string(m_plan.rowsFor(n)));
    return std::move(out);
}

// Every sample of [0, count) once, in batches; accuracy against the labels, agreement with itself.
ModeResult ModelEvaluator::runScored(QuantMode mode, int64_t count, const ProgressCallback& progress) const {
    std::vector<float> outputs;
    std::vector<int64_t> shape;
    const int64_t batch = m_plan.batch();
    for (int64_t first = 0; first < count; first += batch) {
        const int64_t n = std::min(batch, count - first);
        const Value out = runOutput(mode, first, n);
        if (shape.empty()) {
            shape = out.shape;
            shape[0] = count;
        }
        outputs.insert(outputs.end(), out.data.begin(), out.data.end());
        reportProgress(progress, Stage::Results, static_cast<double>(first + n) / static_cast<double>(count));
    }
    return scored(mode, count, std::move(outputs), std::move(shape));
}

ModeResult ModelEvaluator::scored(QuantMode mode, int64_t count, std::vector<float> outputs,
                                  std::vector<int64_t> outputShape) const {
    ModeResult result;
    result.mode = mode;
    result.sizeBytes = m_model.sizeBytes(mode);
    result.batch = m_plan.batch();
    result.latencyBatch = m_plan.rowsFor(1);
    result.outputShape = std::move(outputShape);
    result.outputs = std::move(outputs);
    const int64_t classes = count > 0 ? static_cast<int64_t>(result.outputs.size()) / count : 0;
    if (classes < 1 || static_cast<int64_t>(result.outputs.size()) != classes * count)
        throw Error(m_model.executor().graph().path,
                    "output '" + m_outputName + "' does not hold one row per sample");
    int64_t correct = 0;
    for (int64_t i = 0; i < count && m_labels; ++i)
        correct += argmax(result.outputs.data() + i * classes, classes) == (*m_labels)[i];
    if (m_labels)
        result.accuracy = static_cast<double>(correct) / static_cast<double>(count);
    result.agreement = 1.0;
    EnergyPair self; // fp32 against itself: exact, or no signal at all
    self.add(result.outputs, result.outputs);
    result.outputSqnr = sqnr(self.signal, self.noise);
    return result;
}

void ModelEvaluator::measureTiming(ModeResult& result, const ProgressCallback& progress) const {
    const QuantMode mode = result.mode;
    const int64_t total =
        m_options.timedSamples > 0 ? std::min(m_options.timedSamples, m_samples.count()) : m_samples.count();
    const int64_t batch = m_plan.batch();
    // Timing: repeated passes, the fastest counts (that pass was least disturbed).
    auto fastestPass = [&](const std::function<void()>& pass, double fractionStart) {
        double best = std::numeric_limits<double>::infinity();
        const auto begin = Clock::now();
        for (int repeat = 0;
             repeat < std::max(1, m_options.minRepeats) || seconds(begin) < m_options.minSeconds; ++repeat) {
            const auto start = Clock::now();
            pass();
            best = std::min(best, seconds(start));
            reportProgress(progress, Stage::Results,
                           fractionStart +
                               0.5 * std::min(1.0, seconds(begin) / std::max(m_options.minSeconds, 1e-9)));
        }
        return best;
    };
    const double passSeconds = fastestPass(
        [&] {
            for (int64_t first = 0; first < total; first += batch)
                runBatch(mode, first, std::min(batch, total - first));
        },
        0.0);
    result.throughputSps = static_cast<double>(total) / std::max(passSeconds, 1e-9);
    const int64_t latencyRuns = std::min<int64_t>(m_options.latencySamples, m_samples.count());
    if (latencyRuns > 0) {
        const double latencySeconds = fastestPass(
            [&] {
                for (int64_t i = 0; i < latencyRuns; ++i)
                    runBatch(mode, i, 1);
            },
            0.5);
        result.latencyMs = 1000.0 * latencySeconds / static_cast<double>(latencyRuns);
    }
    reportProgress(progress, Stage::Results, 1.0);
}

std::vector<LayerSqnr> ModelEvaluator::layerSqnr(QuantMode mode, const ProgressCallback& progress) {
    const auto& layers = m_model.layers();
    const Graph& graph = m_model.executor().graph();
    std::map<std::string, std::size_t> layerOfOutput;
    for (std::size_t l = 0; l < layers.size(); ++l)
        layerOfOutput[graph.nodes[layers[l].nodeIndex].outputs[0]] = l;
    std::vector<EnergyPair> local(layers.size()), cumulative(layers.size());
    const int64_t total =
        m_options.layerSamples > 0 ? std::min(m_options.layerSamples, m_samples.count()) : m_samples.count();
    for (int64_t first = 0; first < total; first += m_plan.batch()) {
        const int64_t n = std::min(m_plan.batch(), total - first);
        const int64_t rows = m_plan.rowsFor(n);
        // Only the real rows count: a padded run's extra rows are left out of both energies.
        const auto real = [&](const std::string& name, const Value& value) {
            return m_plan.realValues(name, value, rows, n);
        };
        // fp32 pass: keep each layer's fp32 output, and quantize that layer alone on its fp32 inputs.
        std::map<std::string, Value> fp32Outputs;
        Executor::Hooks hooks;
        hooks.replaceNode = [&](const Node& node, const std::vector<const Value*>& inputs,
                                std::vector<Value>& outputs) {
            const auto found = layerOfOutput.find(node.outputs[0]);
            if (found == layerOfOutput.end())
                return false;
            outputs = m_model.executor().runNode(node, inputs);
            const Value alone = m_model.runLayerAlone(mode, found->second, inputs);
            local[found->second].add(real(node.outputs[0], outputs[0]), real(node.outputs[0], alone));
            fp32Outputs[node.outputs[0]] = outputs[0];
            return true;
        };
        m_model.executor().run(m_plan.inputs(m_samples, first, n), hooks);
        // Quantized pass: compare each layer's output with its fp32 twin.
        runBatch(mode, first, n, [&](const std::string& name, const Value& value) {
            const auto found = layerOfOutput.find(name);
            if (found != layerOfOutput.end())
                cumulative[found->second].add(real(name, fp32Outputs.at(name)), real(name, value));
        });
        reportProgress(progress, Stage::Results, static_cast<double>(first + n) / static_cast<double>(total));
    }
    std::vector<LayerSqnr> result;
    for (std::size_t l = 0; l < layers.size(); ++l)
        result.push_back({layers[l].name, sqnr(local[l].signal, local[l].noise),
                          sqnr(cumulative[l].signal, cumulative[l].noise), layers[l].weightName,
                          graph.nodes[layers[l].nodeIndex].inputs.front()});
    return result;
}

} // namespace quantscope
