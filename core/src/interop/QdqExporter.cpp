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
constexpr int64_t kBlockedOpset = 21; // INT4 / UINT4 / 16-bit QuantizeLinear, block_size

int32_t onnxIntegerType(const QuantFormat& format) {
    switch (format.bits) {
    case 4:
        return format.isSigned ? kOnnxInt4 : kOnnxUint4;
    case 16:
        return format.isSigned ? onnx::TensorProto::INT16 : onnx::TensorProto::UINT16;
    default:
        return format.isSigned ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
    }
}

// Opset 21 is needed for 4- and 16-bit types and for blocked (per-group) parameters.
bool needsOpset21(const QuantSpec& spec) {
    return spec.format.bits != 8 || spec.granularity == Granularity::Group;
}

// Integers as ONNX stores them in raw_data: one byte each for 8 bits, two little-endian bytes for
// 16, two per byte for 4 (the first element in the low nibble, the last byte padded with zero).
std::string packIntegers(const std::vector<int32_t>& values, int bits) {
    std::string bytes;
    if (bits == 4) {
        bytes.assign((values.size() + 1) / 2, '\0');
        for (std::size_t i = 0; i < values.size(); ++i) {
            const auto nibble = static_cast<uint8_t>(values[i] & 0x0f);
            bytes[i / 2] =
                static_cast<char>(static_cast<uint8_t>(bytes[i / 2]) | (i % 2 ? nibble << 4 : nibble));
        }
    } else if (bits == 16) {
        bytes.resize(values.size() * 2);
        for (std::size_t i = 0; i < values.size(); ++i) {
            const auto word = static_cast<uint16_t>(values[i] & 0xffff);
            bytes[2 * i] = static_cast<char>(word & 0xff);
            bytes[2 * i + 1] = static_cast<char>(word >> 8);
        }
    } else {
        bytes.resize(values.size());
        for (std::size_t i = 0; i < values.size(); ++i)
            bytes[i] = static_cast<char>(static_cast<uint8_t>(values[i] & 0xff));
    }
    return bytes;
}

onnx::TensorProto floats(const std::string& name, const std::vector<float>& values,
                         const std::vector<int64_t>& dims) {
    onnx::TensorProto tensor;
    tensor.set_name(name);
    tensor.set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
        tensor.add_dims(d);
    for (float v : values)
        tensor.add_float_data(v);
    return tensor;
}

onnx::TensorProto integers(const std::string& name, const QuantFormat& format,
                           const std::vector<int32_t>& values, const std::vector<int64_t>& dims) {
    onnx::TensorProto tensor;
    tensor.set_name(name);
    tensor.set_data_type(onnxIntegerType(format));
    for (int64_t d : dims)
        tensor.add_dims(d);
    tensor.set_raw_data(packIntegers(values, format.bits));
    return tensor;
}

// How a weight's parameters lie over it: one value, one per channel along an axis, or a grid of
// blocks (opset 21's block_size: the weight's shape with the axis cut into blocks).
struct ParamShape {
    std::vector<int64_t> dims; // of the scale and zero point
    int64_t axis = 0;
    int64_t blockSize = 0; // 0: not blocked
    bool perAxis = false;
};

onnx::NodeProto qdqNode(const std::string& opType, const std::string& input, const std::string& scale,
                        const std::string& zeroPoint, const std::string& output, const ParamShape& shape) {
    onnx::NodeProto node;
    node.set_op_type(opType);
    node.set_name(opType + "_" + output);
    node.add_input(input);
    node.add_input(scale);
    node.add_input(zeroPoint);
    node.add_output(output);
    auto addInt = [&](const char* name, int64_t value) {
        auto* attribute = node.add_attribute();
        attribute->set_name(name);
        attribute->set_type(onnx::AttributeProto::INT);
        attribute->set_i(value);
    };
    if (shape.perAxis || shape.blockSize > 0)
        addInt("axis", shape.axis);
    if (shape.blockSize > 0)
        addInt("block_size", shape.blockSize);
    return node;
}

void checkSupported(const QParamsEntry& entry, const std::string& where) {
    const QuantSpec& spec = entry.spec;
    const int bits = spec.format.bits;
    if (!spec.format.isInteger() || (bits != 4 && bits != 8 && bits != 16))
        throw Error(where, spec.format.name() +
                               " has no ONNX QuantizeLinear type: QDQ export writes int8 / uint8 (opset 13), "
                               "int4 / uint4 and int16 / uint16 (opset 21)");
    if (entry.kind == TensorKind::Activation && bits == 4)
        throw Error(where,
                    "4-bit activations are not exported (Quantscope's runtime quantizes activations to "
                    "8 or 16 bits)");
    if (entry.kind == TensorKind::Activation && spec.granularity != Granularity::Tensor)
        throw Error(where, "activations are exported per tensor only");
}

// Ops whose opset-13 form is no longer valid at opset 21 (the Reduce ops' axes moved from an
// attribute to an input at opset 18): a model using them cannot simply be raised to opset 21.
bool changedBefore21(const onnx::NodeProto& node, int64_t opset) {
    static const std::set<std::string> reduceOps{"ReduceMean",   "ReduceMax",       "ReduceMin",
                                                 "ReduceProd",   "ReduceL1",        "ReduceL2",
                                                 "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
    if (opset >= 18 || !reduceOps.count(node.op_type()))
        return false;
    for (const auto& attribute : node.attribute())
        if (attribute.name() == "axes")
            return true;
    return false;
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
    // 4- and 16-bit types and blocked weights need opset 21; the model is raised to it when its
    // ops mean the same there.
    bool raise = false;
    for (const auto& entry : params.tensors)
        raise = raise || (entry.params && needsOpset21(entry.spec));
    raise = raise && file.defaultOpset() < kBlockedOpset;
    if (raise) {
        for (const auto& node : graph.node())
            if (changedBefore21(node, file.defaultOpset()))
                throw Error(modelPath + ": " + node.name(),
                            node.op_type() + " with an 'axes' attribute (opset " +
                                std::to_string(file.defaultOpset()) +
                                ") has no opset-21 form; int4 / int16 / blocked export needs opset 21");
        for (auto& opset : *model.mutable_opset_import())
            if (opset.domain().empty() || opset.domain() == "ai.onnx")
                opset.set_version(kBlockedOpset);
        notes.push_back({"",
                         "opset raised from " + std::to_string(file.defaultOpset()) +
                             " to 21 for int4 / int16 types and blocked (per-group) weights",
                         false});
    }

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
                 "QuantizeLinear saturates to the type's full range; the narrowed range is kept only "
                 "where the weights were rounded here",
                 false});
        const std::string scaleName = entry.name + "_scale";
        const std::string zeroName = entry.name + "_zero_point";
        const auto weight = initializerIndex.find(entry.name);
        if (weight == initializerIndex.end() && spec.granularity != Granularity::Tensor)
            throw Error(where, "per-" + std::string(granularityName(spec.granularity)) +
                                   " parameters belong to a weight, and this is no weight of the model");
        ParamShape paramShape;
        paramShape.perAxis = spec.granularity == Granularity::Channel;
        if (paramShape.perAxis)
            paramShape.dims = {static_cast<int64_t>(p.scale.size())};

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
            const int64_t axis = spec.axis;
            paramShape.axis = axis;
            if (paramShape.perAxis && shape != info.shape && axis != 0)
                throw Error(where, "per-channel axis " + std::to_string(axis) +
                                       " of a reshaped view has no axis in the model's tensor");
            const BlockLayout layout(shape, spec);
            if (layout.blockCount() != static_cast<int64_t>(p.scale.size()))
                throw Error(where, "has " + std::to_string(p.scale.size()) + " scales for " +
                                       std::to_string(layout.blockCount()) + " blocks");
            if (spec.granularity == Granularity::Group) {
                // Blocks numbered row-major over [outer, groups, inner] are the scale tensor of
                // opset 21's blocked DequantizeLinear, of the weight's own rank.
                if (shape != info.shape)
                    throw Error(where, "per-group parameters of a reshaped view (" + shapeToString(shape) +
                                           ") have no blocked form on the model's tensor " +
                                           shapeToString(info.shape));
                paramShape.dims = layout.gridShape();
                paramShape.axis = axis;
                paramShape.blockSize = spec.groupSize;
            }
            std::vector<int32_t> codes(values.size());
            layout.forEachRun([&](int64_t block, int64_t first, int64_t runLength) {
                const IntegerQuantizer quantizer(p.scale[block], p.zeroPoint[block],
                                                 static_cast<int32_t>(p.qmin), static_cast<int32_t>(p.qmax));
                for (int64_t i = first; i < first + runLength; ++i)
                    codes[i] = quantizer.quantize(values[i]);
            });
            const std::string quantizedName = entry.name + "_quantized";
            const onnx::TensorProto quantized = integers(quantizedName, spec.format, codes, info.shape);
            graph.add_initializer()->CopyFrom(floats(scaleName, p.scale, paramShape.dims));
            graph.add_initializer()->CopyFrom(integers(zeroName, spec.format, p.zeroPoint, paramShape.dims));
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
                qdqNode("DequantizeLinear", quantizedName, scaleName, zeroName, entry.name, paramShape));
            continue;
        }
        graph.add_initializer()->CopyFrom(floats(scaleName, p.scale, {}));
        graph.add_initializer()->CopyFrom(integers(zeroName, spec.format, p.zeroPoint, {}));
        const std::string quantizedName = entry.name + "_quantized";
        if (graphInputs.count(entry.name)) {
            const std::string dequantizedName = entry.name + "_dequantized";
            leading.push_back(qdqNode("QuantizeLinear", entry.name, scaleName, zeroName, quantizedName, {}));
            leading.push_back(
                qdqNode("DequantizeLinear", quantizedName, scaleName, zeroName, dequantizedName, {}));
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
            qdqNode("QuantizeLinear", floatName, scaleName, zeroName, quantizedName, {}));
        after[made->second].push_back(
            qdqNode("DequantizeLinear", quantizedName, scaleName, zeroName, entry.name, {}));
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
