#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "TensorBlockInfo.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/io/WeightFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace quantscope::cli {
namespace {

// `info FILE --tensor NAME`: the tensor's listing, and for a tensor stored quantized (a packed
// GPTQ / AWQ / compressed-tensors weight) its storage, how it was read and why, and each stored
// parameter's shape, range and first values.
int describeTensor(const WeightFile& file, const std::string& name) {
    const TensorInfo* info = file.find(name);
    if (info == nullptr)
        throw Error(file.path() + ": " + name, "no such tensor in the file");
    std::printf("%s: %s %s, %llu elements, %llu bytes\n", name.c_str(),
                std::string(dtypeName(info->dtype)).c_str(), shapeToString(info->shape).c_str(),
                static_cast<unsigned long long>(info->elements),
                static_cast<unsigned long long>(info->bytes));
    const auto stored = file.storedQuantization(name);
    if (!stored) {
        std::printf("stored as %s, no stored quantization parameters\n",
                    std::string(dtypeName(info->dtype)).c_str());
        return 0;
    }
    std::printf("stored as %s\n%s\n", stored->format.c_str(), stored->note.c_str());
    for (const Tensor& parameter : stored->parameters) {
        const auto values = parameter.values();
        const auto [low, high] = std::minmax_element(values.begin(), values.end());
        std::printf("\n%s %s", parameter.name().c_str(), shapeToString(parameter.shape()).c_str());
        if (!values.empty())
            std::printf(", min %.9g, max %.9g", static_cast<double>(*low), static_cast<double>(*high));
        std::printf("\n ");
        for (std::size_t i = 0; i < std::min<std::size_t>(values.size(), 16); ++i)
            std::printf(" %.9g", static_cast<double>(values[i]));
        std::printf("%s\n", values.size() > 16 ? " ..." : "");
    }
    return 0;
}

} // namespace

int runInfo(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--json", true, false, "write the listing as JSON to FILE ('-' for stdout)"},
        {"--tensor", true, false,
         "describe one tensor: how it is stored and its stored parameters (or blocks, with --block)"},
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
        // A packed checkpoint's weight: how it is stored and its stored parameters.
        if (!block && !commandLine.has("--json") && file->storedQuantization(*tensor))
            return describeTensor(*file, *tensor);
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
        for (const auto& info : file->tensors()) {
            nlohmann::ordered_json entry = {{"name", info.name},
                                            {"dtype", storageName(info)},
                                            {"shape", info.shape},
                                            {"elements", info.elements},
                                            {"bytes", info.bytes}};
            if (const auto stored = file->storedQuantization(info.name))
                entry["storage"] = stored->format;
            document["tensors"].push_back(std::move(entry));
        }
        // GGUF strings are bytes: invalid UTF-8 is written as U+FFFD rather than failing.
        writeOutput(*jsonPath,
                    document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
        if (*jsonPath == "-")
            return 0;
    }

    uint64_t totalBytes = 0;
    TextTable table({"name", "dtype", "shape", "elements", "bytes"});
    for (const auto& info : file->tensors()) {
        const auto stored = file->storedQuantization(info.name);
        table.addRow({info.name, stored ? stored->format : storageName(info), shapeToString(info.shape),
                      std::to_string(info.elements), std::to_string(info.bytes)});
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
