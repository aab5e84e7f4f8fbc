// quantscope-cli bench-model: whole-model throughput of fp32, static int8 (the integer pipeline
// and, for comparison, the float simulation it replaced) and dynamic int8, measured in the same
// run on ResNet-18-, MobileNetV2- and BERT-base-shaped models built in memory and on ONNX files;
// the BERT shape also runs weight-only with int4 weights.
#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "ShapedModels.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/BlasCore.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/OpProfile.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <nlohmann/json.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>

namespace quantscope::cli {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// The BERT-base-shaped encoder by default: enough layers for steady timings at a few seconds per
// mode. --seq 1 --layers 12 is a decoding step instead: few rows, weights larger than the caches.
constexpr int64_t kBertLayers = 2;
constexpr int64_t kBertSequence = 128;

struct BertShape {
    int64_t layers = kBertLayers;
    int64_t sequence = kBertSequence;
};

// Random inputs in [0, 1) for a model's first input with the batch `batch`.
std::vector<float> randomInputs(int64_t count, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> values(static_cast<std::size_t>(count));
    for (auto& v : values)
        v = dist(rng);
    return values;
}

struct Measured {
    std::string mode;
    double samplesPerSecond = 0.0;
};

// The fastest of repeated runs (at least two, for at least minSeconds), after one warm-up.
double fastestSeconds(const std::function<void()>& run, double minSeconds) {
    run();
    double best = std::numeric_limits<double>::infinity();
    const auto begin = Clock::now();
    for (int repeat = 0;
         repeat < 2 || std::chrono::duration<double>(Clock::now() - begin).count() < minSeconds; ++repeat) {
        const auto start = Clock::now();
        run();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
    }
    return best;
}

// A weight-only model with BERT's usual int4 setting: symmetric int4 in groups of 128 along the
// inputs (GPTQ's and MatMulNBits' layout), which runs on the int4 kernels.
ModelQuantConfig int4WeightOnlyConfig() {
    ModelQuantConfig config;
    config.weight.format = QuantFormat::parse("int4");
    config.weight.scheme = Scheme::Symmetric;
    config.weight.granularity = Granularity::Group;
    config.weight.groupSize = 128;
    return config;
}

Graph shapedOrLoaded(const std::string& name, int64_t resolution, const BertShape& bert) {
    if (name == "resnet18")
        return resnet18Shaped(resolution);
    if (name == "mobilenetv2")
        return mobilenetV2Shaped(resolution);
    if (name == "bert")
        return bertShaped(bert.layers, bert.sequence);
    return loadOnnxGraph(name);
}

} // namespace

int runBenchModel(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--model", true, true,
         "resnet18 | mobilenetv2 | bert | an ONNX file (repeatable; default resnet18 and mobilenetv2)"},
        {"--batch", true, true, "samples per run, 1..4096 (repeatable; default 32)"},
        {"--resolution", true, false, "image side of the shaped models, 32..512 (default 224)"},
        {"--seq", true, false,
         "tokens per sequence of bert, 1..512 (default " + std::to_string(kBertSequence) + ")"},
        {"--layers", true, false,
         "encoder layers of bert, 1..24 (default " + std::to_string(kBertLayers) + ")"},
        {"--threads", true, false, "threads for the int8 kernels and OpenBLAS, 1..256 (default 1)"},
        {"--min-time", true, false, "seconds each mode repeats for, the fastest run counting (default 1)"},
        {"--json", true, false, "write the results as JSON to FILE ('-' for stdout)"},
        {"--profile", false, false,
         "also time each op type (three more runs per mode; the static pipeline's steps are named "
         "int8, fp32 or fused)"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s",
                    helpText("quantscope-cli bench-model [--model M]... [--batch N]... [--threads N]\n"
                             "Random weights and inputs; static int8 is calibrated on two batches.\n"
                             "bert: BERT-base encoder layers (--layers, default " +
                                 std::to_string(kBertLayers) + ") at a sequence length (--seq, default " +
                                 std::to_string(kBertSequence) +
                                 "),\nalso run with int4 weights (weight-only-int4); --seq 1 --layers 12 is "
                                 "a decoding step whose\n"
                                 "fp32 weights (340 MB) exceed the caches.",
                             options)
                        .c_str());
        return 0;
    }
    if (!commandLine.positionals().empty())
        throw UsageError("bench-model takes no positional arguments (use --model)");
    std::vector<int64_t> batches;
    for (const std::string& text : commandLine.values("--batch")) {
        char* end = nullptr;
        const long long value = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || value < 1 || value > 4096)
            throw UsageError("--batch must be an integer in 1..4096, got '" + text + "'");
        batches.push_back(value);
    }
    if (batches.empty())
        batches = {32};
    const int64_t largestBatch = *std::max_element(batches.begin(), batches.end());
    const int64_t resolution = commandLine.integer("--resolution", 224, 32, 512);
    BertShape bert;
    bert.sequence = commandLine.integer("--seq", kBertSequence, 1, 512);
    bert.layers = commandLine.integer("--layers", kBertLayers, 1, 24);
    const int threads = static_cast<int>(commandLine.integer("--threads", 1, 1, 256));
    const double minTime = commandLine.number("--min-time", 1.0);
    if (!(minTime >= 0.0 && minTime <= 600.0))
        throw Error("--min-time", "must be between 0 and 600 seconds");
    const bool profiling = commandLine.has("--profile");
    std::string profileText;
    std::vector<std::string> models = commandLine.values("--model");
    if (models.empty())
        models = {"resnet18", "mobilenetv2"};
    Executor::setBlasThreads(threads);
    std::unique_ptr<kernels::ThreadPool> pool;
    if (threads > 1)
        pool = std::make_unique<kernels::ThreadPool>(threads);
    mallopt(M_MMAP_THRESHOLD, 256 << 20); // as eval: time the computation, not page faults
    mallopt(M_TRIM_THRESHOLD, 512 << 20);

    Json document;
    document["isa"] = kernels::isaName(kernels::KernelRegistry::active().path);
    document["threads"] = threads;
    document["openblas_kernels"] = kernels::BlasCore::name();
    document["batch"] = batches.size() == 1 ? Json(batches[0]) : Json(batches);
    document["results"] = Json::array();
    TextTable table({"model", "batch", "mode", "samples/s", "ratio to fp32", "integer ops"});
    for (const std::string& name : models) {
        const Executor executor(shapedOrLoaded(name, resolution, bert));
        const GraphValueInfo& input = executor.graph().inputs.at(0);
        std::vector<int64_t> sampleShape(input.shape.begin() + 1, input.shape.end());
        int64_t sampleSize = 1;
        for (int64_t& d : sampleShape) {
            if (d < 1)
                throw Error(name, "input '" + input.name + "' needs fixed dimensions after the batch");
            sampleSize *= d;
        }
        const bool fixedBatch = input.shape[0] > 0;
        const int64_t calibrationBatch = fixedBatch ? input.shape[0] : largestBatch;
        std::fprintf(stderr, "%s: calibrating\n", name.c_str());
        const SampleSet samples("random", sampleShape, randomInputs(2 * calibrationBatch * sampleSize, 7));
        QuantizedModel model(executor, {});
        model.setThreadPool(pool.get());
        model.calibrate(samples, calibrationBatch);
        // Transformers ship int4 weights for memory-bound decoding; CNNs' convolutions have no
        // int4 kernel, so the mode is measured on the transformer only.
        const bool hasInt4 = name == "bert";
        std::unique_ptr<QuantizedModel> int4Model;
        if (hasInt4) {
            int4Model = std::make_unique<QuantizedModel>(executor, int4WeightOnlyConfig());
            int4Model->setThreadPool(pool.get());
        }

        int64_t integerOps = 0;
        for (const auto& placement : model.staticExecution())
            integerOps += placement.integer;
        const std::string integerText =
            std::to_string(integerOps) + " / " + std::to_string(model.staticExecution().size());
        const std::vector<int64_t> runBatches = fixedBatch ? std::vector<int64_t>{input.shape[0]} : batches;
        for (const int64_t runBatch : runBatches) {
            const std::map<std::string, Value> feed{{input.name, samples.batch(0, runBatch, input)}};
            std::vector<std::pair<std::string, std::function<void()>>> modes{
                {"fp32", [&] { model.run(QuantMode::Fp32, feed); }},
                {"static", [&] { model.run(QuantMode::Static, feed); }},
            };
            if (!hasInt4) // the simulation is the reference of the CNNs' integer pipeline
                modes.push_back({"static-simulated", [&] { model.runStaticSimulation(feed); }});
            modes.push_back({"dynamic", [&] { model.run(QuantMode::Dynamic, feed); }});
            if (hasInt4)
                modes.push_back({"weight-only-int4", [&] { int4Model->run(QuantMode::WeightOnly, feed); }});
            double fp32 = 0.0;
            for (const auto& [mode, run] : modes) {
                std::fprintf(stderr, "%s: batch %lld: timing %s\n", name.c_str(),
                             static_cast<long long>(runBatch), mode.c_str());
                const double sps = static_cast<double>(runBatch) / fastestSeconds(run, minTime);
                if (mode == "fp32")
                    fp32 = sps;
                Json entry;
                entry["model"] = name;
                entry["mode"] = mode;
                entry["batch"] = runBatch;
                if (name == "bert") {
                    entry["sequence"] = bert.sequence;
                    entry["layers"] = bert.layers;
                }
                entry["throughput_sps"] = sps;
                entry["ratio_to_fp32"] = sps / fp32;
                if (mode == "static")
                    entry["integer_ops"] = integerOps;
                if (profiling) {
                    constexpr int kProfiledRuns = 3;
                    OpProfile profile;
                    OpProfile::setActive(&profile);
                    for (int r = 0; r < kProfiledRuns; ++r)
                        run();
                    OpProfile::setActive(nullptr);
                    const double total = profile.totalSeconds();
                    char line[160];
                    std::snprintf(line, sizeof line, "%s batch %lld %s: %.2f ms per run in ops\n",
                                  name.c_str(), static_cast<long long>(runBatch), mode.c_str(),
                                  1e3 * total / kProfiledRuns);
                    profileText += line;
                    entry["profile"] = Json::array();
                    for (const auto& op : profile.entries()) {
                        const double ms = 1e3 * op.seconds / kProfiledRuns;
                        std::snprintf(line, sizeof line, "  %-22s %9.3f ms %5.1f %%  %lld calls\n",
                                      op.opType.c_str(), ms, total > 0 ? 100.0 * op.seconds / total : 0.0,
                                      static_cast<long long>(op.calls / kProfiledRuns));
                        profileText += line;
                        entry["profile"].push_back({{"op", op.opType},
                                                    {"ms_per_run", ms},
                                                    {"calls_per_run", op.calls / kProfiledRuns}});
                    }
                }
                document["results"].push_back(entry);
                std::ostringstream ratio;
                ratio.precision(3);
                ratio << sps / fp32;
                table.addRow({name, std::to_string(runBatch), mode, formatNumber(sps), ratio.str(),
                              mode == "static" ? integerText : ""});
            }
        }
    }
    OutputFiles outputs;
    const auto jsonPath = commandLine.value("--json");
    if (jsonPath)
        outputs.add(*jsonPath, document.dump(2) + "\n");
    outputs.commit();
    if (jsonPath == "-")
        return 0;
    std::printf("%s", table.render({false, true, false, true, true, true}).c_str());
    if (!profileText.empty())
        std::printf("\nTime per op type (mean of three runs):\n%s", profileText.c_str());
    if (std::find(models.begin(), models.end(), "bert") != models.end())
        std::printf("bert: %lld encoder layers, sequence length %lld\n", static_cast<long long>(bert.layers),
                    static_cast<long long>(bert.sequence));
    std::printf("%d thread%s, int8 path %s, OpenBLAS kernels %s\n", threads, threads == 1 ? "" : "s",
                kernels::isaName(kernels::KernelRegistry::active().path), kernels::BlasCore::name().c_str());
    return 0;
}

} // namespace quantscope::cli
