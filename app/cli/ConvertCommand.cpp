// quantscope-cli convert: parameter files between Quantscope and the deployment toolchains
// (AIMET, TensorRT, ONNX Runtime, compressed-tensors), saying what the target cannot express.
#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"

#include "quantscope/Error.h"
#include "quantscope/interop/ParamFileFormat.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>

namespace quantscope::cli {
namespace {

// Every entry must name a tensor of `modelPath`: a weight, or for an ONNX model also a graph input
// or a node output (where activations live).
void checkNamesAgainst(const std::string& modelPath, const QParamsDocument& document,
                       const std::string& input) {
    std::set<std::string> names;
    const auto file = openWeightFile(modelPath); // kept alive: tensors() refers into it
    for (const auto& info : file->tensors())
        names.insert(info.name);
    if (modelPath.size() > 5 && modelPath.compare(modelPath.size() - 5, 5, ".onnx") == 0) {
        const Graph graph = loadOnnxGraph(modelPath);
        for (const auto& value : graph.inputs)
            names.insert(value.name);
        for (const auto& node : graph.nodes)
            names.insert(node.outputs.begin(), node.outputs.end());
    }
    for (const auto& entry : document.tensors)
        if (!names.count(entry.name))
            throw Error(input + ": entry '" + entry.name + "'", "matches no tensor of " + modelPath);
}

} // namespace

int runConvert(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--to", true, false, "the output format (see below)"},
        {"--from", true, false, "the input format (detected from the content when absent)"},
        {"--out", true, false, "the file to write ('-' for stdout)"},
        {"--json", true, false,
         "write a report (formats, entries, what was not expressed) to FILE ('-' for stdout)"},
        {"--model", true, false, "check that every entry names a tensor of this model or weights file"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::string formats = "\nFormats:\n";
        for (const auto& format : paramFileFormats())
            formats += "  " + std::string(format->name()) + std::string(20 - format->name().size(), ' ') +
                       std::string(format->description()) + "\n";
        std::printf(
            "%s%s",
            helpText("quantscope-cli convert IN --to FORMAT --out OUT [--from FORMAT] [--json REPORT]",
                     options)
                .c_str(),
            formats.c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one input file IN");
    const auto to = commandLine.value("--to");
    const auto out = commandLine.value("--out");
    if (!to)
        throw UsageError("--to FORMAT is required");
    if (!out)
        throw UsageError("--out FILE is required");
    const std::string& input = commandLine.positionals()[0];
    const ParamFileFormat& target = paramFileFormat(*to, "--to");

    std::vector<ConversionNote> readNotes;
    const std::string from = commandLine.value("--from").value_or("");
    if (!from.empty())
        paramFileFormat(from, "--from");
    std::string formatRead;
    const QParamsDocument document = readParamFile(input, from, readNotes, &formatRead);
    if (const auto model = commandLine.value("--model"))
        checkNamesAgainst(*model, document, input);
    std::vector<ConversionNote> writeNotes;
    const std::string text = target.write(document, writeNotes);

    OutputFiles outputs;
    outputs.add(*out, text);
    std::size_t dropped = 0;
    for (const auto& note : writeNotes)
        dropped += note.dropped ? 1 : 0;
    const auto jsonPath = commandLine.value("--json");
    if (jsonPath) {
        auto notesJson = [](const std::vector<ConversionNote>& notes) {
            nlohmann::ordered_json list = nlohmann::ordered_json::array();
            for (const auto& note : notes)
                list.push_back({{"entry", note.entry.empty() ? nlohmann::ordered_json(nullptr)
                                                             : nlohmann::ordered_json(note.entry)},
                                {"message", note.message},
                                {"dropped", note.dropped}});
            return list;
        };
        nlohmann::ordered_json report{{"input", input},
                                      {"from", formatRead},
                                      {"output", *out},
                                      {"to", std::string(target.name())},
                                      {"entries_read", document.tensors.size()},
                                      {"entries_written", document.tensors.size() - dropped},
                                      {"read_notes", notesJson(readNotes)},
                                      {"not_expressed", notesJson(writeNotes)}};
        if (*jsonPath == *out)
            throw UsageError("--json and --out name the same file");
        outputs.add(*jsonPath, report.dump(2) + "\n");
    }
    outputs.commit();
    auto print = [](const ConversionNote& note, const char* kind) {
        std::fprintf(stderr, "quantscope-cli: %s: %s%s%s\n", kind,
                     note.entry.empty() ? "" : note.entry.c_str(), note.entry.empty() ? "" : ": ",
                     note.message.c_str());
    };
    for (const auto& note : readNotes)
        print(note, "note");
    for (const auto& note : writeNotes)
        print(note, note.dropped ? "not written" : "not expressed");
    if (*out != "-" && jsonPath != "-")
        std::printf("%zu of %zu entries written to %s (%s)\n", document.tensors.size() - dropped,
                    document.tensors.size(), out->c_str(), std::string(target.name()).c_str());
    return 0;
}

} // namespace quantscope::cli
