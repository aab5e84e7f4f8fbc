#include "quantscope/io/MemoryWeightFile.h"

#include "quantscope/Error.h"

namespace quantscope {

MemoryWeightFile::MemoryWeightFile(std::string path, std::string format,
                                   std::map<std::string, std::string> metadata)
    : m_path(std::move(path)), m_format(std::move(format)), m_metadata(std::move(metadata)) {}

void MemoryWeightFile::add(Tensor tensor) {
    if (m_indexByName.count(tensor.name()))
        throw Error(m_path + ": " + tensor.name(), "a tensor of this name is already present");
    TensorInfo info;
    info.name = tensor.name();
    info.dtype = DType::F32;
    info.shape = tensor.shape();
    info.elements = static_cast<uint64_t>(tensor.size());
    info.bytes = info.elements * sizeof(float);
    m_indexByName[info.name] = m_tensors.size();
    m_infos.push_back(std::move(info));
    m_tensors.push_back(std::move(tensor));
}

Tensor MemoryWeightFile::load(const std::string& name) const {
    const auto found = m_indexByName.find(name);
    if (found == m_indexByName.end())
        throw Error(m_path + ": " + name, "no such tensor");
    return m_tensors[found->second];
}

} // namespace quantscope
