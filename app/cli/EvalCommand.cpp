// quantscope-cli eval: accuracy, agreement with fp32, SQNR, latency, throughput and size of a
// model in fp32 and quantized modes, and per-layer SQNR.
#include "CommandLine.h"
#include "Commands.h"
#include "ModelOptions.h"
#include "OutputFiles.h"
#include "ProgressBar.h"
#include "QuantOptions.h"
#include "TextTable.h"
#include "quantscope/samples/ImageFolderSamples.h"

#include "quantscope/Error.h"
#include "quantscope/io/NpyWriter.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/model/Int8Linear.h"
#include "quantscope/model/ModelEvaluator.h"

#include <nlohmann/json.hpp>

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace quantscope::cli {
namespace {

using Json = nlohmann::ordered_json;

Json number(double value) {
    return std::isfinite(value) ? Json(value) : Json(nullptr);
}

void putSqnr(Json& object, const char* key, const char* noteKey, const Sqnr& value) {
    object[key] = value.note.empty() ? number(value.db) : Json(nullptr);
    if (!value.note.empty())
        object[noteKey] = value.note;
}

std::string showSqnr(const Sqnr& value) {
    return value.note.empty() ? formatNumber(value.db) : value.note;
}

// The nodes of static mode that ran on the integer codes (integer = true) or in fp32:
// {"count", "by_op": {op: count}, "nodes": [{"node", "op"[, "fused_into"]}]}.
Json staticOps(const QuantizedModel& model, bool integer) {
    Json result;
    Json byOp = Json::object();
    Json nodes = Json::array();
    int64_t count = 0;
    for (const auto& placement : model.staticExecution()) {
        if (placement.integer != integer)
            continue;
        ++count;
        byOp[placement.opType] = byOp.value(placement.opType, 0) + 1;
        Json node;
        node["node"] = placement.node;
        node["op"] = placement.opType;
        if (!placement.fusedInto.empty())
            node["fused_into"] = placement.fusedInto;
        nodes.push_back(node);
    }
    result["count"] = count;
    result["by_op"] = byOp;
    result["nodes"] = nodes;
    return result;
}

} // namespace

int runEval(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions(
        {
            {"--labels", true, false,
             "class labels: .npy / .npz (N integers), a CSV column (see --label-column), or an image folder "
             "(sub-folder numbers)"},
            {"--mode", true, true, "fp32 | static | dynamic | weight-only (repeatable; default all four)"},
            {"--calib-samples", true, false, "samples that calibrate static mode (default: the --samples)"},
            {"--out-logits", true, false, "write the first --mode's outputs as float32 .npy"},
            {"--min-time", true, false,
             "seconds each timing repeats for, the fastest pass counting (default 0.3)"},
            {"--json", true, false, "write the results as JSON to FILE ('-' for stdout)"},
        },
        {modelOptionSpecs(), quantOptionSpecs()});
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf(
            "%s",
            helpText(
                "quantscope-cli eval MODEL.onnx --samples S [--labels L] [--params P.json] [--mode M]...\n"
                "Q sets the activations, the weight options the weights. Per-layer SQNR is reported\n"
                "for the first quantized mode.",
                options)
                .c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one MODEL");
    std::vector<QuantMode> modes;
    for (const auto& text : commandLine.values("--mode"))
        modes.push_back(parseQuantMode(text));
    if (modes.empty())
        modes = {QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly};
    const ModelQuantConfig config = modelQuantConfigFrom(commandLine);
    EvalOptions evalOptions;
    evalOptions.batchSize = batchSizeFrom(commandLine);
    evalOptions.minSeconds = commandLine.number("--min-time", 0.3);
    if (!(evalOptions.minSeconds >= 0.0 && evalOptions.minSeconds <= 3600.0))
        throw Error("--min-time", "must be between 0 and 3600 seconds");
    const std::string modelPath = commandLine.positionals()[0];
    const auto executor = loadModel(modelPath);
    const SampleSet samples = samplesFrom(commandLine, executor->graph().inputs);
    std::optional<std::vector<int64_t>> labels;
    if (const auto labelsPath = commandLine.value("--labels")) {
        labels = ImageFolderSamples::isFolder(*labelsPath)
                     ? ImageFolderSamples::load(*labelsPath).labels()
                     : loadLabels(*labelsPath, commandLine.value("--label-column").value_or(""));
        if (static_cast<int64_t>(labels->size()) != samples.count())
            throw Error(*labelsPath, std::to_string(labels->size()) + " labels for " +
                                         std::to_string(samples.count()) + " samples in " + samples.path() +
                                         "; the counts must be equal");
    }

    // Each op allocates its output; glibc would map large ones fresh and give memory back to the
    // system after every batch, so the timings would measure page faults instead of the model.
    // Keeping freed memory in the heap makes the figures those of the computation.
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);

    const BatchPlan plan(executor->graph(), evalOptions.batchSize);
    QuantizedModel model(*executor, config);
    // --threads also splits the int8 / int4 GEMMs across the kernels' own pool.
    const int threads = static_cast<int>(commandLine.integer("--threads", 1, 1, 256));
    std::unique_ptr<kernels::ThreadPool> pool;
    if (threads > 1) {
        pool = std::make_unique<kernels::ThreadPool>(threads);
        model.setThreadPool(pool.get());
    }
    ModelEvaluator evaluator(model, samples, labels, evalOptions);
    ProgressBar progress("eval");
    if (std::find(modes.begin(), modes.end(), QuantMode::Static) != modes.end()) {
        progress.setLabel("calibrate");
        if (commandLine.has("--calib-samples")) {
            const SampleSet calibration =
                samplesFrom(commandLine, executor->graph().inputs, "--calib-samples");
            model.calibrate(calibration, evalOptions.batchSize, progress.callback());
        } else {
            model.calibrate(samples, evalOptions.batchSize, progress.callback());
        }
    }
    std::vector<ModeResult> results;
    for (QuantMode mode : modes) {
        progress.setLabel(std::string(quantModeName(mode)));
        results.push_back(evaluator.evaluate(mode, progress.callback()));
    }
    std::vector<LayerSqnr> layers;
    QuantMode layerMode = QuantMode::Fp32;
    for (QuantMode mode : modes) {
        if (mode != QuantMode::Fp32) {
            layerMode = mode;
            progress.setLabel("layers");
            layers = evaluator.layerSqnr(mode, progress.callback());
            break;
        }
    }
    // The logits and the JSON are committed together: a failure leaves neither.
    OutputFiles outputs;
    if (const auto logitsPath = commandLine.value("--out-logits"))
        outputs.add(*logitsPath, NpyWriter::encodeFloat32(results.front().outputShape,
                                                          results.front().outputs, *logitsPath));

    // Which integer kernels ran: the int8 GEMM of the first integer layer, the int4 kernel's path.
    std::string int8Path = "none", int4Path = "none";
    for (const auto& layer : model.layers()) {
        if (layer.integerPath && int8Path == "none")
            int8Path = layer.int8.front()->pathName();
        if (layer.int4 && int4Path == "none")
            int4Path = layer.int4Path;
    }

    const auto jsonPath = commandLine.value("--json");
    if (jsonPath) {
        Json document;
        document["model"] = modelPath;
        document["samples"] = samples.path();
        document["sample_count"] = samples.count();
        document["batch"] = plan.batch();
        document["batch_fixed_by_model"] = plan.fixedBatch().has_value();
        document["int8_path"] = int8Path;
        document["int4_path"] = int4Path;
        document["results"] = Json::array();
        for (const auto& r : results) {
            Json entry;
            entry["mode"] = std::string(quantModeName(r.mode));
            entry["accuracy"] = r.accuracy ? Json(*r.accuracy) : Json(nullptr);
            entry["agreement"] = r.agreement;
            putSqnr(entry, "output_sqnr_db", "output_sqnr_note", r.outputSqnr);
            entry["latency_ms"] = r.latencyMs;
            entry["throughput_sps"] = r.throughputSps;
            entry["size_bytes"] = r.sizeBytes;
            entry["batch"] = r.batch;
            entry["latency_batch"] = r.latencyBatch;
            if (r.mode == QuantMode::Static) {
                entry["integer_ops"] = staticOps(model, true);
                entry["fp32_ops"] = staticOps(model, false);
            }
            document["results"].push_back(entry);
        }
        document["layers"] = Json::array();
        for (const auto& layer : layers) {
            Json entry;
            entry["name"] = layer.name;
            entry["mode"] = std::string(quantModeName(layerMode));
            putSqnr(entry, "local_sqnr_db", "local_sqnr_note", layer.local);
            putSqnr(entry, "cumulative_sqnr_db", "cumulative_sqnr_note", layer.cumulative);
            document["layers"].push_back(entry);
        }
        outputs.add(*jsonPath, document.dump(2) + "\n");
    }
    outputs.commit();
    if (jsonPath == "-")
        return 0;

    TextTable table(
        {"mode", "accuracy", "agreement", "output sqnr dB", "latency ms", "samples/s", "size bytes"});
    for (const auto& r : results) {
        table.addRow({std::string(quantModeName(r.mode)),
                      r.accuracy ? formatNumber(100.0 * *r.accuracy) + " %" : "-",
                      formatNumber(100.0 * r.agreement) + " %", showSqnr(r.outputSqnr),
                      formatNumber(r.latencyMs), formatNumber(r.throughputSps), std::to_string(r.sizeBytes)});
    }
    std::printf("%s", table.render({false, true, true, true, true, true, true}).c_str());
    if (!layers.empty()) {
        std::printf("\nper-layer SQNR (%s)\n", std::string(quantModeName(layerMode)).c_str());
        TextTable layerTable({"layer", "local dB", "cumulative dB"});
        for (const auto& layer : layers)
            layerTable.addRow({layer.name, showSqnr(layer.local), showSqnr(layer.cumulative)});
        std::printf("%s", layerTable.render({false, true, true}).c_str());
    }
    if (!model.staticExecution().empty()) {
        const auto& nodes = model.staticExecution();
        std::string fallbacks;
        for (const auto& placement : nodes) {
            if (!placement.integer)
                fallbacks += (fallbacks.empty() ? "" : ", ") + placement.node + " (" + placement.opType + ")";
        }
        const auto integerCount =
            std::count_if(nodes.begin(), nodes.end(), [](const auto& p) { return p.integer; });
        std::printf("static: %lld of %zu ops ran on integers%s%s\n", static_cast<long long>(integerCount),
                    nodes.size(), fallbacks.empty() ? "" : "; fp32: ", fallbacks.c_str());
    }
    std::printf("%lld samples from %s, batch %lld%s; int8 GEMM path %s, int4 weight-only path %s\n",
                static_cast<long long>(samples.count()), samples.path().c_str(),
                static_cast<long long>(plan.batch()), plan.fixedBatch() ? " (fixed by the model)" : "",
                int8Path.c_str(), int4Path.c_str());
    return 0;
}

} // namespace quantscope::cli
