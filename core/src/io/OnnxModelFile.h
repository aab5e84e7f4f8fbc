#pragma once

// Internal to core: the protobuf side of ONNX loading, shared by OnnxReader (weights) and
// loadOnnxGraph (the executable graph). Nothing outside core/src sees protobuf types.

#include "quantscope/tensor/TensorInfo.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace quantscope {

// A tensor of the model with the name it is listed under.
struct OnnxNamedTensor {
    std::string name;
    const onnx::TensorProto* proto = nullptr;
    TensorInfo info;
};

// A parsed ONNX model file. Parsing reads the whole protobuf (the format has no index), but tensor
// data are decoded only on request; external data files are checked (location and byte range)
// when a tensor is described and read only when it is loaded.
// ONNX 1.16's INT4 / UINT4 data types (opset 21), newer than the onnx.proto the build uses.
inline constexpr int32_t kOnnxUint4 = 21;
inline constexpr int32_t kOnnxInt4 = 22;

class OnnxModelFile {
public:
    // What the file holds: a ModelProto, or one TensorProto (ONNX's test data), kept as the only
    // initializer of an otherwise empty model.
    enum class Content { Model, Tensor };

    explicit OnnxModelFile(const std::string& path, Content content = Content::Model);

    const std::string& path() const { return m_path; }
    const onnx::ModelProto& model() const { return m_model; }
    int64_t defaultOpset() const;

    // The initializers of the main graph and every subgraph, then the tensors of Constant nodes
    // (named by their output). A later duplicate name gets the suffix "#2", "#3"...
    // Tensors of dtypes Quantscope cannot convert (strings, complex, fp8) are reported through
    // `skipped` as "name (DTYPE)".
    std::vector<OnnxNamedTensor> collectTensors(std::vector<std::string>& skipped) const;

    // dtype, shape, element and byte counts, after checking that the data is all there.
    TensorInfo describe(const onnx::TensorProto& tensor, const std::string& name) const;
    std::vector<float> readFloats(const onnx::TensorProto& tensor, const TensorInfo& info) const;
    // Exact values of an integer (or bool) tensor.
    std::vector<int64_t> readInts(const onnx::TensorProto& tensor, const TensorInfo& info) const;

    // The tensor a Constant node holds (value, value_float(s), value_int(s)); false for a
    // sparse_value or string constant. The returned tensor lives as long as this object.
    const onnx::TensorProto* constantNodeTensor(const onnx::NodeProto& node) const;

private:
    std::string subject(const std::string& name) const { return m_path + ": " + name; }
    std::vector<uint8_t> externalBytes(const onnx::TensorProto& tensor, const TensorInfo& info) const;
    // The tensor's little-endian packed bytes: external data (read into `externalData`) or
    // raw_data; nullptr when the values are in the typed fields (float_data, int64_data...).
    const uint8_t* packedBytes(const onnx::TensorProto& tensor, const TensorInfo& info,
                               std::vector<uint8_t>& externalData) const;
    void checkExternal(const onnx::TensorProto& tensor, const TensorInfo& info, uint64_t& offset) const;

    std::string m_path;
    std::string m_directory;
    onnx::ModelProto m_model;
    mutable std::deque<onnx::TensorProto> m_constants; // tensors made from value_float & co.
};

} // namespace quantscope
