// quantscope-cli bench-model: whole-model throughput of fp32, static int8 (the integer pipeline
// and, for comparison, the float simulation it replaced) and dynamic int8, measured in the same
// run on ResNet-18- and MobileNetV2-shaped models built in memory and on ONNX files.
#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "ShapedModels.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <nlohmann/json.hpp>

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>

namespace quantscope::cli {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

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

} // namespace

int runBenchModel(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--model", true, true,
         "resnet18 | mobilenetv2 | an ONNX file (repeatable; default resnet18 and mobilenetv2)"},
        {"--batch", true, false, "samples per run, 1..4096 (default 32)"},
        {"--resolution", true, false, "image side of the shaped models, 32..512 (default 224)"},
        {"--threads", true, false, "threads for the int8 kernels and OpenBLAS, 1..256 (default 1)"},
        {"--min-time", true, false, "seconds each mode repeats for, the fastest run counting (default 1)"},
        {"--json", true, false, "write the results as JSON to FILE ('-' for stdout)"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s", helpText("quantscope-cli bench-model [--model M]... [--batch N] [--threads N]\n"
                                   "Random weights and inputs; static int8 is calibrated on two batches.",
                                   options)
                              .c_str());
        return 0;
    }
    if (!commandLine.positionals().empty())
        throw UsageError("bench-model takes no positional arguments (use --model)");
    const int64_t batch = commandLine.integer("--batch", 32, 1, 4096);
    const int64_t resolution = commandLine.integer("--resolution", 224, 32, 512);
    const int threads = static_cast<int>(commandLine.integer("--threads", 1, 1, 256));
    const double minTime = commandLine.number("--min-time", 1.0);
    if (!(minTime >= 0.0 && minTime <= 600.0))
        throw Error("--min-time", "must be between 0 and 600 seconds");
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
    document["batch"] = batch;
    document["results"] = Json::array();
    TextTable table({"model", "mode", "samples/s", "ratio to fp32", "integer ops"});
    for (const std::string& name : models) {
        Graph graph = name == "resnet18"      ? resnet18Shaped(resolution)
                      : name == "mobilenetv2" ? mobilenetV2Shaped(resolution)
                                              : loadOnnxGraph(name);
        const Executor executor(std::move(graph));
        const GraphValueInfo& input = executor.graph().inputs.at(0);
        std::vector<int64_t> sampleShape(input.shape.begin() + 1, input.shape.end());
        int64_t sampleSize = 1;
        for (int64_t& d : sampleShape) {
            if (d < 1)
                throw Error(name, "input '" + input.name + "' needs fixed dimensions after the batch");
            sampleSize *= d;
        }
        const int64_t runBatch = input.shape[0] > 0 ? input.shape[0] : batch;
        std::fprintf(stderr, "%s: calibrating\n", name.c_str());
        const SampleSet samples("random", sampleShape, randomInputs(2 * runBatch * sampleSize, 7));
        QuantizedModel model(executor, {});
        model.setThreadPool(pool.get());
        model.calibrate(samples, runBatch);
        const std::map<std::string, Value> feed{{input.name, samples.batch(0, runBatch, input)}};

        int64_t integerOps = 0;
        for (const auto& placement : model.staticExecution())
            integerOps += placement.integer;
        const std::string integerText =
            std::to_string(integerOps) + " / " + std::to_string(model.staticExecution().size());
        std::vector<std::pair<std::string, std::function<void()>>> modes{
            {"fp32", [&] { model.run(QuantMode::Fp32, feed); }},
            {"static", [&] { model.run(QuantMode::Static, feed); }},
            {"static-simulated", [&] { model.runStaticSimulation(feed); }},
            {"dynamic", [&] { model.run(QuantMode::Dynamic, feed); }},
        };
        double fp32 = 0.0;
        for (const auto& [mode, run] : modes) {
            std::fprintf(stderr, "%s: timing %s\n", name.c_str(), mode.c_str());
            const double sps = static_cast<double>(runBatch) / fastestSeconds(run, minTime);
            if (mode == "fp32")
                fp32 = sps;
            Json entry;
            entry["model"] = name;
            entry["mode"] = mode;
            entry["batch"] = runBatch;
            entry["throughput_sps"] = sps;
            entry["ratio_to_fp32"] = sps / fp32;
            if (mode == "static")
                entry["integer_ops"] = integerOps;
            document["results"].push_back(entry);
            std::ostringstream ratio;
            ratio.precision(3);
            ratio << sps / fp32;
            table.addRow({name, mode, formatNumber(sps), ratio.str(), mode == "static" ? integerText : ""});
        }
    }
    OutputFiles outputs;
    const auto jsonPath = commandLine.value("--json");
    if (jsonPath)
        outputs.add(*jsonPath, document.dump(2) + "\n");
    outputs.commit();
    if (jsonPath == "-")
        return 0;
    std::printf("%s", table.render({false, false, true, true, true}).c_str());
    std::printf("batch %lld, %d thread%s, int8 path %s\n", static_cast<long long>(batch), threads,
                threads == 1 ? "" : "s", kernels::isaName(kernels::KernelRegistry::active().path));
    return 0;
}

} // namespace quantscope::cli
