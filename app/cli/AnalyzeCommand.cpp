#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "ProgressBar.h"
#include "QuantOptions.h"
#include "TensorAnalysisRunner.h"
#include "quantscope/Error.h"

#include "quantscope/io/NpyWriter.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

namespace quantscope::cli {
namespace {

// The tensors on `threads` workers, one tensor per worker at a time (so at most `threads` float32
// copies are held, each in the worker's own FloatBuffer), results in the order of `names`. The first failure,
// in that order, is thrown once every worker has stopped; Ctrl-C cancels them all.
std::vector<TensorAnalysis> analyzeInParallel(const TensorAnalysisRunner& runner,
                                              const std::vector<std::string>& names, int threads,
                                              ProgressBar& progress) {
    std::vector<TensorAnalysis> results(names.size());
    if (threads <= 1 || names.size() <= 1) {
        FloatBuffer buffer;
        for (std::size_t i = 0; i < names.size(); ++i) {
            progress.setLabel(names[i]);
            AnalysisOptions options;
            options.progress = progress.callback();
            results[i] = runner.run(names[i], options, buffer);
        }
        return results;
    }
    std::vector<std::exception_ptr> errors(names.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable finishedChanged;
    std::size_t finished = 0;
    auto work = [&] {
        FloatBuffer buffer; // this worker's, reused across its tensors
        for (std::size_t i = next.fetch_add(1); i < names.size() && !stop.load(); i = next.fetch_add(1)) {
            try {
                AnalysisOptions options;
                options.progress = [&](Stage, double) { return !stop.load() && !ProgressBar::interrupted(); };
                results[i] = runner.run(names[i], options, buffer);
            } catch (...) {
                errors[i] = std::current_exception();
                stop.store(true);
            }
            const std::lock_guard lock(mutex);
            ++finished;
            finishedChanged.notify_one();
        }
    };
    std::vector<std::thread> workers;
    const auto count =
        static_cast<std::size_t>(threads) < names.size() ? static_cast<std::size_t>(threads) : names.size();
    for (std::size_t w = 0; w < count; ++w)
        workers.emplace_back(work);
    const ProgressCallback report = progress.callback();
    {
        std::unique_lock lock(mutex);
        while (finished < names.size() && !stop.load()) {
            finishedChanged.wait_for(lock, std::chrono::milliseconds(100));
            progress.setLabel(std::to_string(finished) + "/" + std::to_string(names.size()) + " tensors");
            if (!report(Stage::Results, static_cast<double>(finished) / static_cast<double>(names.size())))
                stop.store(true);
        }
    }
    for (auto& worker : workers)
        worker.join();
    // The first real failure; a tensor stopped because another one failed is no failure.
    for (const auto& error : errors) {
        if (!error)
            continue;
        try {
            std::rethrow_exception(error);
        } catch (const Cancelled&) {
            continue;
        }
    }
    if (stop.load())
        throw Cancelled();
    return results;
}

} // namespace

// The options that choose how a tensor is stored; without any, a pre-quantized weight keeps its own.
constexpr const char* kStorageOptions[] = {"--dtype",      "--scheme",       "--granularity", "--axis",
                                           "--group-size", "--narrow-range", "--reduce-range"};

int runAnalyze(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions(
        {
            {"--tensor", true, true, "analyse this tensor (repeatable; all tensors when absent)"},
            {"--json", true, false, "write the quantscope-qparams document to FILE ('-' for stdout)"},
            {"--threads", true, false, "tensors analysed at once, 1..256 (default: one per core)"},
        },
        {quantOptionSpecs()});
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf(
            "%s",
            helpText("quantscope-cli analyze FILE [--tensor NAME]... [Q] [--json OUT]", options).c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one FILE");
    const std::string& path = commandLine.positionals()[0];
    const QuantSpec spec = quantSpecFrom(commandLine);
    const auto params = paramsDocumentFrom(commandLine);
    const auto file = openWeightFile(path);

    std::vector<std::string> names = commandLine.values("--tensor");
    for (const auto& name : names)
        if (!file->find(name))
            throw Error(path + ": " + name, "no such tensor (see 'quantscope-cli info " + path + "')");
    const bool allTensors = names.empty();
    if (allTensors) {
        for (const auto& info : file->tensors()) {
            if (spec.format.isGgml() && info.shape.size() <= 1) {
                std::fprintf(stderr,
                             "quantscope-cli: note: %s is 1-D: llama.cpp keeps it in float32 under %s; not "
                             "analysed\n",
                             info.name.c_str(), spec.format.name().c_str());
                continue;
            }
            names.push_back(info.name);
        }
    }
    const auto threads = static_cast<int>(
        commandLine.integer("--threads", std::max(1u, std::thread::hardware_concurrency()), 1, 256));

    TensorAnalysisRunner runner(*file, spec, params);
    runner.setGroupAxisDefaulted(!commandLine.has("--axis"));
    runner.setPerTensorForLowRank(allTensors);
    // A pre-quantized weight (ONNX QDQ, a packed checkpoint) shows the parameters its file stores unless
    // settings are given.
    runner.setStoredParametersUsed(std::none_of(std::begin(kStorageOptions), std::end(kStorageOptions),
                                                [&](const char* option) { return commandLine.has(option); }));
    ProgressBar progress("analyze");
    const std::vector<TensorAnalysis> analyses = analyzeInParallel(runner, names, threads, progress);
    QParamsDocument document;
    for (const auto& analysis : analyses) {
        document.tensors.push_back(entryFor(analysis));
        document.tensors.back().stored = runner.usesStoredParameters(analysis.name, analysis.shape);
    }

    if (const auto jsonPath = commandLine.value("--json")) {
        // Hashing reads the whole file: only a document that records the hash pays for it.
        document.source = FileReference::describe(path);
        writeOutput(*jsonPath, document.toJson());
        if (*jsonPath == "-")
            return 0;
    }
    std::printf("%s", summaryTable(analyses).c_str());
    return 0;
}

int runQuantize(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions(
        {
            {"--tensor", true, false, "the tensor to quantize"},
            {"--out-q", true, false, "write the integers (nf4: code indices) as .npy in the narrowest type"},
            {"--out-dq", true, false, "write the dequantized values as float32 .npy"},
            {"--json", true, false, "write the quantscope-qparams document to FILE ('-' for stdout)"},
        },
        {quantOptionSpecs()});
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s", helpText("quantscope-cli quantize FILE --tensor NAME [Q] [--out-q Q.npy] "
                                   "[--out-dq DQ.npy] [--json OUT]",
                                   options)
                              .c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one FILE");
    const auto name = commandLine.value("--tensor");
    if (!name)
        throw UsageError("--tensor NAME is required");
    const std::string& path = commandLine.positionals()[0];
    const QuantSpec spec = quantSpecFrom(commandLine);
    const auto params = paramsDocumentFrom(commandLine);
    const auto file = openWeightFile(path);
    if (!file->find(*name))
        throw Error(path + ": " + *name, "no such tensor (see 'quantscope-cli info " + path + "')");

    const auto outQ = commandLine.value("--out-q");
    const auto outDq = commandLine.value("--out-dq");
    ProgressBar progress(*name);
    AnalysisOptions analysisOptions;
    analysisOptions.progress = progress.callback();
    analysisOptions.keepIntegers = outQ.has_value();
    analysisOptions.keepDequantized = outDq.has_value();
    TensorAnalysisRunner runner(*file, spec, params);
    runner.setGroupAxisDefaulted(!commandLine.has("--axis"));
    const TensorAnalysis analysis = runner.run(*name, analysisOptions);

    // All outputs are staged first and committed together: a failure leaves none of them.
    OutputFiles outputs;
    if (outQ) {
        if (!analysis.spec.format.isInteger() && analysis.spec.format.kind != FormatKind::Nf4)
            throw Error("--out-q", "integers exist only for intN, uintN and nf4 (got " +
                                       analysis.spec.format.name() +
                                       "); use --out-dq for the rounded values");
        outputs.add(*outQ, NpyWriter::encodeIntegers(analysis.shape, analysis.integers, *outQ));
    }
    if (outDq)
        outputs.add(*outDq, NpyWriter::encodeFloat32(analysis.shape, analysis.dequantized, *outDq));
    const auto jsonPath = commandLine.value("--json");
    if (jsonPath) {
        QParamsDocument document;
        // Hashing reads the whole file: only a document that records the hash pays for it.
        document.source = FileReference::describe(path);
        document.tensors.push_back(entryFor(analysis));
        outputs.add(*jsonPath, document.toJson());
    }
    outputs.commit();
    if (jsonPath == "-")
        return 0;
    std::printf("%s", summaryTable({analysis}).c_str());
    return 0;
}

} // namespace quantscope::cli
