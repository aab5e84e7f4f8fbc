#include "quantscope/io/NpyReader.h"

#include "quantscope/Error.h"

#include <algorithm>
#include <filesystem>

namespace quantscope {

namespace {

NpyHeader readHeader(const ReadOnlyFile& file) {
    const auto prefix = file.read(0, std::min<uint64_t>(file.size(), NpyHeader::kPrefixBytes));
    // parse() reports a header longer than the file itself.
    const uint64_t headerSize = std::min(NpyHeader::headerSize(prefix, file.path()), file.size());
    return NpyHeader::parse(file.read(0, headerSize), file.path());
}

} // namespace

NpyReader::NpyReader(const std::string& path) : m_file(path), m_header(readHeader(m_file)) {
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
    m_file.checkNotShrunk();
    return m_header.decode(name, m_file.read(m_header.dataOffset(), m_header.dataBytes()));
}

} // namespace quantscope
