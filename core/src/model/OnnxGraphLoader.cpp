#include "quantscope/model/OnnxGraphLoader.h"

#include "io/OnnxModelFile.h"
#include "quantscope/Error.h"

#include <set>

namespace quantscope {
namespace {

Value toValue(const OnnxModelFile& file, const onnx::TensorProto& proto, const std::string& name)
{
    const TensorInfo info = file.describe(proto, name);
    Value value;
    value.shape = info.shape;
    value.data = file.readFloats(proto, info);
    if (!dtypeIsFloat(info.dtype)) {
        value.isInteger = true;
        value.ints = file.readInts(proto, info);
    }
    return value;
}

GraphValueInfo toValueInfo(const onnx::ValueInfoProto& info)
{
    GraphValueInfo result;
    result.name = info.name();
    if (info.type().has_tensor_type())
        result.elementType = info.type().tensor_type().elem_type();
    if (info.type().has_tensor_type() && info.type().tensor_type().has_shape()) {
        result.hasShape = true;
        for (const auto& dim : info.type().tensor_type().shape().dim())
            result.shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
    }
    return result;
}

Attribute toAttribute(const OnnxModelFile& file, const onnx::AttributeProto& proto, const std::string& where)
{
    Attribute a;
    switch (proto.type()) {
    case onnx::AttributeProto::INT: a.kind = Attribute::Kind::Int; a.i = proto.i(); break;
    case onnx::AttributeProto::FLOAT: a.kind = Attribute::Kind::Float; a.f = proto.f(); break;
    case onnx::AttributeProto::STRING: a.kind = Attribute::Kind::String; a.s = proto.s(); break;
    case onnx::AttributeProto::INTS:
        a.kind = Attribute::Kind::Ints;
        a.ints.assign(proto.ints().begin(), proto.ints().end());
        break;
    case onnx::AttributeProto::FLOATS:
        a.kind = Attribute::Kind::Floats;
        a.floats.assign(proto.floats().begin(), proto.floats().end());
        break;
    case onnx::AttributeProto::TENSOR:
        a.kind = Attribute::Kind::Tensor;
        a.tensor = std::make_shared<Value>(toValue(file, proto.t(), where + "." + proto.name()));
        break;
    default: a.kind = Attribute::Kind::Other; break;
    }
    return a;
}

} // namespace

Graph loadOnnxGraph(const std::string& path)
{
    const OnnxModelFile file(path);
    const auto& proto = file.model().graph();
    Graph graph;
    graph.path = path;
    graph.opset = file.defaultOpset();
    if (graph.opset < 11)
        throw Error(path, "opset " + std::to_string(graph.opset) + " of the default domain is not supported (11 or later)");

    for (const auto& initializer : proto.initializer())
        graph.initializers[initializer.name()] = toValue(file, initializer, initializer.name());

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
        for (const auto& input : node.inputs) {
            if (!input.empty() && !available.count(input))
                throw Error(path, "node '" + node.label() + "' (" + node.opType + ") reads '" + input +
                                      "', which no earlier node, input or initializer provides");
        }
        for (const auto& output : node.outputs) {
            // ONNX graphs are single-assignment; a second producer would silently replace the value.
            if (!output.empty() && !available.insert(output).second)
                throw Error(path, "value '" + output + "' is produced twice (again by node '" + node.label() +
                                      "' (" + node.opType + "))");
        }
        graph.nodes.push_back(std::move(node));
    }
    for (const auto& output : graph.outputs) {
        if (!available.count(output.name))
            throw Error(path, "graph output '" + output.name + "' is produced by no node");
    }
    return graph;
}

} // namespace quantscope
