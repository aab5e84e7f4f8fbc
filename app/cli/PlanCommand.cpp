// quantscope-cli plan: mixed precision under a bits-per-value budget. Every tensor of rank 2 or
// more is analysed in every candidate format; planPrecision then picks one per tensor.

#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "ProgressBar.h"
#include "TensorAnalysisRunner.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/PlanCandidate.h"
#include "quantscope/analysis/PrecisionPlan.h"
#include "quantscope/interop/ParamFileFormat.h"
#include "quantscope/io/WeightFile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

namespace quantscope::cli {
namespace {

constexpr const char* kDefaultCandidates = "q4_k,q5_0,q6_k,q8_0";

} // namespace

int runPlan(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--budget", true, false, "bits per value over the planned tensors, scales included (required)"},
        {"--candidates", true, false,
         std::string("formats to choose from, comma-separated: a --dtype name, integers with /channel, "
                     "/tensor or /gN (default ") +
             kDefaultCandidates + ")"},
        {"--json", true, false, "write the plan as JSON ('-' for stdout)"},
        {"--out-params", true, false, "write the chosen settings as a quantscope-qparams document"},
        {"--llama-tensor-types", true, false,
         "write llama-quantize --tensor-type overrides, one 'regex=type' line per tensor"},
        {"--compressed-tensors", true, false, "write the choice as a compressed-tensors quantization_config"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s", helpText("quantscope-cli plan FILE --budget BITS [--candidates LIST]\n"
                                   "Chooses a format per tensor (rank 2 and more; 1-D tensors stay float) to "
                                   "maximise the SQNR averaged over all values, within a budget of bits per "
                                   "value; never worse than the best single format that fits.",
                                   options)
                              .c_str());
        return 0;
    }
    if (commandLine.positionals().size() != 1)
        throw UsageError("expected exactly one FILE");
    if (!commandLine.has("--budget"))
        throw UsageError("--budget BITS is required");
    const double budget = commandLine.number("--budget", 0.0);
    if (!(budget > 0.0 && budget <= 64.0))
        throw Error("--budget",
                    "budget " + formatNumber(budget) + " is out of range (allowed: above 0, at most 64)");
    const std::vector<PlanCandidate> candidates =
        parsePlanCandidates(commandLine.value("--candidates").value_or(kDefaultCandidates));

    const std::string& path = commandLine.positionals()[0];
    const auto file = openWeightFile(path);
    std::vector<std::string> names;
    for (const auto& info : file->tensors())
        if (info.shape.size() >= 2)
            names.push_back(info.name);
    if (names.empty())
        throw Error(path, "has no tensor of rank 2 or more to plan");

    // Every tensor in every candidate: the scores, and the spec each one actually ran with (a
    // k-quant on rows that 256 does not divide runs as llama.cpp's fallback format).
    ProgressBar progress("plan");
    std::vector<TensorCandidates> scored;
    std::vector<std::vector<QParamsEntry>> entries(names.size());
    for (std::size_t t = 0; t < names.size(); ++t) {
        TensorCandidates tensor;
        tensor.name = names[t];
        const Tensor values = file->load(names[t]); // read once, analysed in every candidate
        for (const PlanCandidate& candidate : candidates) {
            progress.setLabel(names[t] + " " + candidate.name);
            std::string note;
            const QuantSpec spec = candidateSpecFor(candidate.spec, values.shape(), &note);
            if (!note.empty())
                std::fprintf(stderr, "quantscope-cli: note: %s has %s\n", names[t].c_str(), note.c_str());
            AnalysisOptions analysisOptions;
            analysisOptions.progress = progress.callback();
            TensorAnalysis analysis;
            try {
                analysis = analyzeTensor(values, spec, analysisOptions);
            } catch (const Error& error) {
                // Name the tensor as well as the option: with many tensors the option alone is ambiguous.
                if (error.subject() == names[t])
                    throw;
                throw Error(path + ": " + names[t], error.what());
            }
            tensor.elements = analysis.metrics.count + analysis.metrics.nonfinite;
            tensor.scores.push_back(scoreCandidate(analysis));
            entries[t].push_back(entryFor(analysis));
        }
        scored.push_back(std::move(tensor));
    }
    const PrecisionPlan plan = planPrecision(scored, budget);

    OutputFiles outputs;
    if (const auto out = commandLine.value("--out-params")) {
        QParamsDocument document;
        document.source = FileReference::describe(path);
        for (std::size_t t = 0; t < names.size(); ++t)
            document.tensors.push_back(entries[t][plan.choice[t]]);
        outputs.add(*out, document.toJson());
    }
    if (const auto out = commandLine.value("--llama-tensor-types")) {
        std::vector<std::pair<std::string, QuantFormat>> choices;
        for (std::size_t t = 0; t < names.size(); ++t)
            choices.emplace_back(names[t], entries[t][plan.choice[t]].spec.format);
        outputs.add(*out, llamaTensorTypeLines(choices));
    }
    if (const auto out = commandLine.value("--compressed-tensors")) {
        QParamsDocument document;
        for (std::size_t t = 0; t < names.size(); ++t)
            document.tensors.push_back(entries[t][plan.choice[t]]);
        std::vector<ConversionNote> notes;
        outputs.add(*out,
                    paramFileFormat("compressed-tensors", "--compressed-tensors").write(document, notes));
        for (const auto& note : notes)
            std::fprintf(stderr, "quantscope-cli: note: %s%s%s\n", note.entry.c_str(),
                         note.entry.empty() ? "" : ": ", note.message.c_str());
    }

    nlohmann::ordered_json json;
    json["source"] = path;
    json["budget_bits_per_value"] = budget;
    json["bits_per_value"] = plan.bitsPerValue;
    json["weighted_sqnr_db"] = plan.weightedSqnrDb;
    json["uniform_is_best"] = plan.uniform;
    json["candidates"] = nlohmann::ordered_json::array();
    for (std::size_t c = 0; c < candidates.size(); ++c) {
        const PrecisionPlan uniform = evaluatePlan(scored, std::vector<std::size_t>(names.size(), c));
        json["candidates"].push_back({{"name", candidates[c].name},
                                      {"bits_per_value", uniform.bitsPerValue},
                                      {"weighted_sqnr_db", uniform.weightedSqnrDb},
                                      {"fits", uniform.bitsPerValue <= budget * (1.0 + 1e-12)}});
    }
    json["tensors"] = nlohmann::ordered_json::array();
    TextTable table({"tensor", "values", "format", "bits/value", "SQNR dB"});
    for (std::size_t t = 0; t < names.size(); ++t) {
        const std::size_t c = plan.choice[t];
        const QParamsEntry& entry = entries[t][c];
        nlohmann::ordered_json item{{"name", names[t]},
                                    {"elements", scored[t].elements},
                                    {"candidate", candidates[c].name},
                                    {"dtype", entry.spec.format.name()},
                                    {"bits_per_value", scored[t].scores[c].bitsPerValue},
                                    {"sqnr_db", scored[t].scores[c].sqnrDb}};
        nlohmann::ordered_json all = nlohmann::ordered_json::object();
        for (std::size_t k = 0; k < candidates.size(); ++k)
            all[candidates[k].name] = {{"bits_per_value", scored[t].scores[k].bitsPerValue},
                                       {"sqnr_db", scored[t].scores[k].sqnrDb}};
        item["scores"] = all;
        json["tensors"].push_back(item);
        table.addRow({names[t], std::to_string(scored[t].elements), entry.spec.format.name(),
                      formatNumber(scored[t].scores[c].bitsPerValue),
                      formatNumber(scored[t].scores[c].sqnrDb)});
    }
    if (const auto out = commandLine.value("--json"))
        outputs.add(*out, json.dump(2) + "\n");
    outputs.commit();
    if (commandLine.value("--json") == std::optional<std::string>("-"))
        return 0;

    std::printf("%s", table.render({false, true, false, true, true}).c_str());
    std::printf("\nplan: %s bits per value (budget %s), weighted SQNR %s dB%s\n",
                formatNumber(plan.bitsPerValue).c_str(), formatNumber(budget).c_str(),
                formatNumber(plan.weightedSqnrDb).c_str(), plan.uniform ? " (a single format is best)" : "");
    for (const auto& candidate : json["candidates"])
        std::printf("  all %-12s %s bits per value, weighted SQNR %s dB%s\n",
                    candidate["name"].get<std::string>().c_str(),
                    formatNumber(candidate["bits_per_value"].get<double>()).c_str(),
                    formatNumber(candidate["weighted_sqnr_db"].get<double>()).c_str(),
                    candidate["fits"].get<bool>() ? "" : " (over budget)");
    return 0;
}

} // namespace quantscope::cli
