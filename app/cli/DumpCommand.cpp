#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"

#include "quantscope/Error.h"
#include "quantscope/io/NpyWriter.h"
#include "quantscope/io/WeightFile.h"

#include <cstdio>

namespace quantscope::cli {

int runDump(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--tensor", true, false, "the tensor to write (required)"},
        {"--out", true, false, "the float32 .npy file to write (required; '-' for stdout)"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s",
                    helpText("quantscope-cli dump FILE --tensor NAME --out X.npy\n"
                             "Writes the tensor's values as float32 .npy, dequantized when the file stores "
                             "them quantized (GGUF block types).",
                             options)
                        .c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one FILE");
    const auto name = commandLine.value("--tensor");
    const auto out = commandLine.value("--out");
    if (!name)
        throw UsageError("--tensor NAME is required");
    if (!out)
        throw UsageError("--out X.npy is required");
    const std::string& path = commandLine.positionals()[0];
    const auto file = openWeightFile(path);
    if (!file->find(*name))
        throw Error(path + ": " + *name, "no such tensor (see 'quantscope-cli info " + path + "')");
    const Tensor tensor = file->load(*name);
    // Through OutputFiles: the .npy appears whole or not at all.
    writeOutput(*out, NpyWriter::encodeFloat32(tensor.shape(), tensor.values(), path + ": " + *name));
    return 0;
}

} // namespace quantscope::cli
