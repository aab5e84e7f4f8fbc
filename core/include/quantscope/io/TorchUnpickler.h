#pragma once

#include "quantscope/tensor/DType.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// One storage a PyTorch checkpoint refers to: the zip entry "<prefix>/data/<key>" holding `elements`
// values of `dtype`.
struct TorchStorageRecord {
    std::string key;
    DType dtype = DType::F32;
    uint64_t elements = 0;
};

// One tensor of a PyTorch checkpoint: a strided view of a storage (torch._utils._rebuild_tensor_v2).
struct TorchTensorRecord {
    std::string name;           // dotted path in the pickled object ("model.layer1.0.conv1.weight")
    std::size_t storage = 0;    // index into TorchPickleContents::storages
    uint64_t storageOffset = 0; // in elements
    std::vector<int64_t> shape;
    std::vector<int64_t> strides; // in elements
};

struct TorchPickleContents {
    std::vector<TorchStorageRecord> storages;
    std::vector<TorchTensorRecord> tensors;     // in the order the pickle names them
    std::map<std::string, std::string> scalars; // plain values beside the tensors ("epoch" → "3")
};

// A restricted unpickler for the data.pkl of torch.save's zip format: it understands the pickle
// opcodes of protocols 2 to 5 that state dicts use and rebuilds only tensors, storages (through
// persistent ids) and plain containers (dict, OrderedDict, list, tuple) of int, float, str, bool
// and None. Any other global is refused by name before anything could be called, as PyTorch's own
// weights_only loader does; nothing from the file is ever executed. Nested containers are flattened
// into dotted names. Throws Error(subject, ...) on any other content, a truncated stream, a memo
// index never stored, nesting deeper than kMaxDepth, or a view that is not a valid tensor.
TorchPickleContents unpickleTorchCheckpoint(std::span<const std::byte> pickle, const std::string& subject);

namespace torchpickle {
constexpr int kMaxDepth = 64; // container nesting when flattening names
constexpr uint64_t kMaxMemoEntries = 1u << 24;
} // namespace torchpickle

} // namespace quantscope
