#include "ModelOptions.h"

#include "quantscope/samples/ImageFolderSamples.h"

#include "QuantOptions.h"

#include "quantscope/Error.h"
#include "quantscope/model/OnnxGraphLoader.h"

namespace quantscope::cli {

std::vector<OptionSpec> modelOptionSpecs() {
    return {
        {"--samples", true, false,
         "samples: .npy / .npz (N x input shape; an .npz keyed by the input names for a model with several "
         "inputs), .csv (one sample per row), or a folder of PNG/JPEG images with quantscope-images.json"},
        {"--label-column", true, false,
         "CSV column (name or index) holding the labels; dropped from the samples"},
        {"--batch-size", true, false,
         "samples per run, 1..65536 (default 256; a model with a fixed batch always runs its own)"},
        {"--threads", true, false, "OpenBLAS threads for the fp32 layers, 1..256 (default 1)"},
        {"--weight-dtype", true, false,
         "weight format (default int8; int4 with --weight-granularity group; llama.cpp's q8_0, q4_0, q4_1, "
         "q5_0, q5_1, q4_k, q6_k and mxfp4 / nvfp4 bring their own blocks)"},
        {"--weight-scheme", true, false, "affine | symmetric (default symmetric)"},
        {"--weight-granularity", true, false, "tensor | channel | group (default channel: output channels)"},
        {"--weight-group-size", true, false, "weights per group along the inputs (default 128)"},
    };
}

ModelQuantConfig modelQuantConfigFrom(const CommandLine& commandLine) {
    ModelQuantConfig config;
    config.activation = quantSpecFrom(commandLine);
    QuantSpec& weight = config.weight;
    if (const auto dtype = commandLine.value("--weight-dtype")) {
        try {
            weight.format = QuantFormat::parse(*dtype);
        } catch (const Error& error) {
            throw Error("--weight-dtype", error.detail());
        }
    }
    if (const auto scheme = commandLine.value("--weight-scheme"))
        weight.scheme = parseScheme(*scheme, "--weight-scheme");
    if (const auto granularity = commandLine.value("--weight-granularity"))
        weight.granularity = parseGranularity(*granularity, "--weight-granularity");
    weight.groupSize = commandLine.integer("--weight-group-size", 128, 1, int64_t{1} << 40);
    // A block-scaled format (mxfp4, nvfp4, llama.cpp's q4_k...) defines its own groups.
    if (weight.format.isBlockScaled()) {
        if (!commandLine.has("--weight-granularity"))
            weight.granularity = Granularity::Group;
        if (!commandLine.has("--weight-group-size"))
            weight.groupSize = weight.format.blockSize();
    }
    weight.validate();
    config.params = paramsDocumentFrom(commandLine);
    Executor::setBlasThreads(static_cast<int>(commandLine.integer("--threads", 1, 1, 256)));
    return config;
}

std::unique_ptr<Executor> loadModel(const std::string& path) {
    return std::make_unique<Executor>(loadOnnxGraph(path));
}

SampleSet samplesFrom(const CommandLine& commandLine, const std::vector<GraphValueInfo>& inputs,
                      const std::string& option) {
    const auto path = commandLine.value(option);
    if (!path)
        throw UsageError(option + " FILE is required");
    if (ImageFolderSamples::isFolder(*path))
        return ImageFolderSamples::load(*path).samples();
    std::string exclude;
    if (const auto labels = commandLine.value("--labels"); labels && *labels == *path)
        exclude = commandLine.value("--label-column").value_or("");
    return SampleSet::loadForInputs(*path, inputs, exclude);
}

int64_t batchSizeFrom(const CommandLine& commandLine) {
    return commandLine.integer("--batch-size", 256, 1, 65536);
}

} // namespace quantscope::cli
