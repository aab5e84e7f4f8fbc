#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quantscope {

// What one candidate format costs and gives on one tensor.
struct CandidateScore {
    double bitsPerValue = 0.0; // stored bits per value, scales included
    double sqnrDb = 0.0;       // finite: an exact result is capped (kExactSqnrDb)
};

// One tensor's scores, one per candidate, in the candidates' order.
struct TensorCandidates {
    std::string name;
    int64_t elements = 0;
    std::vector<CandidateScore> scores;
};

// A format per tensor and what the whole model gets from it.
struct PrecisionPlan {
    std::vector<std::size_t> choice; // candidate index per tensor
    double bitsPerValue = 0.0;       // over all the tensors' values
    double weightedSqnrDb = 0.0;     // SQNR averaged with each tensor's value count as weight
    bool uniform = false;            // one candidate for every tensor was the better plan
};

// The SQNR that stands for an exact result (no error) in the plan's sums.
constexpr double kExactSqnrDb = 200.0;

// Bits per value and weighted SQNR of a given choice.
PrecisionPlan evaluatePlan(const std::vector<TensorCandidates>& tensors, std::vector<std::size_t> choice);

// Chooses a candidate per tensor to maximise the weighted SQNR with at most `budgetBitsPerValue`
// bits per value over the model: every tensor starts at its cheapest candidate, then the upgrade
// that buys the most SQNR per bit (weighted by the tensor's size) is taken while it fits, along
// each tensor's lower convex hull of (bits, SQNR) (a greedy solution of the multiple-choice
// knapsack). The result is compared with every uniform choice that fits and is never worse than
// the best of them. Throws Error("--budget") when even the cheapest choice does not fit.
PrecisionPlan planPrecision(const std::vector<TensorCandidates>& tensors, double budgetBitsPerValue);

} // namespace quantscope
