#include "quantscope/io/GgufReader.h"

#include "quantscope/Error.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>

namespace quantscope {
namespace {

// GGUF metadata value types (gguf.md `gguf_metadata_value_type`).
enum class ValueType : uint32_t {
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
constexpr uint32_t kValueTypeCount = 13;

const char* valueTypeName(ValueType type) {
    static const char* const kNames[kValueTypeCount] = {"uint8",  "int8",    "uint16", "int16",  "uint32",
                                                        "int32",  "float32", "bool",   "string", "array",
                                                        "uint64", "int64",   "float64"};
    return kNames[static_cast<uint32_t>(type)];
}

// Bytes of a fixed-size value; 0 for strings and arrays.
uint64_t fixedSize(ValueType type) {
    switch (type) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::Bool:
        return 1;
    case ValueType::U16:
    case ValueType::I16:
        return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
        return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
        return 8;
    default:
        return 0;
    }
}

// The fewest bytes one value of `type` can take: what a count is checked against before a loop.
uint64_t minimumSize(ValueType type) {
    if (type == ValueType::String)
        return 8; // the length
    if (type == ValueType::Array)
        return 12; // element type and count
    return fixedSize(type);
}

std::string formatFloat(double value, int digits) {
    char text[40];
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    return text;
}

// Reads the header front to back through a window of the file, so that a header of any size is
// parsed without reading it whole first. Every read is checked against the file's size and
// reported as an Error naming the file, what was being read and where.
class HeaderCursor {
public:
    explicit HeaderCursor(const ReadOnlyFile& file) : m_file(file) {}

    uint64_t position() const { return m_position; }
    uint64_t remaining() const { return m_file.size() - m_position; }

    void require(uint64_t bytes, const std::string& what) const {
        if (bytes > remaining())
            throw Error(m_file.path(), what + " at byte " + std::to_string(m_position) + " needs " +
                                           std::to_string(bytes) + " bytes but the file ends at byte " +
                                           std::to_string(m_file.size()) + " (truncated or corrupt)");
    }

    void skip(uint64_t bytes, const std::string& what) {
        require(bytes, what);
        m_position += bytes;
    }

    uint8_t u8(const std::string& what) { return static_cast<uint8_t>(readLittle(1, what)); }
    uint16_t u16(const std::string& what) { return static_cast<uint16_t>(readLittle(2, what)); }
    uint32_t u32(const std::string& what) { return static_cast<uint32_t>(readLittle(4, what)); }
    uint64_t u64(const std::string& what) { return readLittle(8, what); }

    std::string string(const std::string& what) {
        const uint64_t length = u64(what + " length");
        require(length, what + " of " + std::to_string(length) + " bytes");
        std::string text(static_cast<std::size_t>(length), '\0');
        copy(text.data(), length);
        return text;
    }

private:
    uint64_t readLittle(int bytes, const std::string& what) {
        require(static_cast<uint64_t>(bytes), what);
        unsigned char raw[8] = {};
        copy(reinterpret_cast<char*>(raw), static_cast<uint64_t>(bytes));
        uint64_t value = 0;
        for (int i = bytes - 1; i >= 0; --i)
            value = (value << 8) | raw[i];
        return value;
    }

    // Copies `length` checked bytes at the position, refilling the window as needed.
    void copy(char* destination, uint64_t length) {
        while (length > 0) {
            if (m_position < m_windowStart || m_position >= m_windowStart + m_window.size()) {
                m_windowStart = m_position;
                const uint64_t size = std::min<uint64_t>(kWindowBytes, remaining());
                m_window = m_file.read(m_windowStart, size);
            }
            const uint64_t offset = m_position - m_windowStart;
            const uint64_t count = std::min<uint64_t>(length, m_window.size() - offset);
            std::memcpy(destination, m_window.data() + offset, static_cast<std::size_t>(count));
            destination += count;
            length -= count;
            m_position += count;
        }
    }

    static constexpr uint64_t kWindowBytes = 1 << 20;
    const ReadOnlyFile& m_file;
    uint64_t m_position = 0;
    uint64_t m_windowStart = 0;
    std::vector<std::byte> m_window;
};

std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
}

ValueType readValueType(HeaderCursor& cursor, const std::string& subject, const std::string& what) {
    const uint32_t raw = cursor.u32(what);
    if (raw >= kValueTypeCount)
        throw Error(subject, what + " " + std::to_string(raw) + " is not a GGUF value type (0 to " +
                                 std::to_string(kValueTypeCount - 1) + ")");
    return static_cast<ValueType>(raw);
}

// A scalar value as text; `integer` receives it when it is an integer type.
std::string readScalar(HeaderCursor& cursor, ValueType type, const std::string& subject,
                       std::optional<int64_t>* integer = nullptr) {
    const std::string what = std::string(valueTypeName(type)) + " value";
    auto keep = [&](int64_t value) {
        if (integer)
            *integer = value;
        return std::to_string(value);
    };
    switch (type) {
    case ValueType::U8:
        return keep(cursor.u8(what));
    case ValueType::I8:
        return keep(static_cast<int8_t>(cursor.u8(what)));
    case ValueType::U16:
        return keep(cursor.u16(what));
    case ValueType::I16:
        return keep(static_cast<int16_t>(cursor.u16(what)));
    case ValueType::U32:
        return keep(cursor.u32(what));
    case ValueType::I32:
        return keep(static_cast<int32_t>(cursor.u32(what)));
    case ValueType::U64: {
        const uint64_t value = cursor.u64(what);
        if (integer && value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            *integer = static_cast<int64_t>(value);
        return std::to_string(value);
    }
    case ValueType::I64:
        return keep(static_cast<int64_t>(cursor.u64(what)));
    case ValueType::F32: {
        const uint32_t bits = cursor.u32(what);
        float value = 0;
        std::memcpy(&value, &bits, sizeof value);
        return formatFloat(value, 9);
    }
    case ValueType::F64: {
        const uint64_t bits = cursor.u64(what);
        double value = 0;
        std::memcpy(&value, &bits, sizeof value);
        return formatFloat(value, 17);
    }
    case ValueType::Bool: {
        const uint8_t value = cursor.u8(what);
        if (value > 1)
            throw Error(subject, "bool value " + std::to_string(value) + " is neither 0 nor 1");
        return value ? "true" : "false";
    }
    case ValueType::String:
        return cursor.string("string value");
    case ValueType::Array:
        break;
    }
    return {};
}

// Reads an array (its element type, count and items) and returns how metadata() shows it: every
// item when there are few, else the element type and count ("[int32 × 32000]").
std::string readArray(HeaderCursor& cursor, const std::string& subject, int depth) {
    if (depth > GgufReader::kMaxArrayNesting)
        throw Error(subject, "arrays are nested deeper than " + std::to_string(GgufReader::kMaxArrayNesting) +
                                 " levels");
    const ValueType type = readValueType(cursor, subject, "array element type");
    const uint64_t count = cursor.u64("array count");
    const uint64_t itemBytes = minimumSize(type);
    if (itemBytes > 0 && count > cursor.remaining() / itemBytes)
        throw Error(subject, "array of " + std::to_string(count) + " " + valueTypeName(type) +
                                 " items goes past the end of the file (" +
                                 std::to_string(cursor.remaining()) + " bytes left at byte " +
                                 std::to_string(cursor.position()) + ")");
    const bool showItems = count <= GgufReader::kArrayItemsShown;
    if (!showItems && fixedSize(type) > 0) {
        cursor.skip(count * fixedSize(type), "array items");
        return "[" + std::string(valueTypeName(type)) + " × " + std::to_string(count) + "]";
    }
    std::string shown = "[";
    for (uint64_t i = 0; i < count; ++i) {
        std::string item = type == ValueType::Array ? readArray(cursor, subject, depth + 1)
                                                    : readScalar(cursor, type, subject);
        if (!showItems)
            continue;
        if (i > 0)
            shown += ", ";
        shown += type == ValueType::String ? quoted(item) : item;
    }
    if (!showItems)
        return "[" + std::string(valueTypeName(type)) + " × " + std::to_string(count) + "]";
    return shown + "]";
}

} // namespace

GgufReader::GgufReader(const std::string& path) : m_file(path) {
    HeaderCursor cursor(m_file);
    if (m_file.size() < 4)
        throw Error(path, "file is " + std::to_string(m_file.size()) +
                              " bytes, too short for the GGUF magic and header");
    const uint32_t magic = cursor.u32("magic");
    if (magic != 0x46554747) // "GGUF" read as a little-endian uint32
        throw Error(path, "does not start with the GGUF magic \"GGUF\"");
    m_version = cursor.u32("version");
    if (m_version == 0x02000000 || m_version == 0x03000000)
        throw Error(path, "is a big-endian GGUF file; quantscope reads little-endian GGUF files only");
    if (m_version != 2 && m_version != 3)
        throw Error(path,
                    "GGUF version " + std::to_string(m_version) + " is not supported (supported: 2 and 3)");
    const uint64_t tensorCount = cursor.u64("tensor count");
    const uint64_t kvCount = cursor.u64("key/value count");
    // Each key/value takes at least 13 bytes (key length, value type, one byte of value) and each
    // tensor info at least 24 (name length, dimension count, type, offset): absurd counts stop
    // here, before any loop or allocation.
    if (kvCount > cursor.remaining() / 13)
        throw Error(path, "key/value count " + std::to_string(kvCount) + " cannot fit in the " +
                              std::to_string(cursor.remaining()) + " bytes left: the file ends at byte " +
                              std::to_string(m_file.size()));
    if (tensorCount > cursor.remaining() / 24)
        throw Error(path, "tensor count " + std::to_string(tensorCount) + " cannot fit in the " +
                              std::to_string(cursor.remaining()) + " bytes left: the file ends at byte " +
                              std::to_string(m_file.size()));

    for (uint64_t i = 0; i < kvCount; ++i) {
        const std::string key = cursor.string("key of key/value " + std::to_string(i));
        const std::string subject = path + ": " + key;
        if (m_metadata.count(key))
            throw Error(subject, "key appears twice in the header");
        const ValueType type = readValueType(cursor, subject, "value type");
        std::optional<int64_t> integer;
        std::string value = type == ValueType::Array ? readArray(cursor, subject, 1)
                                                     : readScalar(cursor, type, subject, &integer);
        if (key == "general.alignment") {
            if (!integer || *integer <= 0 || *integer > (int64_t{1} << 30) ||
                (*integer & (*integer - 1)) != 0)
                throw Error(subject, "alignment must be a power of two from 1 to 2^30, got " +
                                         std::string(valueTypeName(type)) + " " + value);
            m_alignment = static_cast<uint64_t>(*integer);
        }
        m_metadata.emplace(key, std::move(value));
    }

    m_tensors.reserve(static_cast<std::size_t>(tensorCount));
    m_entries.reserve(static_cast<std::size_t>(tensorCount));
    for (uint64_t i = 0; i < tensorCount; ++i) {
        TensorInfo info;
        info.name = cursor.string("name of tensor " + std::to_string(i));
        const std::string subject = path + ": " + info.name;
        if (m_indexByName.count(info.name))
            throw Error(subject, "tensor name appears twice in the header");
        const uint32_t dims = cursor.u32("dimension count");
        if (dims > kMaxDims)
            throw Error(subject, "has " + std::to_string(dims) + " dimensions (ggml allows at most " +
                                     std::to_string(kMaxDims) + ")");
        std::vector<int64_t> ne(dims);
        for (uint32_t d = 0; d < dims; ++d) {
            const uint64_t dim = cursor.u64("dimension");
            if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                throw Error(subject, "dimension " + std::to_string(dim) + " is out of range");
            ne[d] = static_cast<int64_t>(dim);
        }
        info.shape.assign(ne.rbegin(), ne.rend()); // innermost last: row-major
        const uint32_t typeId = cursor.u32("ggml type");
        const auto traits = ggmlTypeTraits(typeId);
        if (!traits)
            throw Error(subject, "ggml type " + std::to_string(typeId) +
                                     " is unknown (readable: " + readableGgmlTypeNames() + ")");
        const uint64_t offset = cursor.u64("data offset");

        if (!checkedElementCount(info.shape, info.elements))
            throw Error(subject, "element count of shape " + shapeToString(info.shape) + " overflows");
        const int64_t rowLength = dims > 0 ? ne[0] : 1;
        if (rowLength % traits->blockElements != 0)
            throw Error(subject, "row length " + std::to_string(rowLength) + " is not a multiple of the " +
                                     std::to_string(traits->blockElements) + "-element blocks of " +
                                     std::string(traits->name));
        const uint64_t blocks = info.elements / traits->blockElements;
        if (blocks > std::numeric_limits<uint64_t>::max() / traits->blockBytes)
            throw Error(subject, "byte size of shape " + shapeToString(info.shape) + " overflows");
        info.bytes = blocks * traits->blockBytes;
        info.storage = std::string(traits->name);
        switch (traits->type) {
        case GgmlType::F16:
            info.dtype = DType::F16;
            break;
        case GgmlType::BF16:
            info.dtype = DType::BF16;
            break;
        case GgmlType::F64:
            info.dtype = DType::F64;
            break;
        case GgmlType::I8:
            info.dtype = DType::I8;
            break;
        case GgmlType::I16:
            info.dtype = DType::I16;
            break;
        case GgmlType::I32:
            info.dtype = DType::I32;
            break;
        case GgmlType::I64:
            info.dtype = DType::I64;
            break;
        default:
            info.dtype = DType::F32; // what load() gives for f32 and the block types
        }
        m_indexByName.emplace(info.name, m_tensors.size());
        m_tensors.push_back(std::move(info));
        m_entries.push_back({traits->type, offset});
    }

    // The data section starts at the next multiple of the alignment after the tensor infos.
    const uint64_t end = cursor.position();
    m_dataStart = end + (m_alignment - end % m_alignment) % m_alignment;
    const uint64_t dataSize = m_dataStart <= m_file.size() ? m_file.size() - m_dataStart : 0;

    for (std::size_t i = 0; i < m_tensors.size(); ++i) {
        const TensorInfo& info = m_tensors[i];
        const uint64_t offset = m_entries[i].offset;
        const std::string subject = path + ": " + info.name;
        if (offset % m_alignment != 0)
            throw Error(subject, "data offset " + std::to_string(offset) +
                                     " is not a multiple of the alignment " + std::to_string(m_alignment));
        if (offset > dataSize || info.bytes > dataSize - offset)
            throw Error(subject, "data [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                                     std::to_string(info.bytes) +
                                     ") goes past the end of the data section (" + std::to_string(dataSize) +
                                     " bytes from byte " + std::to_string(m_dataStart) + ")");
    }

    // No two tensors may share bytes: sorted by offset, each must end before the next begins.
    std::vector<std::size_t> order(m_tensors.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return m_entries[a].offset < m_entries[b].offset; });
    const std::size_t none = order.size();
    std::size_t previous = none;
    for (const std::size_t current : order) {
        if (m_tensors[current].bytes == 0)
            continue;
        if (previous != none &&
            m_entries[current].offset < m_entries[previous].offset + m_tensors[previous].bytes)
            throw Error(path + ": " + m_tensors[current].name,
                        "data overlaps the data of tensor \"" + m_tensors[previous].name + "\"");
        previous = current;
    }
}

std::size_t GgufReader::indexOf(const std::string& name) const {
    const auto found = m_indexByName.find(name);
    if (found == m_indexByName.end())
        throw Error(path() + ": " + name, "no such tensor in the file");
    return found->second;
}

GgmlType GgufReader::ggmlType(const std::string& name) const {
    return m_entries[indexOf(name)].type;
}

Tensor GgufReader::load(const std::string& name) const {
    const std::size_t index = indexOf(name);
    const TensorInfo& info = m_tensors[index];
    const GgmlTypeTraits& traits = ggmlTypeTraits(m_entries[index].type);
    if (!traits.readable)
        throw Error(path() + ": " + name,
                    "has ggml type " + std::string(traits.name) +
                        ", which quantscope cannot read (readable: " + readableGgmlTypeNames() + ")");
    m_file.checkNotShrunk();

    // Whole blocks at a time, in chunks small enough to stay in cache.
    constexpr uint64_t kChunkBytes = 256 << 10;
    const uint64_t chunkBlocks = std::max<uint64_t>(1, kChunkBytes / traits.blockBytes);
    const uint64_t blocks = info.elements / traits.blockElements;
    std::vector<std::byte> chunk(static_cast<std::size_t>(std::min(blocks, chunkBlocks) * traits.blockBytes));
    // Grown chunk by chunk inside the reserved room: zeroing a multi-GB tensor up front would be
    // one long step that a cancelled load could not interrupt.
    std::vector<float> values;
    values.reserve(static_cast<std::size_t>(info.elements));
    const uint64_t start = m_dataStart + m_entries[index].offset;
    for (uint64_t done = 0; done < blocks; done += chunkBlocks) {
        const uint64_t count = std::min(chunkBlocks, blocks - done);
        const std::span<std::byte> bytes(chunk.data(), static_cast<std::size_t>(count * traits.blockBytes));
        m_file.read(start + done * traits.blockBytes, bytes);
        values.resize(static_cast<std::size_t>((done + count) * traits.blockElements));
        dequantizeGgmlBlocks(traits.type, bytes.data(), count, values.data() + done * traits.blockElements);
    }
    return Tensor(name, info.shape, std::move(values));
}

uint64_t GgufReader::blockCount(const std::string& name) const {
    const std::size_t index = indexOf(name);
    const GgmlTypeTraits& traits = ggmlTypeTraits(m_entries[index].type);
    return traits.blockElements > 1 ? m_tensors[index].elements / traits.blockElements : 0;
}

std::vector<GgmlBlockField> GgufReader::blockFields(const std::string& name, uint64_t block) const {
    const std::size_t index = indexOf(name);
    const GgmlTypeTraits& traits = ggmlTypeTraits(m_entries[index].type);
    const std::string subject = path() + ": " + name;
    if (traits.blockElements == 1)
        throw Error(subject, "is stored as plain " + std::string(traits.name) + " values, without blocks");
    if (!traits.readable)
        throw Error(subject, "has ggml type " + std::string(traits.name) +
                                 ", whose blocks quantscope cannot decode (readable: " +
                                 readableGgmlTypeNames() + ")");
    const uint64_t count = blockCount(name);
    if (block >= count)
        throw Error(subject, "block " + std::to_string(block) + " is out of range: the tensor has " +
                                 std::to_string(count) + " blocks (0 to " +
                                 std::to_string(count == 0 ? 0 : count - 1) + ")");
    const auto bytes =
        m_file.read(m_dataStart + m_entries[index].offset + block * traits.blockBytes, traits.blockBytes);
    return ggmlBlockFields(traits.type, bytes.data());
}

} // namespace quantscope
