#include "quantscope/model/OnnxGraphLoader.h"

#include "io/OnnxModelFile.h"
#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"

#include <map>
#include <set>

namespace quantscope {
namespace {

Value toValue(const OnnxModelFile& file, const onnx::TensorProto& proto, const std::string& name) {
    const TensorInfo info = file.describe(proto, name);
    Value value;
    value.dtype = info.dtype;
    value.shape = info.shape;
    if (dtypeIsFloat(info.dtype))
        value.data = file.readFloats(proto, info);
    else
        value.ints = file.readInts(proto, info);
    return value;
}

DType declaredType(int32_t onnxType) {
    switch (onnxType) {
    case onnx::TensorProto::DOUBLE:
        return DType::F64;
    case onnx::TensorProto::FLOAT16:
        return DType::F16;
    case onnx::TensorProto::BFLOAT16:
        return DType::BF16;
    case onnx::TensorProto::INT64:
        return DType::I64;
    case onnx::TensorProto::INT32:
        return DType::I32;
    case onnx::TensorProto::INT16:
        return DType::I16;
    case onnx::TensorProto::INT8:
        return DType::I8;
    case onnx::TensorProto::UINT64:
        return DType::U64;
    case onnx::TensorProto::UINT32:
        return DType::U32;
    case onnx::TensorProto::UINT16:
        return DType::U16;
    case onnx::TensorProto::UINT8:
        return DType::U8;
    case onnx::TensorProto::BOOL:
        return DType::Bool;
    default:
        return DType::F32;
    }
}

GraphValueInfo toValueInfo(const onnx::ValueInfoProto& info) {
    GraphValueInfo result;
    result.name = info.name();
    result.isTensor =
        info.type().has_tensor_type() || info.type().value_case() == onnx::TypeProto::VALUE_NOT_SET;
    if (info.type().has_tensor_type()) {
        result.dtype = declaredType(info.type().tensor_type().elem_type());
        if (info.type().tensor_type().has_shape()) {
            result.hasShape = true;
            for (const auto& dim : info.type().tensor_type().shape().dim())
                result.shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
        }
    }
    return result;
}

Attribute toAttribute(const OnnxModelFile& file, const onnx::AttributeProto& proto,
                      const std::string& where) {
    Attribute a;
    switch (proto.type()) {
    case onnx::AttributeProto::INT:
        a.kind = Attribute::Kind::Int;
        a.i = proto.i();
        break;
    case onnx::AttributeProto::FLOAT:
        a.kind = Attribute::Kind::Float;
        a.f = proto.f();
        break;
    case onnx::AttributeProto::STRING:
        a.kind = Attribute::Kind::String;
        a.s = proto.s();
        break;
    case onnx::AttributeProto::INTS:
        a.kind = Attribute::Kind::Ints;
        a.ints.assign(proto.ints().begin(), proto.ints().end());
        break;
    case onnx::AttributeProto::FLOATS:
        a.kind = Attribute::Kind::Floats;
        a.floats.assign(proto.floats().begin(), proto.floats().end());
        break;
    case onnx::AttributeProto::STRINGS:
        a.kind = Attribute::Kind::Strings;
        a.strings.assign(proto.strings().begin(), proto.strings().end());
        break;
    case onnx::AttributeProto::TENSOR:
        a.kind = Attribute::Kind::Tensor;
        a.tensor = std::make_shared<Value>(toValue(file, proto.t(), where + "." + proto.name()));
        break;
    default:
        a.kind = Attribute::Kind::Other;
        break;
    }
    return a;
}

// Kahn's algorithm over the value names; the file order is kept where it is already valid.
std::vector<Node> topologicalOrder(const std::string& path, std::vector<Node> nodes,
                                   const std::set<std::string>& available) {
    std::map<std::string, std::size_t> producer;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        for (const auto& output : nodes[i].outputs) {
            if (!output.empty())
                producer.emplace(output, i);
        }
    }
    std::vector<std::size_t> pending(nodes.size(), 0);
    std::vector<std::vector<std::size_t>> readers(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        for (const auto& input : nodes[i].inputs) {
            if (input.empty() || available.count(input))
                continue;
            const auto found = producer.find(input);
            if (found == producer.end())
                throw Error(path, "node '" + nodes[i].label() + "' (" + nodes[i].opType + ") reads '" +
                                      input + "', which no node, input or initializer provides");
            ++pending[i];
            readers[found->second].push_back(i);
        }
    }
    std::vector<std::size_t> order;
    std::set<std::size_t> ready;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (pending[i] == 0)
            ready.insert(i);
    }
    while (!ready.empty()) {
        const std::size_t next = *ready.begin();
        ready.erase(ready.begin());
        order.push_back(next);
        for (std::size_t reader : readers[next]) {
            if (--pending[reader] == 0)
                ready.insert(reader);
        }
    }
    if (order.size() != nodes.size()) {
        std::string stuck;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (pending[i] > 0)
                stuck += (stuck.empty() ? "'" : ", '") + nodes[i].label() + "'";
        }
        throw Error(path, "the graph has a cycle: nodes " + stuck + " wait on each other's outputs");
    }
    std::vector<Node> sorted;
    sorted.reserve(nodes.size());
    for (std::size_t i : order)
        sorted.push_back(std::move(nodes[i]));
    return sorted;
}

} // namespace

Graph loadOnnxGraph(const std::string& path) {
    const OnnxModelFile file(path);
    const auto& proto = file.model().graph();
    Graph graph;
    graph.path = path;
    graph.opset = file.defaultOpset();

    for (const auto& initializer : proto.initializer()) {
        throwIfCancelled(); // a large model's construction stops when its job is cancelled
        graph.initializers[initializer.name()] = toValue(file, initializer, initializer.name());
    }

    std::set<std::string> available;
    for (const auto& entry : graph.initializers)
        available.insert(entry.first);
    for (const auto& input : proto.input()) {
        if (graph.initializers.count(input.name()))
            continue; // IR < 4 lists initializers among the inputs
        graph.inputs.push_back(toValueInfo(input));
        available.insert(input.name());
    }
    std::set<std::string> listedOutputs;
    for (const auto& output : proto.output()) {
        // The evaluator keys results by output name: a name listed twice would be fetched twice.
        if (!listedOutputs.insert(output.name()).second)
            throw Error(path, "graph output '" + output.name() + "' is listed twice");
        graph.outputs.push_back(toValueInfo(output));
    }

    std::vector<Node> nodes;
    std::set<std::string> produced = available; // graph inputs and initializers count as produced
    for (const auto& nodeProto : proto.node()) {
        Node node;
        node.name = nodeProto.name();
        node.opType = nodeProto.op_type();
        node.domain = nodeProto.domain();
        node.inputs.assign(nodeProto.input().begin(), nodeProto.input().end());
        node.outputs.assign(nodeProto.output().begin(), nodeProto.output().end());
        for (const auto& attribute : nodeProto.attribute())
            node.attributes[attribute.name()] = toAttribute(file, attribute, node.label());
        if (node.opType == "Constant") { // value_float & co. become one tensor attribute
            if (const auto* tensor = file.constantNodeTensor(nodeProto)) {
                Attribute value;
                value.kind = Attribute::Kind::Tensor;
                value.tensor = std::make_shared<Value>(toValue(file, *tensor, node.label()));
                node.attributes["value"] = value;
            }
        }
        for (const auto& output : node.outputs) {
            // ONNX graphs are single-assignment; a second producer would silently replace the value.
            if (!output.empty() && !produced.insert(output).second)
                throw Error(path, "value '" + output + "' is produced twice (again by node '" + node.label() +
                                      "' (" + node.opType + "))");
        }
        nodes.push_back(std::move(node));
    }
    graph.nodes = topologicalOrder(path, std::move(nodes), available);
    for (const auto& node : graph.nodes) {
        for (const auto& output : node.outputs)
            available.insert(output);
    }
    for (const auto& output : graph.outputs) {
        if (!available.count(output.name))
            throw Error(path, "graph output '" + output.name + "' is produced by no node");
    }
    return graph;
}

Value loadOnnxTensor(const std::string& path) {
    const OnnxModelFile file(path, OnnxModelFile::Content::Tensor);
    const auto& tensor = file.model().graph().initializer(0);
    return toValue(file, tensor, tensor.name().empty() ? std::string("tensor") : tensor.name());
}

} // namespace quantscope
