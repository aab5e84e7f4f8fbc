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
    DType dtype = DType::F32; // the declared element type (F32 when the model does not say)
    bool isTensor = true;     // false for a sequence, map or optional, which the executor cannot run
};

// A feed-forward model: nodes in topological order (sorted at load), constant tensors (initializers), the
// inputs fed at run time and the outputs produced. Made from an ONNX file by loadOnnxGraph.
struct Graph {
    std::string path;
    int64_t opset = 0; // version of the default ("ai.onnx") domain
    std::vector<Node> nodes;
    std::vector<GraphValueInfo> inputs; // without the initializers some exporters also list
    std::vector<GraphValueInfo> outputs;
    std::map<std::string, Value> initializers;

    const Node* producerOf(const std::string& valueName) const;
};

} // namespace quantscope
