#include "quantscope/interop/QdqExporter.h"

#include "io/OnnxModelFile.h"
#include "quantscope/Error.h"
#include "quantscope/quant/BlockLayout.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <map>
#include <set>

namespace quantscope {
namespace {

constexpr int64_t kPerAxisOpset = 13; // DequantizeLinear's axis attribute

int32_t onnxIntegerType(const QuantFormat& format) {
    return format.isSigned ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
}

onnx::TensorProto scalarOrVector(const std::string& name, const std::vector<float>& values, bool vector) {
    onnx::TensorProto tensor;
    tensor.set_name(name);
    tensor.set_data_type(onnx::TensorProto::FLOAT);
    if (vector)
        tensor.add_dims(static_cast<int64_t>(values.size()));
    for (float v : values)
        tensor.add_float_data(v);
    return tensor;
}

onnx::TensorProto zeroPoints(const std::string& name, const QuantFormat& format,
                             const std::vector<int32_t>& values, bool vector) {
    onnx::TensorProto tensor;
    tensor.set_name(name);
    tensor.set_data_type(onnxIntegerType(format));
    if (vector)
        tensor.add_dims(static_cast<int64_t>(values.size()));
    for (int32_t v : values)
        tensor.add_int32_data(v); // int8 / uint8 values are stored in int32_data
    return tensor;
}

onnx::NodeProto qdqNode(const std::string& opType, const std::string& input, const std::string& scale,
                        const std::string& zeroPoint, const std::string& output, int64_t axis, bool perAxis) {
    onnx::NodeProto node;
    node.set_op_type(opType);
    node.set_name(opType + "_" + output);
    node.add_input(input);
    node.add_input(scale);
    node.add_input(zeroPoint);
    node.add_output(output);
    if (perAxis) {
        auto* attribute = node.add_attribute();
        attribute->set_name("axis");
        attribute->set_type(onnx::AttributeProto::INT);
        attribute->set_i(axis);
    }
    return node;
}

void checkSupported(const QParamsEntry& entry, const std::string& where) {
    const QuantSpec& spec = entry.spec;
    if (!spec.format.isInteger() || spec.format.bits != 8)
        throw Error(
            where, spec.format.name() +
                       " is not exported yet: QDQ export writes int8 / uint8 (int4 and int16 need opset 21's "
                       "QuantizeLinear)");
    if (spec.granularity == Granularity::Group)
        throw Error(where,
                    "per-group (blocked) parameters are not exported yet: they need opset 21's block_size");
    if (entry.kind == TensorKind::Activation && spec.granularity != Granularity::Tensor)
        throw Error(where, "activations are exported per tensor only");
}

} // namespace

std::string QdqExporter::exportModel(const std::string& modelPath, const QParamsDocument& params,
                                     std::vector<ConversionNote>& notes) {
    OnnxModelFile file(modelPath);
    onnx::ModelProto model = file.model();
    if (file.defaultOpset() < kPerAxisOpset)
        throw Error(modelPath, "opset " + std::to_string(file.defaultOpset()) +
                                   ": QDQ export needs opset 13 or later (per-axis DequantizeLinear)");
    onnx::GraphProto& graph = *model.mutable_graph();

    std::map<std::string, int> initializerIndex;
    for (int i = 0; i < graph.initializer_size(); ++i)
        initializerIndex[graph.initializer(i).name()] = i;
    std::set<std::string> graphInputs;
    for (const auto& input : graph.input())
        if (!initializerIndex.count(input.name()))
            graphInputs.insert(input.name());
    std::map<std::string, int> producer; // value -> node index
    for (int i = 0; i < graph.node_size(); ++i)
        for (const auto& output : graph.node(i).output())
            producer[output] = i;

    std::vector<onnx::NodeProto> leading;              // weights' and graph inputs' pairs
    std::map<int, std::vector<onnx::NodeProto>> after; // pairs placed after a producer node
    std::map<std::string, std::string> renamedInputs;  // graph input -> its dequantized value

    for (const auto& entry : params.tensors) {
        const std::string where = modelPath + ": " + entry.name;
        if (!entry.params) {
            notes.push_back({entry.name, "has no scale or zero point; left in float", true});
            continue;
        }
        checkSupported(entry, where);
        const QParams& p = *entry.params;
        const QuantSpec& spec = entry.spec;
        if (spec.narrowRange || spec.reduceRange)
            notes.push_back(
                {entry.name,
                 "QuantizeLinear saturates to the full 8-bit range; the narrowed range is kept only "
                 "where the weights were rounded here",
                 false});
        const bool perAxis = spec.granularity == Granularity::Channel;
        const std::string scaleName = entry.name + "_scale";
        const std::string zeroName = entry.name + "_zero_point";
        graph.add_initializer()->CopyFrom(scalarOrVector(scaleName, p.scale, perAxis));
        graph.add_initializer()->CopyFrom(zeroPoints(zeroName, spec.format, p.zeroPoint, perAxis));

        const auto weight = initializerIndex.find(entry.name);
        if (weight != initializerIndex.end()) {
            onnx::TensorProto& proto = *graph.mutable_initializer(weight->second);
            const TensorInfo info = file.describe(proto, entry.name);
            const std::vector<float> values = file.readFloats(proto, info);
            // The parameters may describe a 2-D view of the weight (Conv: [M, C/g * kH * kW]); the
            // channel axis must then be the leading one, which both views share.
            std::vector<int64_t> shape = entry.shape.empty() ? info.shape : entry.shape;
            int64_t count = 1;
            for (int64_t d : shape)
                count *= d;
            if (count != static_cast<int64_t>(values.size()))
                throw Error(where, "the entry's shape does not match the model's tensor");
            int64_t axis = spec.axis;
            if (perAxis && shape != info.shape && axis != 0)
                throw Error(where, "per-channel axis " + std::to_string(axis) +
                                       " of a reshaped view has no axis in the model's tensor");
            const BlockLayout layout(shape, spec);
            if (layout.blockCount() != static_cast<int64_t>(p.scale.size()))
                throw Error(where, "has " + std::to_string(p.scale.size()) + " scales for " +
                                       std::to_string(layout.blockCount()) + " blocks");
            std::vector<int32_t> integers(values.size());
            layout.forEachRun([&](int64_t block, int64_t first, int64_t runLength) {
                const IntegerQuantizer quantizer(p.scale[block], p.zeroPoint[block],
                                                 static_cast<int32_t>(p.qmin), static_cast<int32_t>(p.qmax));
                for (int64_t i = first; i < first + runLength; ++i)
                    integers[i] = quantizer.quantize(values[i]);
            });
            const std::string quantizedName = entry.name + "_quantized";
            onnx::TensorProto quantized;
            quantized.set_name(quantizedName);
            quantized.set_data_type(onnxIntegerType(spec.format));
            for (int64_t d : info.shape)
                quantized.add_dims(d);
            std::string bytes(integers.size(), '\0');
            for (std::size_t i = 0; i < integers.size(); ++i)
                bytes[i] = static_cast<char>(static_cast<uint8_t>(integers[i] & 0xff));
            quantized.set_raw_data(bytes);
            // The float weight is replaced by its integers; DequantizeLinear produces the old name.
            proto.CopyFrom(quantized);
            initializerIndex.erase(weight);
            // Older exporters also list initializers as graph inputs; the name now belongs to
            // DequantizeLinear's output, so the input goes (a value has one producer).
            auto* inputs = graph.mutable_input();
            for (int i = 0; i < inputs->size(); ++i)
                if (inputs->Get(i).name() == entry.name) {
                    inputs->DeleteSubrange(i, 1);
                    break;
                }
            leading.push_back(
                qdqNode("DequantizeLinear", quantizedName, scaleName, zeroName, entry.name, axis, perAxis));
            continue;
        }
        const std::string quantizedName = entry.name + "_quantized";
        if (graphInputs.count(entry.name)) {
            const std::string dequantizedName = entry.name + "_dequantized";
            leading.push_back(
                qdqNode("QuantizeLinear", entry.name, scaleName, zeroName, quantizedName, 0, false));
            leading.push_back(
                qdqNode("DequantizeLinear", quantizedName, scaleName, zeroName, dequantizedName, 0, false));
            renamedInputs[entry.name] = dequantizedName;
            continue;
        }
        const auto made = producer.find(entry.name);
        if (made == producer.end())
            throw Error(where, "matches no weight, graph input or node output of the model");
        // The producer now writes "<name>_float"; the pair gives back "<name>" to every consumer and
        // to the graph's outputs.
        const std::string floatName = entry.name + "_float";
        for (auto& output : *graph.mutable_node(made->second)->mutable_output())
            if (output == entry.name)
                output = floatName;
        after[made->second].push_back(
            qdqNode("QuantizeLinear", floatName, scaleName, zeroName, quantizedName, 0, false));
        after[made->second].push_back(
            qdqNode("DequantizeLinear", quantizedName, scaleName, zeroName, entry.name, 0, false));
    }

    // Nodes in a valid order: the leading pairs, then each node followed by its pairs.
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    for (auto& node : leading)
        *nodes.Add() = std::move(node);
    for (int i = 0; i < graph.node_size(); ++i) {
        onnx::NodeProto node = graph.node(i);
        for (auto& input : *node.mutable_input())
            if (const auto renamed = renamedInputs.find(input); renamed != renamedInputs.end())
                input = renamed->second;
        *nodes.Add() = std::move(node);
        for (auto& pair : after[i])
            *nodes.Add() = std::move(pair);
    }
    graph.mutable_node()->Swap(&nodes);
    for (auto& output : *graph.mutable_output())
        if (const auto renamed = renamedInputs.find(output.name()); renamed != renamedInputs.end())
            output.set_name(renamed->second);
    // Graph value_info of the renamed producer outputs no longer names a value; drop it rather
    // than let it describe the wrong one.
    graph.clear_value_info();
    model.set_producer_name("quantscope");
    model.set_producer_version(QUANTSCOPE_VERSION);
    std::string bytes;
    if (!model.SerializeToString(&bytes))
        throw Error(modelPath, "the QDQ model could not be serialised");
    return bytes;
}

} // namespace quantscope
