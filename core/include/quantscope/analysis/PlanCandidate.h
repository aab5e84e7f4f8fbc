#pragma once

#include "quantscope/analysis/PrecisionPlan.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace quantscope {

// One format a precision plan may choose, as the user named it.
struct PlanCandidate {
    std::string name; // "q4_k", "int4/g128", "int8/channel", "uint4/g64", "nvfp4"
    QuantSpec spec;
};

// Parses a candidate: a --dtype name and, for the formats that leave it open, the granularity
// ("/channel", "/tensor", "/gN"; default per output channel; groups run along the inputs).
// Symmetric, min/max. Throws Error(subject) naming the text and the allowed layouts.
PlanCandidate parsePlanCandidate(const std::string& text, const std::string& subject = "--candidates");
// A comma-separated list of them (empty items are skipped; an empty list is an error).
std::vector<PlanCandidate> parsePlanCandidates(const std::string& list,
                                               const std::string& subject = "--candidates");

// llama.cpp gives a row that its k-quant's 256-value super-blocks do not divide the nearest
// 32-block type instead (llama-quant.cpp: q4_K -> q5_0, q6_K -> q8_0). Returns the spec unchanged
// when no fallback applies.
QuantSpec llamaCppFallback(QuantSpec spec, int64_t rowLength);

// The spec a candidate runs with on a tensor of `shape` (rank 2 or more) in a whole-model plan:
// ggml blocks run along a row (the last axis), with llama.cpp's fallback for rows a k-quant does
// not divide. `note`, when given, says why the format changed (empty when it did not).
QuantSpec candidateSpecFor(const QuantSpec& candidate, const std::vector<int64_t>& shape,
                           std::string* note = nullptr);

// What a candidate's analysis of a tensor costs and gives: stored bits per value (scales
// included) and its SQNR, an exact result capped at kExactSqnrDb and an all-zero tensor at 0.
CandidateScore scoreCandidate(const TensorAnalysis& analysis);

// llama-quantize --tensor-type overrides, one "regex=type" line per tensor (the regex matches
// exactly the name; the type in ggml_type_name's spelling). Throws Error(subject) for a format
// llama.cpp cannot store.
std::string llamaTensorTypeLines(const std::vector<std::pair<std::string, QuantFormat>>& choices,
                                 const std::string& subject = "--llama-tensor-types");

} // namespace quantscope
