#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "TensorBlockInfo.h"
#include "TextTable.h"

#include "quantscope/io/WeightFile.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <limits>

namespace quantscope::cli {

int runInfo(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--json", true, false, "write the listing as JSON to FILE ('-' for stdout)"},
        {"--tensor", true, false, "show only this tensor"},
        {"--block", true, false, "with --tensor: the stored parameters of block I of a GGUF block type"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf(
            "%s",
            helpText("quantscope-cli info FILE [--tensor NAME [--block I]] [--json OUT]", options).c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one FILE");
    const std::string& path = commandLine.positionals()[0];
    if (commandLine.has("--block") && !commandLine.has("--tensor"))
        throw UsageError("--block needs --tensor NAME");
    const auto file = openWeightFile(path);
    if (const auto tensor = commandLine.value("--tensor")) {
        std::optional<uint64_t> block;
        if (commandLine.has("--block"))
            block = static_cast<uint64_t>(
                commandLine.integer("--block", 0, 0, std::numeric_limits<int64_t>::max()));
        return showTensorInfo(*file, *tensor, block, commandLine.value("--json"));
    }

    if (const auto jsonPath = commandLine.value("--json")) {
        nlohmann::ordered_json document;
        document["file"] = path;
        document["format"] = file->format();
        document["metadata"] = nlohmann::ordered_json::object();
        for (const auto& [key, value] : file->metadata())
            document["metadata"][key] = value;
        document["tensors"] = nlohmann::ordered_json::array();
        for (const auto& info : file->tensors())
            document["tensors"].push_back({{"name", info.name},
                                           {"dtype", storageName(info)},
                                           {"shape", info.shape},
                                           {"elements", info.elements},
                                           {"bytes", info.bytes}});
        // GGUF strings are bytes: invalid UTF-8 is written as U+FFFD rather than failing.
        writeOutput(*jsonPath,
                    document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
        if (*jsonPath == "-")
            return 0;
    }

    uint64_t totalBytes = 0;
    TextTable table({"name", "dtype", "shape", "elements", "bytes"});
    for (const auto& info : file->tensors()) {
        table.addRow({info.name, storageName(info), shapeToString(info.shape), std::to_string(info.elements),
                      std::to_string(info.bytes)});
        totalBytes += info.bytes;
    }
    std::printf("%s: %s, %zu tensors, %llu bytes of tensor data\n", path.c_str(), file->format().c_str(),
                file->tensors().size(), static_cast<unsigned long long>(totalBytes));
    for (const auto& [key, value] : file->metadata())
        std::printf("  %s: %s\n", key.c_str(), value.c_str());
    std::printf("\n%s", table.render({false, false, false, true, true}).c_str());
    return 0;
}

} // namespace quantscope::cli
