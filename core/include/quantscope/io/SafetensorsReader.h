#pragma once

#include "quantscope/io/ReadOnlyFile.h"
#include "quantscope/io/WeightFile.h"

#include <unordered_map>

namespace quantscope {

// A .safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the packed tensor data. Opening reads and parses only the
// header, so listing a file of any size reads only its first bytes; load() reads only the bytes of
// the tensor asked for, and reports a file truncated meanwhile as an Error naming it.
class SafetensorsReader : public WeightFile {
public:
    // Parses and checks the header. Throws Error naming the file (and the tensor) on anything
    // malformed: short file, bad header length, non-JSON header, missing or bad fields, unknown
    // dtype, overflowing shape, byte ranges that disagree with the shape, run past the data or
    // overlap.
    explicit SafetensorsReader(const std::string& path);

    // The largest header accepted (the limit of the reference implementation).
    static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

    const std::string& path() const override { return m_file.path(); }
    std::string format() const override { return "safetensors"; }
    const std::map<std::string, std::string>& metadata() const override { return m_metadata; }
    const std::vector<TensorInfo>& tensors() const override { return m_tensors; }
    Tensor load(const std::string& name) const override;
    TensorView loadInto(const std::string& name, FloatBuffer& buffer) const override;
    bool decodesRanges() const override { return true; }
    void decodeRange(const std::string& name, uint64_t first, uint64_t count,
                     float* destination) const override;

    // The stored bytes of one tensor, little endian as in the file (packed integers, whose int32
    // values float32 cannot hold exactly). Throws like load().
    std::vector<std::byte> loadBytes(const std::string& name) const;

private:
    std::size_t indexOf(const std::string& name) const;
    // Reads values [first, first + elements) of tensor `index` and decodes them in chunks small
    // enough to stay in cache; `prepare(done + count)` is called before each chunk's values are
    // written and returns where value `first` goes.
    template <class Prepare>
    void decode(std::size_t index, uint64_t first, uint64_t elements, Prepare&& prepare) const;

    ReadOnlyFile m_file;
    uint64_t m_dataStart = 0; // file offset of the data section
    std::map<std::string, std::string> m_metadata;
    std::vector<TensorInfo> m_tensors;   // in the order of their data in the file
    std::vector<uint64_t> m_dataOffsets; // start of each tensor within the data section
    std::unordered_map<std::string, std::size_t> m_indexByName;
};

} // namespace quantscope
