// quantscope-cli calibrate: activation ranges of a model from samples (static quantization).
#include "CommandLine.h"
#include "Commands.h"
#include "ModelOptions.h"
#include "OutputFiles.h"
#include "ProgressBar.h"
#include "QuantOptions.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/model/BatchPlan.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cstdio>

namespace quantscope::cli {

int runCalibrate(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions(
        {
            {"--json", true, false,
             "write the quantscope-qparams document (weights and activations) to FILE ('-' for stdout)"},
            {"--labels", true, false, "only with --label-column: the samples CSV whose label column to drop"},
        },
        {modelOptionSpecs(), quantOptionSpecs()});
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf(
            "%s",
            helpText(
                "quantscope-cli calibrate MODEL.onnx --samples S [Q] [weight options] --json OUT\n"
                "Q sets the activations (per tensor); every graph input and node output gets an observer.",
                options)
                .c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one MODEL");
    const ModelQuantConfig config = modelQuantConfigFrom(commandLine);
    const int64_t batchSize = batchSizeFrom(commandLine);
    const auto executor = loadModel(commandLine.positionals()[0]);
    const SampleSet samples = samplesFrom(commandLine, executor->graph().inputs);

    QuantizedModel model(*executor, config);
    ProgressBar progress("calibrate");
    model.calibrate(samples, batchSize, progress.callback());
    const QParamsDocument document = model.document();

    if (const auto jsonPath = commandLine.value("--json")) {
        writeOutput(*jsonPath, document.toJson());
        if (*jsonPath == "-")
            return 0;
    }
    TextTable table({"tensor", "kind", "shape", "dtype", "min", "max", "scale", "zero point", "sqnr dB"});
    for (const auto& entry : document.tensors) {
        const QParams& p = *entry.params;
        const bool single = p.scale.size() == 1;
        auto first = [&](const auto& values) {
            return values.empty() ? std::string("-") : formatNumber(values[0]);
        };
        std::string sqnr = "-";
        if (entry.metrics)
            sqnr = entry.metrics->sqnrNote.empty() ? formatNumber(entry.metrics->sqnrDb)
                                                   : entry.metrics->sqnrNote;
        table.addRow({entry.name, std::string(tensorKindName(entry.kind)), shapeToString(entry.shape),
                      entry.spec.format.name(),
                      single ? first(p.min) : std::to_string(p.scale.size()) + " blocks",
                      single ? first(p.max) : "", single ? first(p.scale) : "",
                      single ? std::to_string(p.zeroPoint[0]) : "", sqnr});
    }
    std::printf("%s", table.render({false, false, false, false, true, true, true, true, true}).c_str());
    const BatchPlan plan(executor->graph(), batchSize);
    std::printf("%lld samples from %s, batch %lld%s\n", static_cast<long long>(samples.count()),
                samples.path().c_str(), static_cast<long long>(plan.batch()),
                plan.fixedBatch() ? " (fixed by the model)" : "");
    return 0;
}

} // namespace quantscope::cli
