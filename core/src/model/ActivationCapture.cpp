#include "quantscope/model/ActivationCapture.h"

#include "quantscope/Error.h"
#include "quantscope/model/BatchPlan.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace quantscope {
namespace {

struct Recording {
    std::vector<int64_t> shape; // of the first batch
    std::vector<float> values;
    bool batched = true; // the leading dimension followed the batch size every time
};

} // namespace

CapturedActivations captureActivations(const Executor& executor, const SampleSet& samples,
                                       const ActivationCaptureOptions& options,
                                       const ProgressCallback& progress) {
    const Graph& graph = executor.graph();
    const BatchPlan plan(graph, options.batchSize);
    std::map<std::string, Recording> recordings;
    std::vector<std::string> order; // graph order: the input, then node outputs
    uint64_t bytes = 0;
    int64_t runRows = 0, realRows = 0;
    bool firstBatch = true;
    Executor::Hooks hooks;
    hooks.onValue = [&](const std::string& name, Value& value) {
        if (value.isInteger())
            return;
        auto [it, added] = recordings.try_emplace(name);
        Recording& recording = it->second;
        if (added) {
            if (!firstBatch)
                return; // a value that appears only in later batches has no complete record
            order.push_back(name);
            recording.shape = value.shape;
        }
        const bool follows = plan.followsBatch(name, value, runRows);
        recording.batched = recording.batched && follows;
        // A value that does not follow the batch (a constant computed in the graph) is kept once.
        if (!recording.batched && !firstBatch)
            return;
        // Only the real rows: a fixed-batch model's padded rows are never captured.
        const auto real = plan.realValues(name, value, runRows, realRows);
        recording.values.insert(recording.values.end(), real.begin(), real.end());
        bytes += real.size() * sizeof(float);
    };
    reportProgress(progress, Stage::Opened, 0.0);
    int64_t captured = 0;
    while (captured < samples.count() && (firstBatch || bytes < options.maxBytes)) {
        realRows = std::min(plan.batch(), samples.count() - captured);
        runRows = plan.rowsFor(realRows);
        executor.run(plan.inputs(samples, captured, realRows), hooks);
        captured += realRows;
        firstBatch = false;
        reportProgress(progress, Stage::Statistics,
                       static_cast<double>(captured) / static_cast<double>(samples.count()));
    }
    std::map<std::string, std::string> metadata{{"model", graph.path},
                                                {"samples", samples.path()},
                                                {"samples_captured", std::to_string(captured)},
                                                {"samples_total", std::to_string(samples.count())}};
    auto file = std::make_shared<MemoryWeightFile>(samples.path(), "activations", std::move(metadata));
    for (const auto& name : order) {
        Recording& recording = recordings[name];
        std::vector<int64_t> shape = recording.shape;
        if (recording.batched) {
            shape[0] = captured;
        } else {
            // Kept from the first batch only (see above).
            uint64_t elements = 0;
            checkedElementCount(shape, elements);
            recording.values.resize(elements);
        }
        file->add(Tensor(name, std::move(shape), std::move(recording.values)));
    }
    reportProgress(progress, Stage::Results, 1.0);
    return {file, captured, samples.count()};
}

} // namespace quantscope
