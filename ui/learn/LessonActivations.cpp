#include "learn/LessonActivations.h"

#include "quantscope/samples/SampleFiles.h"

#include "quantscope/Error.h"
#include "quantscope/io/NpyWriter.h"
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
    if (graph.inputs.size() != 1)
        throw Error(modelPath, "the lesson needs a model with one input");
    const SampleSet samples = loadSampleFile(samplesPath);
    std::vector<float> values;
    std::vector<int64_t> shape;
    const int64_t batch = 256;
    for (int64_t first = 0; first < samples.count(); first += batch) {
        const int64_t n = std::min(batch, samples.count() - first);
        Executor::Hooks hooks;
        hooks.onValue = [&](const std::string& name, Value& value) {
            if (name != relu)
                return;
            values.insert(values.end(), value.data.begin(), value.data.end());
            if (shape.empty())
                shape = value.shape;
            else
                shape[0] += value.shape.empty() ? 0 : value.shape[0];
        };
        executor.run({{graph.inputs[0].name, samples.batch(first, n, graph.inputs[0])}}, hooks);
        reportProgress(progress, Stage::Statistics,
                       static_cast<double>(first + n) / static_cast<double>(samples.count()));
    }
    NpyWriter::writeFloat32(outputPath, shape, values);
    return outputPath;
}

} // namespace quantscope::ui
