#pragma once

#include "quantscope/io/GgmlBlocks.h"
#include "quantscope/io/GgmlType.h"
#include "quantscope/io/ReadOnlyFile.h"
#include "quantscope/io/WeightFile.h"

#include <unordered_map>

namespace quantscope {

// A GGUF file (llama.cpp / ggml, versions 2 and 3, little endian) as described in ggml's
// docs/gguf.md: "GGUF", a version, the tensor and key/value counts, typed key/values, the tensor
// infos (name, dims innermost first, ggml type, offset), then the data section aligned to
// `general.alignment` (32 by default).
//
// Opening parses only the header, checking every length, count and offset against the file
// before use. Tensors are listed in the order of their infos, with row-major shapes (GGUF's ne is
// innermost first: ne = [cols, rows] is listed [rows, cols]) and TensorInfo::storage set to the
// ggml type's name. load() decodes a readable type to float32 exactly as ggml's dequantize_row_*
// does and refuses the other types by name.
class GgufReader : public WeightFile {
public:
    explicit GgufReader(const std::string& path);

    static constexpr uint32_t kDefaultAlignment = 32;
    static constexpr uint32_t kMaxDims = 4;             // GGML_MAX_DIMS
    static constexpr int kMaxArrayNesting = 8;          // arrays of arrays deeper than this are refused
    static constexpr std::size_t kArrayItemsShown = 16; // longer arrays are summarised in metadata()

    const std::string& path() const override { return m_file.path(); }
    std::string format() const override { return "gguf"; }
    const std::map<std::string, std::string>& metadata() const override { return m_metadata; }
    const std::vector<TensorInfo>& tensors() const override { return m_tensors; }
    Tensor load(const std::string& name) const override;

    uint32_t version() const { return m_version; }
    uint64_t alignment() const { return m_alignment; }
    // File offset of the data section.
    uint64_t dataStart() const { return m_dataStart; }

    // The ggml type of a tensor; throws Error naming the file and tensor for an unknown name.
    GgmlType ggmlType(const std::string& name) const;
    // The number of blocks a quantized tensor is stored in (0 for plain types such as f16).
    uint64_t blockCount(const std::string& name) const;
    // The stored parameters of block `block` (0-based, in storage order, which is row-major
    // element order: block i holds elements [i * blockElements, (i + 1) * blockElements)).
    // Throws Error naming the tensor when it has no blocks or `block` is out of range.
    std::vector<GgmlBlockField> blockFields(const std::string& name, uint64_t block) const;

private:
    struct Entry {
        GgmlType type;
        uint64_t offset; // within the data section
    };
    std::size_t indexOf(const std::string& name) const;

    ReadOnlyFile m_file;
    uint32_t m_version = 0;
    uint64_t m_alignment = kDefaultAlignment;
    uint64_t m_dataStart = 0;
    std::map<std::string, std::string> m_metadata;
    std::vector<TensorInfo> m_tensors;
    std::vector<Entry> m_entries;
    std::unordered_map<std::string, std::size_t> m_indexByName;
};

} // namespace quantscope
