#pragma once

#include "quantscope/io/WeightFile.h"

#include <memory>
#include <string>

namespace quantscope {

// The weights of an ONNX model as a WeightFile: the initializers of the main graph and of every
// subgraph, and the tensors held by Constant nodes (named by the node's output). float16, int8 and
// the other numeric dtypes are listed with their own dtype and converted to float32 by load().
// Tensors stored in external data files are read from beside the model, after checking that the
// location stays in the model's folder and the byte range lies inside the file.
// An integer initializer that a DequantizeLinear node dequantizes with initializer parameters (a
// QDQ model from ONNX Runtime's quantizer or `export-qdq`) is listed as float32 and loaded
// dequantized with its stored scale and zero point (per tensor, per axis or blocked), which
// storedQuantization() returns.
class OnnxReader : public WeightFile {
public:
    explicit OnnxReader(const std::string& path);
    ~OnnxReader() override;

    const std::string& path() const override { return m_path; }
    std::string format() const override { return "onnx"; }
    const std::map<std::string, std::string>& metadata() const override { return m_metadata; }
    const std::vector<TensorInfo>& tensors() const override { return m_tensors; }
    Tensor load(const std::string& name) const override;
    std::optional<StoredQuantization> storedQuantization(const std::string& name) const override;

    // The first node of the main graph (in file order) that reads a tensor, and at which input:
    // exporters name many initializers after nothing (`onnx::Conv_193`), the node that uses one
    // says what it is (`/layer1/layer1.0/conv1/Conv`, input 1).
    struct TensorUse {
        std::string node; // the node's name, or its first output when it has none
        std::string opType;
        int input = 0;
    };
    const std::map<std::string, TensorUse>& uses() const { return m_uses; }

private:
    void findQdqWeights();

    std::string m_path;
    struct Parsed; // the protobuf model and where each listed tensor lives in it
    std::unique_ptr<Parsed> m_parsed;
    std::map<std::string, std::string> m_metadata;
    std::vector<TensorInfo> m_tensors;
    std::map<std::string, std::size_t> m_index; // tensor name -> position in m_tensors
    std::map<std::string, TensorUse> m_uses;
};

// Opens an ONNX file for openWeightFile (the factory dispatches .onnx here).
std::unique_ptr<WeightFile> openOnnxFile(const std::string& path);

} // namespace quantscope
