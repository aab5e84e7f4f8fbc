#pragma once

#include "quantscope/model/Graph.h"
#include "quantscope/model/SampleSet.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>

namespace quantscope {

// How samples go through a model, shared by evaluation, calibration and activation capture. A
// graph input that declares a fixed leading dimension N (a model exported without dynamic axes)
// is fed exactly N samples per run: the last run is padded by repeating its last real sample
// (SampleSet::feed) and the padded rows are dropped from every result: outputs, accuracy, SQNR,
// observers and captured activations see only the real rows. A symbolic (or undeclared) leading
// dimension takes any size, and runs hold up to the requested batch size.
class BatchPlan {
public:
    // Throws Error naming the inputs when they declare different fixed batches, and the option
    // when `requestedBatch` < 1.
    BatchPlan(const Graph& graph, int64_t requestedBatch);

    std::optional<int64_t> fixedBatch() const { return m_fixed; }
    // Samples per full run: the fixed batch, else the requested one.
    int64_t batch() const { return m_fixed.value_or(m_requested); }
    // Rows fed for a run of n real samples: the fixed batch, else n.
    int64_t rowsFor(int64_t n) const { return m_fixed.value_or(n); }

    // The graph inputs for samples [first, first + n), padded to rowsFor(n).
    std::map<std::string, Value> inputs(const SampleSet& samples, int64_t first, int64_t n) const;

    // Whether `value` (named `name`) runs over the batch: its leading dimension is the run's row
    // count and it is not a Constant node's output.
    bool followsBatch(const std::string& name, const Value& value, int64_t rows) const;
    // The values of the real rows: the first `realRows` of `rows` when the value follows the
    // batch, else all of them.
    std::span<const float> realValues(const std::string& name, const Value& value, int64_t rows,
                                      int64_t realRows) const;
    // Drops the padded rows of a value that follows the batch.
    void dropPadding(const std::string& name, Value& value, int64_t rows, int64_t realRows) const;

private:
    const Graph& m_graph;
    int64_t m_requested = 1;
    std::optional<int64_t> m_fixed;
    std::set<std::string> m_constants; // outputs of Constant nodes: never batch values
};

} // namespace quantscope
