// ONNX models: the protobuf, the graph checks, the weights' quantization, and one fp32 and one
// static run on a small generated batch (as `quantscope-cli eval --mode static` does).
#include "FuzzFile.h"

#include "quantscope/model/Executor.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <cmath>
#include <optional>
#include <vector>

namespace {

// Two samples for every graph input: free dimensions become 1, and an input larger than 64 Ki
// elements is not run (the graph and the weights were still checked).
std::optional<quantscope::SampleSet> samplesFor(const quantscope::Graph& graph, const std::string& path) {
    std::vector<quantscope::SampleSet::Array> arrays;
    for (const auto& input : graph.inputs) {
        if (!input.isTensor || !input.hasShape || input.shape.empty())
            return std::nullopt;
        quantscope::SampleSet::Array array;
        array.name = input.name;
        int64_t elements = 1;
        for (std::size_t d = 1; d < input.shape.size(); ++d) {
            const int64_t extent = input.shape[d] > 0 ? input.shape[d] : 1;
            if (extent > (int64_t{1} << 16) || (elements *= extent) > (int64_t{1} << 16))
                return std::nullopt;
            array.sampleShape.push_back(extent);
        }
        array.integer = input.dtype != quantscope::DType::F32 && input.dtype != quantscope::DType::F16 &&
                        input.dtype != quantscope::DType::BF16 && input.dtype != quantscope::DType::F64;
        for (int64_t i = 0; i < 2 * elements; ++i)
            array.values.push_back(array.integer ? static_cast<float>(i % 3) : std::sin(0.37f * i));
        arrays.push_back(std::move(array));
    }
    if (arrays.empty())
        return std::nullopt;
    if (arrays.size() == 1)
        arrays.front().name.clear();
    return quantscope::SampleSet(path, std::move(arrays));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file("model.onnx");
    try {
        quantscope::Graph graph = quantscope::loadOnnxGraph(file.write(data, size));
        const auto samples = samplesFor(graph, file.path());
        const quantscope::Executor executor(std::move(graph));
        quantscope::QuantizedModel model(executor, quantscope::ModelQuantConfig{});
        if (!samples)
            return 0;
        model.calibrate(*samples, 1);
        quantscope::EvalOptions options;
        options.batchSize = 1;
        options.latencySamples = 1;
        options.minSeconds = 0.0;
        quantscope::ModelEvaluator evaluator(model, *samples, std::nullopt, options);
        (void)evaluator.evaluate(quantscope::QuantMode::Fp32);
        (void)evaluator.evaluate(quantscope::QuantMode::Static);
    } catch (const quantscope::Error&) {
    }
    return 0;
}
