#pragma once

#include "quantscope/io/NpyHeader.h"
#include "quantscope/io/WeightFile.h"

#include <memory>
#include <mutex>
#include <unordered_map>

struct zip;

namespace quantscope {

// A NumPy .npz archive (np.savez, np.savez_compressed): a zip file whose entries are .npy arrays,
// each tensor named by its key (the entry name without ".npy"). Stored and deflate-compressed
// entries are read through libzip. Opening reads only the start of each entry, to parse its .npy
// header; load() decompresses one entry.
class NpzReader : public WeightFile {
public:
    // Throws Error naming the archive (and the entry) when it is not a readable zip, an entry is
    // not a .npy array, or an entry's header is bad or its data shorter than its shape needs.
    explicit NpzReader(const std::string& path);
    ~NpzReader() override;

    const std::string& path() const override { return m_path; }
    std::string format() const override { return "npz"; }
    const std::map<std::string, std::string>& metadata() const override { return m_metadata; }
    const std::vector<TensorInfo>& tensors() const override { return m_tensors; }
    Tensor load(const std::string& name) const override;

    // Deflate cannot expand data by more than about 1032:1; a larger declared ratio is a lie (or a
    // zip bomb) and is refused before any memory is allocated for it.
    static constexpr uint64_t kMaxCompressionRatio = 1100;

private:
    struct Entry {
        uint64_t index = 0; // index in the zip's central directory
        uint64_t uncompressedSize = 0;
        NpyHeader header;
    };
    struct ZipCloser {
        void operator()(zip* archive) const;
    };

    std::string m_path;
    std::unique_ptr<zip, ZipCloser> m_archive;
    mutable std::mutex m_archiveMutex;             // libzip handles are not thread-safe
    std::map<std::string, std::string> m_metadata; // .npz has none
    std::vector<TensorInfo> m_tensors;
    std::vector<Entry> m_entries; // parallel to m_tensors
    std::unordered_map<std::string, std::size_t> m_indexByName;
};

} // namespace quantscope
