// quantscope-cli conventions: for one tensor and settings, the scale, zero point, range, rounding,
// integer of a chosen value and SQNR that PyTorch, ONNX Runtime, TensorRT, AIMET, TFLite and
// llama.cpp would produce, side by side, with the differences from PyTorch (our contract) marked.
#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "QuantOptions.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/interop/ToolchainRules.h"
#include "quantscope/io/WeightFile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

namespace quantscope::cli {
namespace {

std::string exactText(float value) {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(value));
    return buffer;
}

} // namespace

int runConventions(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions(
        {
            {"--tensor", true, false, "the tensor to compare the toolchains on"},
            {"--value", true, false,
             "the value whose integer each toolchain gives (default: the tensor's first)"},
            {"--block", true, false,
             "the llama.cpp block (32 values) whose parameters are shown (default 0)"},
            {"--json", true, false, "write the comparison as JSON to FILE ('-' for stdout)"},
        },
        {quantOptionSpecs()});
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s",
                    helpText("quantscope-cli conventions FILE --tensor NAME [Q] [--value X] [--block N] "
                             "[--json OUT]\n"
                             "Per-tensor parameters of each toolchain for --dtype, --scheme, --reduce-range "
                             "and --narrow-range (llama.cpp: its Q8_0 and Q4_0 block formats).",
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
    const auto file = openWeightFile(path);
    if (!file->find(*name))
        throw Error(path + ": " + *name, "no such tensor (see 'quantscope-cli info " + path + "')");
    const Tensor tensor = file->load(*name);
    if (tensor.values().empty())
        throw Error(path + ": " + *name, "has no values");
    const float chosen = commandLine.has("--value") ? static_cast<float>(commandLine.number("--value", 0.0))
                                                    : tensor.values()[0];
    const int64_t block = commandLine.integer("--block", 0, 0, INT64_MAX);
    const auto results = compareToolchains(tensor.values(), spec, chosen, block);

    if (const auto jsonPath = commandLine.value("--json")) {
        nlohmann::ordered_json document{{"file", path},
                                        {"tensor", *name},
                                        {"dtype", spec.format.name()},
                                        {"scheme", std::string(schemeName(spec.scheme))},
                                        {"reduce_range", spec.reduceRange},
                                        {"narrow_range", spec.narrowRange},
                                        {"value", chosen}};
        document["toolchains"] = nlohmann::ordered_json::array();
        for (const auto& r : results) {
            const auto& p = r.params;
            nlohmann::ordered_json row{
                {"toolchain", p.toolchain},
                {"rule", p.rule},
                {"source", p.source},
                {"scale", static_cast<double>(p.scale)},
                {"zero_point", p.zeroPoint},
                {"qmin", p.qmin},
                {"qmax", p.qmax},
                {"rounding", std::string(roundingRuleText(p.rounding))},
                {"value_integer", r.chosenInteger},
                {"sqnr_db", r.sqnrNote.empty() ? nlohmann::ordered_json(r.sqnrDb) : nullptr}};
            if (!r.sqnrNote.empty())
                row["sqnr_note"] = r.sqnrNote;
            if (!p.note.empty())
                row["note"] = p.note;
            row["differs_from_pytorch"] = nlohmann::ordered_json::array();
            const auto& base = results.front().params;
            if (p.scale != base.scale)
                row["differs_from_pytorch"].push_back("scale");
            if (p.zeroPoint != base.zeroPoint)
                row["differs_from_pytorch"].push_back("zero_point");
            if (p.qmin != base.qmin || p.qmax != base.qmax)
                row["differs_from_pytorch"].push_back("range");
            if (p.rounding != base.rounding)
                row["differs_from_pytorch"].push_back("rounding");
            if (r.chosenInteger != results.front().chosenInteger)
                row["differs_from_pytorch"].push_back("value_integer");
            document["toolchains"].push_back(row);
        }
        writeOutput(*jsonPath, document.dump(2) + "\n");
        if (*jsonPath == "-")
            return 0;
    }

    // '*' marks a cell that differs from PyTorch's row (Quantscope's own convention).
    const auto& base = results.front();
    auto mark = [](bool differs, std::string text) { return differs ? text + " *" : text; };
    TextTable table({"toolchain", "scale", "zero point", "qmin", "qmax", "rounding",
                     "q(" + exactText(chosen) + ")", "SQNR dB", "rule"});
    for (const auto& r : results) {
        const auto& p = r.params;
        const bool same = &r == &base;
        table.addRow(
            {p.toolchain, mark(!same && p.scale != base.params.scale, exactText(p.scale)),
             mark(!same && p.zeroPoint != base.params.zeroPoint, std::to_string(p.zeroPoint)),
             mark(!same && p.qmin != base.params.qmin, std::to_string(p.qmin)),
             mark(!same && p.qmax != base.params.qmax, std::to_string(p.qmax)),
             mark(!same && p.rounding != base.params.rounding, std::string(roundingRuleText(p.rounding))),
             mark(!same && r.chosenInteger != base.chosenInteger, std::to_string(r.chosenInteger)),
             r.sqnrNote.empty() ? formatNumber(r.sqnrDb) : r.sqnrNote,
             p.rule + (p.note.empty() ? "" : " (" + p.note + ")")});
    }
    std::printf("%s: %s, %s %s%s%s\n", path.c_str(), name->c_str(),
                std::string(schemeName(spec.scheme)).c_str(), spec.format.name().c_str(),
                spec.reduceRange ? ", reduce range" : "", spec.narrowRange ? ", narrow range" : "");
    std::printf("%s", table.render({false, true, true, true, true, false, true, true, false}).c_str());
    std::printf("* differs from PyTorch (Quantscope's convention). Sources:\n");
    for (const auto& r : results)
        std::printf("  %-16s %s\n", r.params.toolchain.c_str(), r.params.source.c_str());
    return 0;
}

} // namespace quantscope::cli
