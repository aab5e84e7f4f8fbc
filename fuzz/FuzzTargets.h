#pragma once

// What each fuzz target does with one input, as a file: the libFuzzer targets (fuzz_*.cpp) and the
// regression test that replays the committed seeds and findings (tests/core/tst_fuzz_inputs.cpp)
// run the same code. Each function throws quantscope::Error for a bad input and nothing else.

#include "quantscope/Error.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/interop/ParamFileFormat.h"
#include "quantscope/io/GgufReader.h"
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/NpzReader.h"
#include "quantscope/io/ReadOnlyFile.h"
#include "quantscope/io/SafetensorsReader.h"
#include "quantscope/io/TorchReader.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"
#include "quantscope/samples/ImageFolderSamples.h"

#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace quantscope::fuzz {

// Lists the tensors and loads each (what `info` then `analyze` do).
inline void loadAll(const WeightFile& file) {
    for (const auto& tensor : file.tensors()) {
        (void)file.load(tensor.name);
        (void)file.storedQuantization(tensor.name);
    }
}

inline void safetensors(const std::string& path) {
    loadAll(SafetensorsReader(path));
}
inline void npy(const std::string& path) {
    loadAll(NpyReader(path));
}
inline void npz(const std::string& path) {
    loadAll(NpzReader(path));
}
inline void gguf(const std::string& path) {
    loadAll(GgufReader(path));
}
inline void torch(const std::string& path) {
    loadAll(TorchReader(path));
}
// Packed checkpoints (GPTQ, AWQ, compressed-tensors, fp8, nvfp4 in a .safetensors): recognised
// from the tensors' names and dtypes by openWeightFile, every packed weight dequantized.
inline void packed(const std::string& path) {
    loadAll(*openWeightFile(path));
}

// quantscope-qparams documents, as --params and File > Import read them.
inline void qparams(const std::string& path) {
    (void)QParamsDocument::readFile(path);
}

// The converters' inputs: every format reads the same text, then what it read is checked as
// `convert` checks it.
inline void paramFiles(const std::string& path) {
    const std::string text = ReadOnlyFile::readAll(path, 1 << 20);
    for (const auto& format : paramFileFormats()) {
        try {
            (void)format->recognizes(text);
            std::vector<ConversionNote> notes;
            checkImportedDocument(format->read(text, path, notes), path);
        } catch (const Error&) {
            // the next format must still cope with the same input
        }
    }
}

// The image folder's sidecar (quantscope-images.json), read before the images of its folder.
inline void imageSidecar(const std::string& path) {
    (void)ImageFolderSamples::load(std::filesystem::path(path).parent_path().string());
}

// Two generated samples for every graph input: free dimensions become 1; an input over 64 Ki
// elements per sample is not run (the graph and its weights were still checked).
inline std::optional<SampleSet> samplesFor(const Graph& graph, const std::string& path) {
    std::vector<SampleSet::Array> arrays;
    for (const auto& input : graph.inputs) {
        if (!input.isTensor || !input.hasShape || input.shape.empty())
            return std::nullopt;
        SampleSet::Array array;
        array.name = input.name;
        int64_t elements = 1;
        for (std::size_t d = 1; d < input.shape.size(); ++d) {
            const int64_t extent = input.shape[d] > 0 ? input.shape[d] : 1;
            if (extent > (int64_t{1} << 16) || (elements *= extent) > (int64_t{1} << 16))
                return std::nullopt;
            array.sampleShape.push_back(extent);
        }
        array.integer = input.dtype != DType::F32 && input.dtype != DType::F16 &&
                        input.dtype != DType::BF16 && input.dtype != DType::F64;
        for (int64_t i = 0; i < 2 * elements; ++i)
            array.values.push_back(array.integer ? static_cast<float>(i % 3)
                                                 : std::sin(0.37f * static_cast<float>(i)));
        arrays.push_back(std::move(array));
    }
    if (arrays.empty())
        return std::nullopt;
    if (arrays.size() == 1)
        arrays.front().name.clear();
    return SampleSet(path, std::move(arrays));
}

// ONNX models: the protobuf, the graph checks, the weights' quantization, then one fp32 and one
// static run (as `quantscope-cli eval --mode static` does).
inline void onnxModel(const std::string& path) {
    Graph graph = loadOnnxGraph(path);
    const auto samples = samplesFor(graph, path);
    const Executor executor(std::move(graph));
    QuantizedModel model(executor, ModelQuantConfig{});
    if (!samples)
        return;
    model.calibrate(*samples, 1);
    EvalOptions options;
    options.batchSize = 1;
    options.latencySamples = 1;
    options.minSeconds = 0.0;
    ModelEvaluator evaluator(model, *samples, std::nullopt, options);
    (void)evaluator.evaluate(QuantMode::Fp32);
    (void)evaluator.evaluate(QuantMode::Static);
}

struct Target {
    const char* name;     // fuzz_<name> and its corpus folder
    const char* fileName; // what the input is saved as (loaders look at extensions and names)
    void (*run)(const std::string& path);
};

// One per fuzz target (a target's binary uses only its own, so the loaders' targets link only io).
inline constexpr Target kSafetensors{"fuzz_safetensors", "input.safetensors", safetensors};
inline constexpr Target kNpy{"fuzz_npy", "input.npy", npy};
inline constexpr Target kNpz{"fuzz_npz", "input.npz", npz};
inline constexpr Target kGguf{"fuzz_gguf", "input.gguf", gguf};
inline constexpr Target kTorch{"fuzz_torch", "input.pt", torch};
inline constexpr Target kPacked{"fuzz_packed", "model.safetensors", packed};
inline constexpr Target kQParams{"fuzz_qparams", "input.json", qparams};
inline constexpr Target kParamFiles{"fuzz_paramfiles", "input.txt", paramFiles};
inline constexpr Target kImageSidecar{"fuzz_image_sidecar", "quantscope-images.json", imageSidecar};
inline constexpr Target kOnnxModel{"fuzz_onnx_model", "model.onnx", onnxModel};

inline const std::vector<Target>& targets() {
    static const std::vector<Target> all = {kSafetensors, kNpy,     kNpz,        kGguf,         kTorch,
                                            kPacked,      kQParams, kParamFiles, kImageSidecar, kOnnxModel};
    return all;
}

inline const Target& target(const std::string& name) {
    for (const Target& t : targets())
        if (name == t.name)
            return t;
    throw Error(name, "no such fuzz target");
}

} // namespace quantscope::fuzz
