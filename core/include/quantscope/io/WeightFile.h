#pragma once

#include "quantscope/Progress.h"
#include "quantscope/tensor/Tensor.h"
#include "quantscope/tensor/TensorInfo.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace quantscope {

// A file of named tensors opened for reading. Opening parses only the header: listing the
// tensors never reads tensor data. Every loader treats the file as hostile and throws
// quantscope::Error naming the file (and the tensor) on anything malformed.
class WeightFile {
public:
    virtual ~WeightFile() = default;

    virtual const std::string& path() const = 0;
    virtual std::string format() const = 0; // "safetensors", "npy", "npz", "onnx"
    virtual const std::map<std::string, std::string>& metadata() const = 0;
    virtual const std::vector<TensorInfo>& tensors() const = 0;

    // Reads one tensor and converts it to float32. Throws Error("<file>: <tensor>", ...) when the
    // name is unknown or its data is unreadable.
    virtual Tensor load(const std::string& name) const = 0;

    const TensorInfo* find(const std::string& name) const;
};

// Opens a file by its content and extension (.safetensors, .npy, .npz, .onnx).
std::unique_ptr<WeightFile> openWeightFile(const std::string& path);

} // namespace quantscope
