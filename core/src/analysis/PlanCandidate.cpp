#include "quantscope/analysis/PlanCandidate.h"

#include "quantscope/Error.h"
#include "quantscope/quant/StorageSize.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string_view>

namespace quantscope {

PlanCandidate parsePlanCandidate(const std::string& text, const std::string& subject) {
    const auto slash = text.find('/');
    const std::string format = text.substr(0, slash);
    QuantSpec spec;
    try {
        spec.format = QuantFormat::parse(format);
    } catch (const Error& error) {
        throw Error(subject, "'" + text + "': " + error.detail());
    }
    spec.scheme = Scheme::Symmetric;
    spec.granularity = Granularity::Channel;
    if (spec.format.isBlockScaled()) {
        spec.granularity = Granularity::Group;
        spec.groupSize = spec.format.blockSize();
    }
    if (slash != std::string::npos) {
        const std::string layout = text.substr(slash + 1);
        if (spec.format.isBlockScaled())
            throw Error(subject, "'" + text + "': " + spec.format.name() + " brings its own blocks");
        if (layout == "channel") {
            spec.granularity = Granularity::Channel;
        } else if (layout == "tensor") {
            spec.granularity = Granularity::Tensor;
        } else if (layout.size() > 1 && layout[0] == 'g' &&
                   layout.find_first_not_of("0123456789", 1) == std::string::npos && layout.size() < 9) {
            spec.granularity = Granularity::Group;
            spec.groupSize = std::stoll(layout.substr(1));
            if (spec.groupSize < 1)
                throw Error(subject, "'" + text + "': group size must be 1 or more");
        } else {
            throw Error(subject, "'" + text + "': unknown layout '" + layout +
                                     "' (allowed: channel, tensor, gN such as g128)");
        }
    }
    spec.axis = spec.granularity == Granularity::Group ? 1 : 0;
    spec.validate();
    return {text, spec};
}

std::vector<PlanCandidate> parsePlanCandidates(const std::string& list, const std::string& subject) {
    std::vector<PlanCandidate> candidates;
    std::stringstream stream(list);
    std::string item;
    while (std::getline(stream, item, ','))
        if (!item.empty())
            candidates.push_back(parsePlanCandidate(item, subject));
    if (candidates.empty())
        throw Error(subject, "names no format");
    return candidates;
}

QuantSpec llamaCppFallback(QuantSpec spec, int64_t rowLength) {
    const int block = spec.format.blockSize();
    if (block <= 0 || rowLength % block == 0 || rowLength % 32 != 0)
        return spec;
    const char* fallback = nullptr;
    if (spec.format.kind == FormatKind::GgmlQ4_K)
        fallback = "q5_0";
    else if (spec.format.kind == FormatKind::GgmlQ6_K)
        fallback = "q8_0";
    if (!fallback)
        return spec;
    spec.format = QuantFormat::parse(fallback);
    spec.groupSize = spec.format.blockSize();
    return spec;
}

QuantSpec candidateSpecFor(const QuantSpec& candidate, const std::vector<int64_t>& shape, std::string* note) {
    QuantSpec spec = candidate;
    if (note)
        note->clear();
    if (!spec.format.isGgml() || shape.empty())
        return spec;
    spec.axis = static_cast<int>(shape.size()) - 1;
    const int64_t row = shape.back();
    const QuantSpec fallback = llamaCppFallback(spec, row);
    if (note && fallback.format.kind != spec.format.kind)
        *note = "rows of " + std::to_string(row) + " values, not whole " + spec.format.name() +
                " super-blocks: analysed as " + fallback.format.name() + ", as llama.cpp quantizes it";
    return fallback;
}

CandidateScore scoreCandidate(const TensorAnalysis& analysis) {
    const int64_t elements = analysis.metrics.count + analysis.metrics.nonfinite;
    const uint64_t bytes =
        quantizedStorageBytes(elements, analysis.spec, static_cast<int64_t>(analysis.params.blockCount()));
    CandidateScore score;
    score.bitsPerValue =
        elements == 0 ? 0.0 : 8.0 * static_cast<double>(bytes) / static_cast<double>(elements);
    if (analysis.metrics.sqnrNote == "exact")
        score.sqnrDb = kExactSqnrDb;
    else if (!std::isfinite(analysis.metrics.sqnrDb))
        score.sqnrDb = 0.0; // a zero tensor: every format is as good, the cheapest is chosen
    else
        score.sqnrDb = std::min(analysis.metrics.sqnrDb, kExactSqnrDb);
    return score;
}

namespace {

// ggml_type_name's spelling, which llama-quantize's --tensor-type reads.
std::string ggmlTypeName(const QuantFormat& format) {
    std::string name = format.name();
    if (name.back() == 'k')
        name.back() = 'K';
    return name;
}

// A regular expression that matches exactly `name` (llama-quantize matches with std::regex).
std::string exactPattern(const std::string& name) {
    std::string pattern = "^";
    for (char c : name) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos)
            pattern += '\\';
        pattern += c;
    }
    return pattern + "$";
}

} // namespace

std::string llamaTensorTypeLines(const std::vector<std::pair<std::string, QuantFormat>>& choices,
                                 const std::string& subject) {
    std::string lines;
    for (const auto& [name, format] : choices) {
        if (!format.isGgml())
            throw Error(subject, name + " chose " + format.name() +
                                     ", which llama.cpp cannot store (allowed: q8_0, q4_0, "
                                     "q4_1, q5_0, q5_1, q4_k, q6_k candidates)");
        lines += exactPattern(name) + "=" + ggmlTypeName(format) + "\n";
    }
    return lines;
}

} // namespace quantscope
