#include "quantscope/analysis/PrecisionPlan.h"

#include "quantscope/Error.h"

#include <algorithm>
#include <cstdio>
#include <queue>

namespace quantscope {
namespace {

std::string bitsText(double bits) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.4g", bits);
    return text;
}

// A tensor's candidates worth moving through, cheapest first: the lower convex hull of
// (bits, SQNR), so that each step buys less SQNR per bit than the one before. Candidates that
// cost more and give no more are dropped.
std::vector<std::size_t> upgradePath(const TensorCandidates& tensor) {
    std::vector<std::size_t> order(tensor.scores.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const CandidateScore& x = tensor.scores[a];
        const CandidateScore& y = tensor.scores[b];
        return x.bitsPerValue != y.bitsPerValue ? x.bitsPerValue < y.bitsPerValue : x.sqnrDb > y.sqnrDb;
    });
    std::vector<std::size_t> hull;
    for (std::size_t index : order) {
        const CandidateScore& next = tensor.scores[index];
        if (!hull.empty() && next.sqnrDb <= tensor.scores[hull.back()].sqnrDb)
            continue; // costs at least as much, gives no more
        // Drop the last point while it lies on or below the line from the one before it to `next`.
        while (hull.size() >= 2) {
            const CandidateScore& a = tensor.scores[hull[hull.size() - 2]];
            const CandidateScore& b = tensor.scores[hull.back()];
            const double slopeAB = (b.sqnrDb - a.sqnrDb) / (b.bitsPerValue - a.bitsPerValue);
            const double slopeAN = (next.sqnrDb - a.sqnrDb) / (next.bitsPerValue - a.bitsPerValue);
            if (slopeAN < slopeAB)
                break;
            hull.pop_back();
        }
        hull.push_back(index);
    }
    return hull;
}

} // namespace

PrecisionPlan evaluatePlan(const std::vector<TensorCandidates>& tensors, std::vector<std::size_t> choice) {
    PrecisionPlan plan;
    double values = 0.0, bits = 0.0, weighted = 0.0;
    for (std::size_t t = 0; t < tensors.size(); ++t) {
        const auto n = static_cast<double>(tensors[t].elements);
        const CandidateScore& score = tensors[t].scores.at(choice.at(t));
        values += n;
        bits += n * score.bitsPerValue;
        weighted += n * score.sqnrDb;
    }
    plan.choice = std::move(choice);
    plan.bitsPerValue = values > 0.0 ? bits / values : 0.0;
    plan.weightedSqnrDb = values > 0.0 ? weighted / values : 0.0;
    return plan;
}

PrecisionPlan planPrecision(const std::vector<TensorCandidates>& tensors, double budgetBitsPerValue) {
    if (tensors.empty())
        throw Error("--budget", "there are no tensors to plan");
    const std::size_t candidates = tensors.front().scores.size();
    for (const TensorCandidates& tensor : tensors)
        if (tensor.scores.size() != candidates || candidates == 0)
            throw Error(tensor.name, "has " + std::to_string(tensor.scores.size()) +
                                         " candidate scores (expected " + std::to_string(candidates) +
                                         ", at least 1)");

    double totalValues = 0.0;
    for (const TensorCandidates& tensor : tensors)
        totalValues += static_cast<double>(tensor.elements);
    const double budgetBits = budgetBitsPerValue * totalValues;

    std::vector<std::vector<std::size_t>> paths;
    std::vector<std::size_t> position(tensors.size(), 0);
    std::vector<std::size_t> choice(tensors.size());
    double usedBits = 0.0;
    for (std::size_t t = 0; t < tensors.size(); ++t) {
        paths.push_back(upgradePath(tensors[t]));
        choice[t] = paths.back().front();
        usedBits += static_cast<double>(tensors[t].elements) * tensors[t].scores[choice[t]].bitsPerValue;
    }
    if (usedBits > budgetBits * (1.0 + 1e-12)) {
        throw Error("--budget", "budget " + bitsText(budgetBitsPerValue) +
                                    " bits per value is below the cheapest choice of these candidates (" +
                                    bitsText(usedBits / totalValues) + ")");
    }

    // Upgrades by SQNR gained per bit spent, best first.
    struct Upgrade {
        double efficiency;
        std::size_t tensor;
        bool operator<(const Upgrade& other) const { return efficiency < other.efficiency; }
    };
    std::priority_queue<Upgrade> queue;
    auto offer = [&](std::size_t t) {
        const auto& path = paths[t];
        if (position[t] + 1 >= path.size())
            return;
        const CandidateScore& now = tensors[t].scores[path[position[t]]];
        const CandidateScore& next = tensors[t].scores[path[position[t] + 1]];
        queue.push({(next.sqnrDb - now.sqnrDb) / (next.bitsPerValue - now.bitsPerValue), t});
    };
    for (std::size_t t = 0; t < tensors.size(); ++t)
        offer(t);
    while (!queue.empty()) {
        const Upgrade upgrade = queue.top();
        queue.pop();
        const std::size_t t = upgrade.tensor;
        const auto n = static_cast<double>(tensors[t].elements);
        const CandidateScore& now = tensors[t].scores[paths[t][position[t]]];
        const CandidateScore& next = tensors[t].scores[paths[t][position[t] + 1]];
        const double cost = n * (next.bitsPerValue - now.bitsPerValue);
        if (usedBits + cost > budgetBits * (1.0 + 1e-12))
            continue; // does not fit; cheaper upgrades of other tensors still may
        usedBits += cost;
        ++position[t];
        choice[t] = paths[t][position[t]];
        offer(t);
    }

    PrecisionPlan best = evaluatePlan(tensors, choice);
    for (std::size_t c = 0; c < candidates; ++c) {
        PrecisionPlan uniform = evaluatePlan(tensors, std::vector<std::size_t>(tensors.size(), c));
        if (uniform.bitsPerValue <= budgetBitsPerValue * (1.0 + 1e-12) &&
            uniform.weightedSqnrDb > best.weightedSqnrDb) {
            best = std::move(uniform);
            best.uniform = true;
        }
    }
    return best;
}

} // namespace quantscope
