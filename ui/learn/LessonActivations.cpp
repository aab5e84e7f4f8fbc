#include "learn/LessonActivations.h"

#include "quantscope/samples/SampleFiles.h"

#include "quantscope/Error.h"
#include "quantscope/io/NpyWriter.h"
#include "quantscope/model/BatchPlan.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/SampleSet.h"

#include <algorithm>

namespace quantscope::ui {

std::string LessonActivations::writeFirstReluOutput(const std::string& modelPath,
                                                    const std::string& samplesPath,
                                                    const std::string& outputPath,
                                                    const ProgressCallback& progress) {
    const Executor executor(loadOnnxGraph(modelPath));
    const Graph& graph = executor.graph();
    std::string relu;
    for (const Node& node : graph.nodes)
        if (node.opType == "Relu" && !node.outputs.empty()) {
            relu = node.outputs.front();
            break;
        }
    if (relu.empty())
        throw Error(modelPath, "has no Relu node whose outputs could be shown");
    const SampleSet samples = loadSampleFile(samplesPath);
    // Runs as evaluation does: a model with a fixed batch N gets N rows per run, the padding dropped.
    const BatchPlan plan(graph, 256);
    std::vector<float> values;
    std::vector<int64_t> shape;
    for (int64_t first = 0; first < samples.count(); first += plan.batch()) {
        const int64_t n = std::min(plan.batch(), samples.count() - first);
        const int64_t rows = plan.rowsFor(n);
        Executor::Hooks hooks;
        hooks.onValue = [&](const std::string& name, Value& value) {
            if (name != relu)
                return;
            const auto real = plan.realValues(name, value, rows, n);
            values.insert(values.end(), real.begin(), real.end());
            const int64_t realRows =
                plan.followsBatch(name, value, rows) ? n : (value.shape.empty() ? 0 : value.shape.front());
            if (shape.empty()) {
                shape = value.shape;
                if (!shape.empty())
                    shape[0] = realRows;
            } else if (!shape.empty()) {
                shape[0] += realRows;
            }
        };
        executor.run(plan.inputs(samples, first, n), hooks);
        reportProgress(progress, Stage::Statistics,
                       static_cast<double>(first + n) / static_cast<double>(samples.count()));
    }
    NpyWriter::writeFloat32(outputPath, shape, values);
    return outputPath;
}

} // namespace quantscope::ui
