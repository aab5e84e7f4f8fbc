#pragma once

// A GGUF writer for the tests, written from ggml's docs/gguf.md (not from the reader): a header
// ("GGUF", version, tensor count, key/value count), typed key/values, tensor infos (name, n_dims,
// ne innermost first, ggml type, offset into the data section), padding to the alignment, then the
// tensor data, each tensor starting at a multiple of the alignment. Everything can be overridden
// so that the tests can write hostile files too.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ggufwriter {

// gguf_metadata_value_type
enum ValueType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

inline std::string le(uint64_t value, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i)
        out += static_cast<char>((value >> (8 * i)) & 0xFF);
    return out;
}
inline std::string u16(uint16_t v) {
    return le(v, 2);
}
inline std::string u32(uint32_t v) {
    return le(v, 4);
}
inline std::string u64(uint64_t v) {
    return le(v, 8);
}
inline std::string f32(float v) {
    return le(std::bit_cast<uint32_t>(v), 4);
}
inline std::string f64(double v) {
    return le(std::bit_cast<uint64_t>(v), 8);
}
inline std::string str(const std::string& s) {
    return u64(s.size()) + s;
}

struct Tensor {
    std::string name;
    std::vector<uint64_t> ne; // innermost first, as GGUF stores it
    uint32_t type = 0;
    std::string data;
    std::optional<uint64_t> offset; // overrides the computed, aligned offset
};

class Writer {
public:
    uint32_t version = 3;
    uint64_t alignment = 32; // where data is placed; add a general.alignment key to declare another
    std::optional<uint64_t> tensorCount;
    std::optional<uint64_t> kvCount;

    // A key with its type and the value's encoded bytes.
    void key(const std::string& name, uint32_t type, const std::string& valueBytes) {
        m_kv += str(name) + u32(type) + valueBytes;
        ++m_kvWritten;
    }
    void string(const std::string& name, const std::string& value) { key(name, String, str(value)); }
    // An array of `count` items of `itemType`, whose encoded bytes are `items`.
    void array(const std::string& name, uint32_t itemType, uint64_t count, const std::string& items) {
        key(name, Array, u32(itemType) + u64(count) + items);
    }
    void tensor(Tensor t) { m_tensors.push_back(std::move(t)); }

    std::string build() const {
        std::string out = "GGUF" + u32(version) + u64(tensorCount.value_or(m_tensors.size())) +
                          u64(kvCount.value_or(m_kvWritten)) + m_kv;
        uint64_t next = 0;
        std::vector<uint64_t> offsets;
        for (const Tensor& t : m_tensors) {
            const uint64_t offset = t.offset.value_or(next);
            offsets.push_back(offset);
            next = align(std::max(next, offset + t.data.size()));
            out += str(t.name) + u32(static_cast<uint32_t>(t.ne.size()));
            for (const uint64_t d : t.ne)
                out += u64(d);
            out += u32(t.type) + u64(offset);
        }
        out.append(static_cast<std::size_t>(align(out.size()) - out.size()), '\0');
        const std::size_t dataStart = out.size();
        for (std::size_t i = 0; i < m_tensors.size(); ++i) {
            const std::size_t at = dataStart + static_cast<std::size_t>(offsets[i]);
            if (out.size() < at + m_tensors[i].data.size())
                out.resize(at + m_tensors[i].data.size(), '\0');
            out.replace(at, m_tensors[i].data.size(), m_tensors[i].data);
        }
        return out;
    }

private:
    uint64_t align(uint64_t n) const { return (n + alignment - 1) / alignment * alignment; }

    std::string m_kv;
    uint64_t m_kvWritten = 0;
    std::vector<Tensor> m_tensors;
};

} // namespace ggufwriter
