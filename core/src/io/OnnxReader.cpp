#include "quantscope/io/OnnxReader.h"

#include "io/OnnxModelFile.h"
#include "quantscope/Error.h"

namespace quantscope {

struct OnnxReader::Parsed {
    explicit Parsed(const std::string& path) : file(path) {}
    OnnxModelFile file;
    std::vector<OnnxNamedTensor> tensors;
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
    if (!skipped.empty()) {
        std::string list;
        for (const auto& entry : skipped)
            list += (list.empty() ? "" : ", ") + entry;
        m_metadata["unsupported_tensors"] = list;
    }
}

OnnxReader::~OnnxReader() = default;

Tensor OnnxReader::load(const std::string& name) const {
    const auto found = m_index.find(name);
    if (found == m_index.end())
        throw Error(m_path + ": " + name, "no such tensor in the model");
    const auto& entry = m_parsed->tensors[found->second];
    return Tensor(name, entry.info.shape, m_parsed->file.readFloats(*entry.proto, entry.info));
}

std::unique_ptr<WeightFile> openOnnxFile(const std::string& path) {
    return std::make_unique<OnnxReader>(path);
}

} // namespace quantscope
