#pragma once

#include "quantscope/io/TorchUnpickler.h"
#include "quantscope/io/WeightFile.h"

#include <memory>
#include <mutex>
#include <unordered_map>

struct zip;

namespace quantscope {

// A PyTorch checkpoint in the zip format torch.save writes since 1.6 (.pt, .pth, pytorch_model.bin):
// "<prefix>/data.pkl" pickles the object (a state dict, possibly nested in a dict of checkpoint
// fields), "<prefix>/data/<key>" holds each storage's raw bytes, "<prefix>/byteorder" says "little"
// or "big" (little when absent, as before PyTorch 1.10). The pickle is read by a restricted
// unpickler that rebuilds only tensors and plain containers and executes nothing from the file.
// Tensors are named by their dotted path ("model.fc.weight"); strided views (a storage offset and
// strides, e.g. a transposed tensor) are honoured; plain values beside them (an epoch, a learning
// rate) are listed as metadata. load() reads only the bytes of the view asked for, straight from
// the archive when the storage is stored uncompressed.
class TorchReader : public WeightFile {
public:
    // Throws Error naming the file (and the tensor) when it is not a readable zip, has no data.pkl,
    // the pickle holds anything but tensors and containers, a storage entry is missing or shorter
    // than the pickle says, or a view reaches past its storage.
    explicit TorchReader(const std::string& path);
    ~TorchReader() override;

    // A data.pkl larger than this is refused before it is read (state dicts pickle to kilobytes).
    static constexpr uint64_t kMaxPickleBytes = 256u << 20;

    const std::string& path() const override { return m_path; }
    std::string format() const override { return "pytorch"; }
    const std::map<std::string, std::string>& metadata() const override { return m_contents.scalars; }
    const std::vector<TensorInfo>& tensors() const override { return m_tensors; }
    Tensor load(const std::string& name) const override;

private:
    struct ZipCloser {
        void operator()(zip* archive) const;
    };

    std::string m_path;
    std::unique_ptr<zip, ZipCloser> m_archive;
    mutable std::mutex m_archiveMutex; // libzip handles are not thread-safe
    bool m_bigEndian = false;
    TorchPickleContents m_contents;
    std::vector<uint64_t> m_storageEntries; // zip index of each storage's entry
    std::vector<bool> m_storageStored;      // whether it is stored uncompressed (seekable)
    std::vector<TensorInfo> m_tensors;      // parallel to m_contents.tensors
    std::unordered_map<std::string, std::size_t> m_indexByName;
};

} // namespace quantscope
