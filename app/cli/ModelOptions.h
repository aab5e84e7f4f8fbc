#pragma once

#include "CommandLine.h"

#include "quantscope/model/Executor.h"
#include "quantscope/model/ModelQuantConfig.h"
#include "quantscope/model/SampleSet.h"

#include <memory>
#include <string>
#include <vector>

namespace quantscope::cli {

// The options calibrate and eval share beyond Q: samples, batch size, threads and the weight
// settings (--weight-dtype, --weight-scheme, --weight-granularity, --weight-group-size).
std::vector<OptionSpec> modelOptionSpecs();

// Q sets the activations; the weight options set the weights (default int8 symmetric per-channel).
ModelQuantConfig modelQuantConfigFrom(const CommandLine& commandLine);

// The ONNX model, checked for unsupported ops before any sample runs.
std::unique_ptr<Executor> loadModel(const std::string& path);

// --samples (required) for a model with these inputs (an .npz keyed by the input names when it
// has several), with --label-column removed when the labels come from the same CSV.
SampleSet samplesFrom(const CommandLine& commandLine, const std::vector<GraphValueInfo>& inputs,
                      const std::string& option = "--samples");

int64_t batchSizeFrom(const CommandLine& commandLine);

} // namespace quantscope::cli
