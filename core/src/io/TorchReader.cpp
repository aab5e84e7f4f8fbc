#include "quantscope/io/TorchReader.h"

#include "io/ElementConversion.h"
#include "io/ZipEntryStream.h"
#include "quantscope/Error.h"
#include "quantscope/io/ReadOnlyFile.h"

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace quantscope {
namespace {

struct EntryStat {
    uint64_t index = 0;
    uint64_t size = 0;
    bool stored = false; // not compressed: readable at any offset
};

} // namespace

void TorchReader::ZipCloser::operator()(zip* archive) const {
    zip_discard(archive);
}

TorchReader::TorchReader(const std::string& path) : m_path(path) {
    {
        // torch.save wrote a bare pickle before 1.6 (and with _use_new_zipfile_serialization=False):
        // say so rather than "not a zip".
        const ReadOnlyFile file(path);
        std::byte head[2] = {};
        if (file.size() >= 2) {
            file.read(0, head);
            if (static_cast<uint8_t>(head[0]) == 0x80 && static_cast<uint8_t>(head[1]) <= 5)
                throw Error(path,
                            "is a legacy PyTorch checkpoint (a bare pickle, written before PyTorch 1.6 or "
                            "with _use_new_zipfile_serialization=False); only the zip format is read — "
                            "re-save it with torch.save in PyTorch 1.6 or later");
        }
    }

    int errorCode = 0;
    m_archive.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &errorCode));
    if (!m_archive)
        throw Error(path, "cannot read as a PyTorch (zip) checkpoint: " + zipErrorText(errorCode));

    std::error_code sizeError;
    const uint64_t archiveSize = std::filesystem::file_size(path, sizeError);
    if (sizeError)
        throw Error(path, "cannot read the file's size: " + sizeError.message());
    const zip_int64_t count = zip_get_num_entries(m_archive.get(), 0);
    if (count < 0)
        throw Error(path, "cannot count the archive's entries");
    std::unordered_map<std::string, EntryStat> entries;
    std::string prefix;
    for (zip_int64_t i = 0; i < count; ++i) {
        zip_stat_t stat;
        zip_stat_init(&stat);
        if (zip_stat_index(m_archive.get(), static_cast<uint64_t>(i), 0, &stat) != 0 ||
            (stat.valid & ZIP_STAT_NAME) == 0 || (stat.valid & ZIP_STAT_SIZE) == 0)
            throw Error(path, "cannot read entry " + std::to_string(i) +
                                  " of the archive: " + zip_strerror(m_archive.get()));
        const std::string name = stat.name;
        const bool stored = (stat.valid & ZIP_STAT_COMP_METHOD) != 0 && stat.comp_method == ZIP_CM_STORE;
        // Sizes are checked before anything is allocated for them: a stored entry cannot be larger
        // than the archive, and deflate cannot expand data by more than about 1032:1.
        const uint64_t compressed = (stat.valid & ZIP_STAT_COMP_SIZE) != 0 ? stat.comp_size : stat.size;
        if (compressed > archiveSize || stat.size > compressed * 1100 + 4096)
            throw Error(path, "entry \"" + std::string(stat.name) + "\" declares " +
                                  std::to_string(stat.size) + " bytes, implausible in an archive of " +
                                  std::to_string(archiveSize));
        // A stored entry holds its bytes as they are: sizes that differ mean a damaged directory,
        // on which libzip's seek reads out of bounds.
        if (stored && compressed != stat.size)
            throw Error(path, "entry \"" + name + "\" is stored uncompressed but declares " +
                                  std::to_string(stat.size) + " bytes and " + std::to_string(compressed) +
                                  " stored bytes (they must be equal)");
        entries[name] = {static_cast<uint64_t>(i), stat.size, stored};
        // "<prefix>/data.pkl" names the checkpoint's root folder (the file's stem, or "archive").
        constexpr std::string_view kPickle = "/data.pkl";
        if (prefix.empty() && name.size() > kPickle.size() && name.ends_with(kPickle) &&
            name.find('/') == name.size() - kPickle.size())
            prefix = name.substr(0, name.size() - kPickle.size());
    }
    if (prefix.empty())
        throw Error(path,
                    "is a zip archive without a \"<name>/data.pkl\" entry, so not a PyTorch checkpoint");

    const auto readEntry = [&](const EntryStat& entry, const std::string& what) {
        std::vector<std::byte> bytes(static_cast<std::size_t>(entry.size));
        ZipEntryStream stream(m_archive.get(), entry.index, path + ": " + what);
        stream.readExactly(bytes.data(), bytes.size(), "entry");
        return bytes;
    };

    if (const auto found = entries.find(prefix + "/byteorder"); found != entries.end()) {
        if (found->second.size > 16)
            throw Error(path, "the byteorder entry is " + std::to_string(found->second.size) + " bytes long");
        const auto bytes = readEntry(found->second, "byteorder");
        const std::string order(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        if (order != "little" && order != "big")
            throw Error(path, "the byteorder entry says \"" + order + "\" (expected \"little\" or \"big\")");
        m_bigEndian = order == "big";
    }

    const EntryStat& pickle = entries.at(prefix + "/data.pkl");
    if (pickle.size > kMaxPickleBytes)
        throw Error(path, "data.pkl is " + std::to_string(pickle.size) + " bytes (at most " +
                              std::to_string(kMaxPickleBytes) + " are read)");
    m_contents = unpickleTorchCheckpoint(readEntry(pickle, "data.pkl"), path);

    for (const TorchStorageRecord& storage : m_contents.storages) {
        const std::string entryName = prefix + "/data/" + storage.key;
        const auto found = entries.find(entryName);
        if (found == entries.end())
            throw Error(path,
                        "storage \"" + storage.key + "\" has no entry \"" + entryName + "\" in the archive");
        const uint64_t elementSize = dtypeSize(storage.dtype);
        if (storage.elements > (uint64_t{1} << 62) / elementSize ||
            found->second.size < storage.elements * elementSize)
            throw Error(path, "storage \"" + storage.key + "\" holds " + std::to_string(found->second.size) +
                                  " bytes, but the pickle says " + std::to_string(storage.elements) + " " +
                                  std::string(dtypeName(storage.dtype)) + " values");
        m_storageEntries.push_back(found->second.index);
        m_storageStored.push_back(found->second.stored);
    }

    for (std::size_t i = 0; i < m_contents.tensors.size(); ++i) {
        const TorchTensorRecord& record = m_contents.tensors[i];
        TensorInfo info;
        info.name = record.name;
        info.dtype = m_contents.storages[record.storage].dtype;
        info.shape = record.shape;
        checkedElementCount(info.shape, info.elements); // checked by the unpickler
        info.bytes = info.elements * dtypeSize(info.dtype);
        m_indexByName.emplace(info.name, i);
        m_tensors.push_back(std::move(info));
    }
}

TorchReader::~TorchReader() = default;

Tensor TorchReader::load(const std::string& name) const {
    const auto found = m_indexByName.find(name);
    if (found == m_indexByName.end())
        throw Error(m_path + ": " + name, "no such tensor in the checkpoint");
    const TorchTensorRecord& record = m_contents.tensors[found->second];
    const TensorInfo& info = m_tensors[found->second];
    const TorchStorageRecord& storage = m_contents.storages[record.storage];
    const std::string subject = m_path + ": " + name;
    if (info.elements == 0)
        return Tensor(name, info.shape, {});

    // The view reaches storage elements [offset, last]; read that span once, then gather.
    uint64_t last = record.storageOffset;
    bool contiguous = true;
    int64_t expectedStride = 1;
    for (std::size_t i = record.shape.size(); i-- > 0;) {
        last += static_cast<uint64_t>(record.shape[i] - 1) * static_cast<uint64_t>(record.strides[i]);
        if (record.shape[i] != 1 && record.strides[i] != expectedStride)
            contiguous = false;
        expectedStride *= record.shape[i];
    }
    const uint64_t spanElements = last - record.storageOffset + 1;
    const uint64_t elementSize = dtypeSize(storage.dtype);
    const io::ByteOrder order = m_bigEndian ? io::ByteOrder::Big : io::ByteOrder::Little;
    // Read and convert in chunks small enough to stay in cache: the raw bytes never need a second
    // copy of the whole tensor.
    constexpr uint64_t kChunkBytes = 256 << 10;
    const uint64_t chunkElements = kChunkBytes / elementSize;
    std::vector<std::byte> chunk(
        static_cast<std::size_t>(std::min(spanElements, chunkElements) * elementSize));
    std::vector<float> span(static_cast<std::size_t>(spanElements));
    {
        const std::lock_guard lock(m_archiveMutex);
        ZipEntryStream stream(m_archive.get(), m_storageEntries[record.storage], subject);
        stream.skipTo(record.storageOffset * elementSize, m_storageStored[record.storage]);
        for (uint64_t done = 0; done < spanElements; done += chunkElements) {
            const uint64_t count = std::min(chunkElements, spanElements - done);
            stream.readExactly(chunk.data(), count * elementSize, "storage data");
            io::decodeToFloat(storage.dtype, order, chunk.data(), count, span.data() + done);
        }
    }
    if (contiguous)
        return Tensor(name, info.shape, std::move(span));

    // Walk the view in row-major order with an odometer over its indices.
    std::vector<float> values(static_cast<std::size_t>(info.elements));
    const std::size_t rank = record.shape.size();
    std::vector<int64_t> index(rank, 0);
    uint64_t position = 0;
    for (float& value : values) {
        value = span[static_cast<std::size_t>(position)];
        for (std::size_t axis = rank; axis-- > 0;) {
            const auto stride = static_cast<uint64_t>(record.strides[axis]);
            if (++index[axis] < record.shape[axis]) {
                position += stride;
                break;
            }
            position -= static_cast<uint64_t>(record.shape[axis] - 1) * stride;
            index[axis] = 0;
        }
    }
    return Tensor(name, info.shape, std::move(values));
}

} // namespace quantscope
