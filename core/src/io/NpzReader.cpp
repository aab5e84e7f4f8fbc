#include "quantscope/io/NpzReader.h"

#include "io/ZipEntryStream.h"
#include "quantscope/Error.h"
#include "quantscope/io/ReadOnlyFile.h"

#include <zip.h>

#include <algorithm>

namespace quantscope {

void NpzReader::ZipCloser::operator()(zip* archive) const {
    zip_discard(archive);
}

NpzReader::NpzReader(const std::string& path) : m_path(path) {
    // The checks every input gets (a regular file, never a FIFO or a device that would block or
    // never end), before libzip opens it by path; the size bounds the entries' expansion below.
    const uint64_t archiveSize = ReadOnlyFile(path).size();
    int errorCode = 0;
    m_archive.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &errorCode));
    if (!m_archive && errorCode == ZIP_ER_EXISTS) // libzip's words for a repeated entry name
        throw Error(path, "the archive holds two entries with the same name");
    if (!m_archive)
        throw Error(path, "cannot read as a .npz (zip) archive: " + zipErrorText(errorCode));

    const zip_int64_t count = zip_get_num_entries(m_archive.get(), 0);
    if (count < 0)
        throw Error(path, "cannot count the archive's entries");

    for (zip_int64_t i = 0; i < count; ++i) {
        const auto index = static_cast<uint64_t>(i);
        zip_stat_t entryStat;
        zip_stat_init(&entryStat);
        if (zip_stat_index(m_archive.get(), index, 0, &entryStat) != 0 ||
            (entryStat.valid & ZIP_STAT_NAME) == 0 || (entryStat.valid & ZIP_STAT_SIZE) == 0 ||
            (entryStat.valid & ZIP_STAT_COMP_SIZE) == 0)
            throw Error(path, "cannot read entry " + std::to_string(i) +
                                  " of the archive: " + zip_strerror(m_archive.get()));
        const std::string entryName = entryStat.name;
        if (!entryName.empty() && entryName.back() == '/')
            continue; // a directory entry holds no array
        std::string subject = path + ": " + entryName;
        if (entryName.size() <= 4 || entryName.compare(entryName.size() - 4, 4, ".npy") != 0)
            throw Error(subject, "entry is not a .npy array (a .npz archive holds only .npy entries)");
        const std::string key = entryName.substr(0, entryName.size() - 4);
        subject = path + ": " + key; // from here on, errors name the tensor
        if (!m_indexByName.emplace(key, m_tensors.size()).second)
            throw Error(subject, "the archive holds two entries with this name");
        if (entryStat.comp_size > archiveSize)
            throw Error(subject, "compressed size " + std::to_string(entryStat.comp_size) +
                                     " bytes is larger than the whole archive");
        if (entryStat.size > entryStat.comp_size * kMaxCompressionRatio + 4096)
            throw Error(subject, "declared size " + std::to_string(entryStat.size) +
                                     " bytes is implausible for " + std::to_string(entryStat.comp_size) +
                                     " compressed bytes");

        // Read just enough of the entry to parse its header.
        ZipEntryStream stream(m_archive.get(), index, subject);
        std::vector<std::byte> headerBytes(NpyHeader::kPrefixBytes);
        headerBytes.resize(static_cast<std::size_t>(stream.read(headerBytes.data(), headerBytes.size())));
        const uint64_t headerSize = NpyHeader::headerSize(headerBytes, subject);
        if (headerSize > headerBytes.size()) {
            const std::size_t already = headerBytes.size();
            headerBytes.resize(static_cast<std::size_t>(headerSize));
            stream.readExactly(headerBytes.data() + already, headerSize - already, ".npy header");
        }
        Entry entry;
        entry.index = index;
        entry.uncompressedSize = entryStat.size;
        entry.header = NpyHeader::parse(headerBytes, subject);
        const uint64_t available =
            entryStat.size - std::min<uint64_t>(entryStat.size, entry.header.dataOffset());
        if (available < entry.header.dataBytes())
            throw Error(subject, "truncated data: " + std::string(dtypeName(entry.header.dtype())) + " " +
                                     shapeToString(entry.header.shape()) + " needs " +
                                     std::to_string(entry.header.dataBytes()) +
                                     " bytes after the header, the entry has " + std::to_string(available));
        m_tensors.push_back(entry.header.info(key));
        m_entries.push_back(std::move(entry));
    }
}

NpzReader::~NpzReader() = default;

Tensor NpzReader::load(const std::string& name) const {
    const auto found = m_indexByName.find(name);
    if (found == m_indexByName.end())
        throw Error(m_path + ": " + name, "no such array in the archive");
    const Entry& entry = m_entries[found->second];
    const std::string subject = m_path + ": " + name;

    // The whole entry is read so that libzip reaches its end and verifies the CRC.
    std::vector<std::byte> bytes(
        static_cast<std::size_t>(entry.header.dataOffset() + entry.header.dataBytes()));
    {
        const std::lock_guard lock(m_archiveMutex);
        ZipEntryStream stream(m_archive.get(), entry.index, subject);
        stream.readExactly(bytes.data(), bytes.size(), "data");
        std::byte rest[4096];
        while (stream.read(rest, sizeof rest) == sizeof rest) {
        }
    }
    return entry.header.decode(
        name, std::span<const std::byte>(bytes).subspan(static_cast<std::size_t>(entry.header.dataOffset())));
}

} // namespace quantscope
