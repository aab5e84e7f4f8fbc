#pragma once

#include "quantscope/Progress.h"
#include "quantscope/tensor/FloatBuffer.h"
#include "quantscope/tensor/Tensor.h"
#include "quantscope/tensor/TensorInfo.h"
#include "quantscope/tensor/TensorView.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace quantscope {

// How a tensor that a file stores quantized (a GPTQ / AWQ / compressed-tensors packed weight) is
// stored: its format ("gptq-v1 int4 g128"), how it was read and why (which zero-point convention was
// assumed, from what), and its stored parameters (scales, zero points, group indices) as float32
// tensors named after the stored tensors.
struct StoredQuantization {
    std::string format;
    std::string note;
    std::vector<Tensor> parameters;

    // Integers dequantized as (q - zero_point) * scale (an ONNX QDQ weight): the stored integer type
    // ("int8", "uint8", "int16", "uint16"), the axis of per-axis or blocked parameters (-1 for one
    // scale per tensor) and the block size (0 when not blocked). `parameters` then holds the scale
    // and, when stored, the zero point (absent means 0).
    struct Affine {
        std::string dtype;
        int64_t axis = -1;
        int64_t blockSize = 0;
    };
    std::optional<Affine> affine;
};

// A file of named tensors opened for reading. Opening parses only the header: listing the
// tensors never reads tensor data. Every loader treats the file as hostile and throws
// quantscope::Error naming the file (and the tensor) on anything malformed.
class WeightFile {
public:
    virtual ~WeightFile() = default;

    virtual const std::string& path() const = 0;
    virtual std::string format() const = 0; // "safetensors", "npy", "npz", "onnx", "pytorch"
    virtual const std::map<std::string, std::string>& metadata() const = 0;
    virtual const std::vector<TensorInfo>& tensors() const = 0;

    // Reads one tensor and converts it to float32. Throws Error("<file>: <tensor>", ...) when the
    // name is unknown or its data is unreadable.
    virtual Tensor load(const std::string& name) const = 0;
    // The same values decoded into `buffer`, reused from tensor to tensor (whole-file analysis):
    // valid until the buffer's next use. The default keeps load()'s Tensor in the buffer; readers
    // that decode chunk by chunk write straight into it, with no zeroing and no fresh pages.
    virtual TensorView loadInto(const std::string& name, FloatBuffer& buffer) const;
    // Whether decodeRange works: the reader can convert any run of a tensor's values (row-major)
    // without reading the rest, so whole-file analysis can go through a large tensor slice by
    // slice while the slice is in the cache.
    virtual bool decodesRanges() const { return false; }
    // Values [first, first + count) of the tensor, as load() gives them, into `destination`.
    // Throws Error naming the file and tensor for an unknown name or a range past its end (and,
    // when !decodesRanges(), always).
    virtual void decodeRange(const std::string& name, uint64_t first, uint64_t count,
                             float* destination) const;

    // For a tensor the file stores quantized and load() dequantizes: how it is stored and its stored
    // parameters (read from the file on each call). nullopt for a tensor stored plainly.
    virtual std::optional<StoredQuantization> storedQuantization(const std::string& name) const;

    const TensorInfo* find(const std::string& name) const;
};

// Opens a file by its content and extension (.safetensors, .npy, .npz, .onnx, PyTorch .pt/.pth/.bin).
std::unique_ptr<WeightFile> openWeightFile(const std::string& path);

} // namespace quantscope
