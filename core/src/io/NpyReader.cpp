#include "quantscope/io/NpyReader.h"

#include "quantscope/Error.h"

#include <filesystem>

namespace quantscope {

NpyReader::NpyReader(const std::string& path)
    : m_file(path), m_header(NpyHeader::parse(m_file.bytes(), path)) {
    const uint64_t available = m_file.size() - m_header.dataOffset();
    if (available < m_header.dataBytes())
        throw Error(path, "truncated data: " + std::string(dtypeName(m_header.dtype())) + " " +
                              shapeToString(m_header.shape()) + " needs " +
                              std::to_string(m_header.dataBytes()) +
                              " bytes after the header, the file has " + std::to_string(available));
    m_tensors.push_back(m_header.info(std::filesystem::path(path).stem().string()));
}

Tensor NpyReader::load(const std::string& name) const {
    if (name != m_tensors.front().name)
        throw Error(path() + ": " + name,
                    "no such tensor (a .npy file holds one array, \"" + m_tensors.front().name + "\")");
    return m_header.decode(name, m_file.range(m_header.dataOffset(), m_header.dataBytes()));
}

} // namespace quantscope
