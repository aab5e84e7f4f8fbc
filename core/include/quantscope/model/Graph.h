#pragma once

#include "quantscope/model/Node.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace quantscope {

// A graph input or output as the model declares it; -1 marks a symbolic dimension (batch).
struct GraphValueInfo {
    std::string name;
    std::vector<int64_t> shape;
    bool hasShape = false;
    int32_t elementType = 0; // ONNX TensorProto.DataType: 1 float, 7 int64...; 0 when not declared
};

// A feed-forward model: nodes in topological order, constant tensors (initializers), the
// inputs fed at run time and the outputs produced. Made from an ONNX file by loadOnnxGraph.
struct Graph {
    std::string path;
    int64_t opset = 0; // version of the default ("ai.onnx") domain
    std::vector<Node> nodes;
    std::vector<GraphValueInfo> inputs;  // without the initializers some exporters also list
    std::vector<GraphValueInfo> outputs;
    std::map<std::string, Value> initializers;

    const Node* producerOf(const std::string& valueName) const;
};

} // namespace quantscope
