#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "ProgressBar.h"
#include "QuantOptions.h"
#include "TensorAnalysisRunner.h"
#include "quantscope/Error.h"

#include "quantscope/io/NpyWriter.h"

#include <cstdio>

namespace quantscope::cli {

int runAnalyze(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions(
        {
            {"--tensor", true, true, "analyse this tensor (repeatable; all tensors when absent)"},
            {"--json", true, false, "write the quantscope-qparams document to FILE ('-' for stdout)"},
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
    if (allTensors)
        for (const auto& info : file->tensors())
            names.push_back(info.name);

    ProgressBar progress("analyze");
    std::vector<TensorAnalysis> analyses;
    QParamsDocument document;
    for (std::size_t i = 0; i < names.size(); ++i) {
        progress.setLabel(names[i]);
        if (allTensors && spec.format.isGgml()) {
            const TensorInfo* info = file->find(names[i]);
            if (info && info->shape.size() <= 1) {
                std::fprintf(stderr,
                             "quantscope-cli: note: %s is 1-D: llama.cpp keeps it in float32 under %s; not "
                             "analysed\n",
                             names[i].c_str(), spec.format.name().c_str());
                continue;
            }
        }
        AnalysisOptions analysisOptions;
        analysisOptions.progress = progress.callback();
        TensorAnalysisRunner runner(*file, spec, params);
        runner.setGroupAxisDefaulted(!commandLine.has("--axis"));
        runner.setPerTensorForLowRank(allTensors);
        analyses.push_back(runner.run(names[i], analysisOptions));
        document.tensors.push_back(entryFor(analyses.back()));
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
