#include "quantscope/io/OnnxReader.h"

#include "io/OnnxModelFile.h"
#include "quantscope/Error.h"

#include <map>

namespace quantscope {

namespace {

// An integer initializer that a DequantizeLinear node turns into a float weight (an ONNX Runtime
// or `export-qdq` QDQ model): its stored scale and zero point, and how they map onto it.
struct QdqWeight {
    std::string node;
    std::string scale, zeroPoint; // initializer names; zeroPoint empty when the node has none
    int64_t axis = 0;             // per-axis and blocked parameters: the axis, made non-negative
    int64_t blockSize = 0;        // opset 21's blocked form, 0 otherwise
    bool perTensor = true;
};

int64_t attributeInt(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
    for (const auto& attribute : node.attribute())
        if (attribute.name() == name && attribute.type() == onnx::AttributeProto::INT)
            return attribute.i();
    return fallback;
}

// The element of the parameter tensor that element i of the weight uses.
int64_t parameterIndex(const QdqWeight& q, const std::vector<int64_t>& shape,
                       const std::vector<int64_t>& strides, int64_t i) {
    if (q.perTensor)
        return 0;
    const int64_t along = i / strides[q.axis] % shape[q.axis];
    if (q.blockSize == 0)
        return along;
    // Blocked: the parameter has the weight's shape with the axis cut into blocks.
    const int64_t blocks = (shape[q.axis] + q.blockSize - 1) / q.blockSize;
    const int64_t outer = i / (strides[q.axis] * shape[q.axis]);
    const int64_t inner = i % strides[q.axis];
    return (outer * blocks + along / q.blockSize) * strides[q.axis] + inner;
}

} // namespace

struct OnnxReader::Parsed {
    explicit Parsed(const std::string& path) : file(path) {}
    OnnxModelFile file;
    std::vector<OnnxNamedTensor> tensors;
    std::map<std::string, QdqWeight> qdq; // integer initializer -> its DequantizeLinear parameters
};

OnnxReader::OnnxReader(const std::string& path) : m_path(path), m_parsed(std::make_unique<Parsed>(path)) {
    const auto& model = m_parsed->file.model();
    m_metadata["ir_version"] = std::to_string(model.ir_version());
    std::string opsets;
    for (const auto& opset : model.opset_import()) {
        if (!opsets.empty())
            opsets += ", ";
        opsets += (opset.domain().empty() ? std::string("ai.onnx") : opset.domain()) + " " +
                  std::to_string(opset.version());
    }
    m_metadata["opset_import"] = opsets;
    if (!model.producer_name().empty())
        m_metadata["producer"] =
            model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
    if (!model.doc_string().empty())
        m_metadata["doc_string"] = model.doc_string();
    if (!model.graph().name().empty())
        m_metadata["graph"] = model.graph().name();
    for (const auto& property : model.metadata_props())
        m_metadata[property.key()] = property.value();

    std::vector<std::string> skipped;
    m_parsed->tensors = m_parsed->file.collectTensors(skipped);
    for (std::size_t i = 0; i < m_parsed->tensors.size(); ++i) {
        m_index[m_parsed->tensors[i].name] = i;
        m_tensors.push_back(m_parsed->tensors[i].info);
    }
    for (const auto& node : model.graph().node())
        for (int i = 0; i < node.input_size(); ++i)
            if (m_index.count(node.input(i)) && !m_uses.count(node.input(i)))
                m_uses[node.input(i)] = {node.name().empty() && node.output_size() > 0 ? node.output(0)
                                                                                       : node.name(),
                                         node.op_type(), i};
    findQdqWeights();
    if (!skipped.empty()) {
        std::string list;
        for (const auto& entry : skipped)
            list += (list.empty() ? "" : ", ") + entry;
        m_metadata["unsupported_tensors"] = list;
    }
}

OnnxReader::~OnnxReader() = default;

void OnnxReader::findQdqWeights() {
    const auto tensorInfo = [&](const std::string& name) -> const TensorInfo* {
        const auto found = m_index.find(name);
        return found == m_index.end() ? nullptr : &m_tensors[found->second];
    };
    for (const auto& node : m_parsed->file.model().graph().node()) {
        const bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
        if (node.op_type() != "DequantizeLinear" || !(defaultDomain || node.domain() == "com.microsoft") ||
            node.input_size() < 2)
            continue;
        const TensorInfo* weight = tensorInfo(node.input(0));
        const TensorInfo* scale = tensorInfo(node.input(1));
        const std::string zeroName = node.input_size() > 2 ? node.input(2) : std::string();
        const TensorInfo* zero = zeroName.empty() ? nullptr : tensorInfo(zeroName);
        if (weight == nullptr || scale == nullptr || dtypeIsFloat(weight->dtype) ||
            weight->dtype == DType::Bool || !dtypeIsFloat(scale->dtype) ||
            (!zeroName.empty() && (zero == nullptr || zero->shape != scale->shape)) ||
            m_parsed->qdq.count(weight->name))
            continue;
        QdqWeight q;
        q.node = node.name().empty() && node.output_size() > 0 ? node.output(0) : node.name();
        q.scale = scale->name;
        q.zeroPoint = zeroName;
        const auto rank = static_cast<int64_t>(weight->shape.size());
        q.axis = attributeInt(node, "axis", 1);
        q.axis = q.axis < 0 ? q.axis + rank : q.axis;
        q.blockSize = attributeInt(node, "block_size", 0);
        q.perTensor = scale->elements == 1 && q.blockSize == 0;
        // Only parameters that fit the weight as ONNX defines them; any other node is left to the
        // executor to refuse, and the tensor is listed as stored.
        bool fits = q.perTensor;
        if (!fits && q.axis >= 0 && q.axis < rank) {
            const int64_t length = weight->shape[static_cast<std::size_t>(q.axis)];
            if (q.blockSize == 0) {
                fits = scale->shape.size() == 1 && scale->shape[0] == length;
            } else if (q.blockSize > 0 && scale->shape.size() == weight->shape.size()) {
                fits = true;
                for (int64_t d = 0; d < rank; ++d)
                    fits = fits && scale->shape[static_cast<std::size_t>(d)] ==
                                       (d == q.axis ? (length + q.blockSize - 1) / q.blockSize
                                                    : weight->shape[static_cast<std::size_t>(d)]);
            }
        }
        if (!fits)
            continue;
        m_parsed->qdq.emplace(weight->name, q);
        // Listed as what load() gives: the dequantized float weight (its bytes stay the stored ones).
        m_tensors[m_index.at(weight->name)].dtype = DType::F32;
    }
}

Tensor OnnxReader::load(const std::string& name) const {
    const auto found = m_index.find(name);
    if (found == m_index.end())
        throw Error(m_path + ": " + name, "no such tensor in the model");
    const auto& entry = m_parsed->tensors[found->second];
    std::vector<float> values = m_parsed->file.readFloats(*entry.proto, entry.info);
    const auto qdq = m_parsed->qdq.find(name);
    if (qdq == m_parsed->qdq.end())
        return Tensor(name, entry.info.shape, std::move(values));
    // (q - zero_point) * scale with the stored parameters, as DequantizeLinear computes it.
    const QdqWeight& q = qdq->second;
    const auto& scaleEntry = m_parsed->tensors[m_index.at(q.scale)];
    const std::vector<float> scale = m_parsed->file.readFloats(*scaleEntry.proto, scaleEntry.info);
    std::vector<float> zero(scale.size(), 0.0f);
    if (!q.zeroPoint.empty()) {
        const auto& zeroEntry = m_parsed->tensors[m_index.at(q.zeroPoint)];
        zero = m_parsed->file.readFloats(*zeroEntry.proto, zeroEntry.info);
    }
    const auto& shape = entry.info.shape;
    std::vector<int64_t> strides(shape.size(), 1);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
        strides[static_cast<std::size_t>(d)] =
            strides[static_cast<std::size_t>(d) + 1] * shape[static_cast<std::size_t>(d) + 1];
    for (std::size_t i = 0; i < values.size(); ++i) {
        const auto p = static_cast<std::size_t>(parameterIndex(q, shape, strides, static_cast<int64_t>(i)));
        values[i] = (values[i] - zero[p]) * scale[p];
    }
    return Tensor(name, shape, std::move(values));
}

std::optional<StoredQuantization> OnnxReader::storedQuantization(const std::string& name) const {
    const auto qdq = m_parsed->qdq.find(name);
    if (qdq == m_parsed->qdq.end())
        return std::nullopt;
    const QdqWeight& q = qdq->second;
    const auto& stored = m_parsed->tensors[m_index.at(name)].info;
    StoredQuantization result;
    const char* integerName = nullptr;
    switch (stored.dtype) {
    case DType::I8:
        integerName = "int8";
        break;
    case DType::U8:
        integerName = "uint8";
        break;
    case DType::I16:
        integerName = "int16";
        break;
    case DType::U16:
        integerName = "uint16";
        break;
    default: // int32 biases and wider integers have no quantization format of their own here
        break;
    }
    if (integerName != nullptr)
        result.affine = StoredQuantization::Affine{integerName, q.perTensor ? -1 : q.axis, q.blockSize};
    result.format =
        "qdq " + std::string(integerName != nullptr ? integerName : dtypeName(stored.dtype)) +
        (q.perTensor       ? " per-tensor"
         : q.blockSize > 0 ? " block " + std::to_string(q.blockSize) + " axis " + std::to_string(q.axis)
                           : " per-axis " + std::to_string(q.axis));
    result.note = "dequantized by node '" + q.node + "' as (q - zero_point) * scale with the stored " +
                  q.scale + (q.zeroPoint.empty() ? " (no zero point: 0)" : " and " + q.zeroPoint);
    for (const std::string* part : {&q.scale, &q.zeroPoint}) {
        if (part->empty())
            continue;
        const auto& entry = m_parsed->tensors[m_index.at(*part)];
        result.parameters.emplace_back(*part, entry.info.shape,
                                       m_parsed->file.readFloats(*entry.proto, entry.info));
    }
    return result;
}

std::unique_ptr<WeightFile> openOnnxFile(const std::string& path) {
    return std::make_unique<OnnxReader>(path);
}

} // namespace quantscope
