#include "quantscope/model/Graph.h"

namespace quantscope {

const Node* Graph::producerOf(const std::string& valueName) const {
    for (const auto& node : nodes) {
        for (const auto& output : node.outputs) {
            if (output == valueName)
                return &node;
        }
    }
    return nullptr;
}

} // namespace quantscope
