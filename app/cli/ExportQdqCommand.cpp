// quantscope-cli export-qdq: the model with QuantizeLinear / DequantizeLinear pairs carrying
// exactly the scales and zero points of a parameter file (any format convert reads).
#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"

#include "quantscope/interop/ParamFileFormat.h"
#include "quantscope/interop/QdqExporter.h"

#include <cstdio>

namespace quantscope::cli {

int runExportQdq(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--params", true, false, "the parameters (qparams, or any format 'convert' reads)"},
        {"--from", true, false, "the format of --params (detected from the content when absent)"},
        {"--out", true, false, "the QDQ model to write"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf(
            "%s",
            helpText("quantscope-cli export-qdq MODEL.onnx --params P.json --out Q.onnx\n"
                     "Weights become int8 / uint8 initializers with DequantizeLinear (per tensor or per "
                     "axis), activations QuantizeLinear / DequantizeLinear pairs (per tensor); opset 13 "
                     "or later.",
                     options)
                .c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one MODEL");
    const auto paramsPath = commandLine.value("--params");
    const auto out = commandLine.value("--out");
    if (!paramsPath)
        throw UsageError("--params FILE is required");
    if (!out)
        throw UsageError("--out FILE is required");
    std::vector<ConversionNote> notes;
    const QParamsDocument params =
        readParamFile(*paramsPath, commandLine.value("--from").value_or(""), notes);
    const std::string bytes = QdqExporter::exportModel(commandLine.positionals()[0], params, notes);
    writeOutput(*out, bytes);
    for (const auto& note : notes)
        std::fprintf(stderr, "quantscope-cli: note: %s%s%s\n", note.entry.c_str(),
                     note.entry.empty() ? "" : ": ", note.message.c_str());
    if (*out != "-")
        std::printf("wrote %s (%zu bytes)\n", out->c_str(), bytes.size());
    return 0;
}

} // namespace quantscope::cli
