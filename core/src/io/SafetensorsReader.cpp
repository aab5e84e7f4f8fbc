#include "quantscope/io/SafetensorsReader.h"

#include "io/ElementConversion.h"
#include "quantscope/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <numeric>
#include <unordered_set>

namespace quantscope {
namespace {

// nlohmann::ordered_json would keep the header's order but looks keys up linearly, which is
// quadratic in the tensor count; tensors are put in file (data offset) order instead.
using Json = nlohmann::json;

// A safetensors header is an object of objects holding short arrays (depth 3); anything much
// deeper is hostile and refused before it can cost stack or memory.
constexpr int kMaxJsonDepth = 8;

std::string allowedDTypes() {
    return "F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2";
}

// A first pass over the header that builds nothing: it refuses deep nesting and a tensor named
// twice (which the DOM parser would silently overwrite) before the DOM is built. nlohmann's
// parser callback could do both in one pass, but its DOM builder then scans the whole parent
// object after each child to drop discarded values: quadratic in the tensor count (a 40,000-tensor
// header took 25 s). Both passes here are linear.
class HeaderGuard : public nlohmann::json_sax<Json> {
public:
    explicit HeaderGuard(const std::string& path) : m_path(path) {}

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return enter(); }
    bool end_object() override { return leave(); }
    bool start_array(std::size_t) override { return enter(); }
    bool end_array() override { return leave(); }
    bool key(string_t& name) override {
        if (m_depth == 1 && !m_topLevelKeys.insert(name).second)
            throw Error(m_path, "header names \"" + name + "\" twice");
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
        throw Error(m_path, std::string("header is not valid JSON (") + e.what() + ")");
    }

private:
    bool enter() {
        if (++m_depth > kMaxJsonDepth)
            throw Error(m_path,
                        "header JSON is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        return true;
    }
    bool leave() {
        --m_depth;
        return true;
    }

    const std::string& m_path;
    int m_depth = 0;
    std::unordered_set<std::string> m_topLevelKeys;
};

Json parseHeader(const std::string& path, std::string_view text) {
    HeaderGuard guard(path);
    Json::sax_parse(text.begin(), text.end(), &guard);
    Json header;
    try {
        header = Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        throw Error(path, std::string("header is not valid JSON (") + e.what() + ")");
    }
    if (!header.is_object())
        throw Error(path, "header is JSON but not an object of tensors");
    return header;
}

std::map<std::string, std::string> parseMetadata(const std::string& path, const Json& value) {
    if (!value.is_object())
        throw Error(path, "\"__metadata__\" must be an object of strings");
    std::map<std::string, std::string> metadata;
    for (const auto& [key, item] : value.items()) {
        if (!item.is_string())
            throw Error(path, "\"__metadata__\" entry \"" + key + "\" is not a string");
        metadata[key] = item.get<std::string>();
    }
    return metadata;
}

// A JSON integer that fits int64 (safetensors writes dims and offsets as non-negative integers).
bool readInteger(const Json& value, int64_t& out) {
    if (value.is_number_unsigned()) {
        const auto u = value.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return false;
        out = static_cast<int64_t>(u);
        return true;
    }
    if (value.is_number_integer()) {
        out = value.get<int64_t>();
        return true;
    }
    return false;
}

const Json& requireField(const std::string& subject, const Json& entry, const char* field) {
    const auto it = entry.find(field);
    if (it == entry.end())
        throw Error(subject, std::string("missing \"") + field + "\"");
    return *it;
}

} // namespace

SafetensorsReader::SafetensorsReader(const std::string& path) : m_file(path) {
    const uint64_t fileSize = m_file.size();
    if (fileSize < 8)
        throw Error(path, "file is " + std::to_string(fileSize) +
                              " bytes, shorter than the 8-byte header length of a safetensors file");

    uint64_t headerLength = 0;
    const auto lengthBytes = m_file.read(0, 8);
    for (int i = 7; i >= 0; --i)
        headerLength = (headerLength << 8) | static_cast<uint8_t>(lengthBytes[static_cast<std::size_t>(i)]);
    if (headerLength > kMaxHeaderBytes)
        throw Error(path, "header length " + std::to_string(headerLength) + " is absurd (at most " +
                              std::to_string(kMaxHeaderBytes) + " bytes)");
    if (headerLength > fileSize - 8)
        throw Error(path, "header length " + std::to_string(headerLength) +
                              " goes past the end of the file (" + std::to_string(fileSize) + " bytes)");

    const auto headerBytes = m_file.read(8, headerLength);
    const Json header = parseHeader(
        path, std::string_view(reinterpret_cast<const char*>(headerBytes.data()), headerBytes.size()));

    m_dataStart = 8 + headerLength;
    const uint64_t dataSize = fileSize - m_dataStart;

    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            m_metadata = parseMetadata(path, entry);
            continue;
        }
        const std::string subject = path + ": " + name;
        if (!entry.is_object())
            throw Error(subject, "entry is not an object with dtype, shape and data_offsets");

        const Json& dtypeValue = requireField(subject, entry, "dtype");
        const Json& shapeValue = requireField(subject, entry, "shape");
        const Json& offsetsValue = requireField(subject, entry, "data_offsets");

        TensorInfo info;
        info.name = name;
        const auto dtype =
            dtypeValue.is_string() ? dtypeFromName(dtypeValue.get<std::string>()) : std::nullopt;
        if (!dtype)
            throw Error(subject,
                        "unsupported dtype " + dtypeValue.dump() + " (supported: " + allowedDTypes() + ")");
        info.dtype = *dtype;

        if (!shapeValue.is_array())
            throw Error(subject, "\"shape\" is not an array of dimensions");
        for (const Json& dimValue : shapeValue) {
            int64_t dim = 0;
            if (!readInteger(dimValue, dim))
                throw Error(subject,
                            "shape dimension " + dimValue.dump() + " is not an integer in int64 range");
            if (dim < 0)
                throw Error(subject, "shape has the negative dimension " + std::to_string(dim));
            info.shape.push_back(dim);
        }
        if (!checkedElementCount(info.shape, info.elements))
            throw Error(subject, "element count of shape " + shapeToString(info.shape) + " overflows");
        const uint64_t elementSize = dtypeSize(info.dtype);
        if (info.elements > std::numeric_limits<uint64_t>::max() / elementSize)
            throw Error(subject, "byte size of shape " + shapeToString(info.shape) + " overflows");
        info.bytes = info.elements * elementSize;

        int64_t begin = 0;
        int64_t end = 0;
        if (!offsetsValue.is_array() || offsetsValue.size() != 2 || !readInteger(offsetsValue[0], begin) ||
            !readInteger(offsetsValue[1], end) || begin < 0 || end < 0)
            throw Error(subject, "\"data_offsets\" must be two non-negative integers [begin, end], got " +
                                     offsetsValue.dump());
        const auto first = static_cast<uint64_t>(begin);
        const auto last = static_cast<uint64_t>(end);
        if (first > last)
            throw Error(subject, "data_offsets [" + std::to_string(first) + ", " + std::to_string(last) +
                                     "] are reversed");
        if (last > dataSize)
            throw Error(subject, "data_offsets [" + std::to_string(first) + ", " + std::to_string(last) +
                                     "] go past the end of the data section (" + std::to_string(dataSize) +
                                     " bytes)");
        if (last - first != info.bytes)
            throw Error(subject, "data_offsets [" + std::to_string(first) + ", " + std::to_string(last) +
                                     "] hold " + std::to_string(last - first) + " bytes but " +
                                     std::string(dtypeName(info.dtype)) + " " + shapeToString(info.shape) +
                                     " needs " + std::to_string(info.bytes));
        m_tensors.push_back(std::move(info));
        m_dataOffsets.push_back(first);
    }

    // List tensors in the order of their data in the file (ties by name, as the header sorts them).
    std::vector<std::size_t> order(m_tensors.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return m_dataOffsets[a] != m_dataOffsets[b] ? m_dataOffsets[a] < m_dataOffsets[b]
                                                    : m_tensors[a].bytes < m_tensors[b].bytes;
    });
    std::vector<TensorInfo> sortedTensors;
    std::vector<uint64_t> sortedOffsets;
    for (const std::size_t i : order) {
        sortedTensors.push_back(std::move(m_tensors[i]));
        sortedOffsets.push_back(m_dataOffsets[i]);
    }
    m_tensors = std::move(sortedTensors);
    m_dataOffsets = std::move(sortedOffsets);
    for (std::size_t i = 0; i < m_tensors.size(); ++i)
        m_indexByName.emplace(m_tensors[i].name, i);

    // No two tensors may share bytes: with the ranges sorted by start, compare neighbours.
    // Empty tensors own no bytes and are skipped, so each range is compared with the last non-empty one.
    const std::size_t none = m_tensors.size();
    std::size_t previous = none;
    for (std::size_t current = 0; current < m_tensors.size(); ++current) {
        if (m_tensors[current].bytes == 0)
            continue;
        if (previous != none && m_dataOffsets[current] < m_dataOffsets[previous] + m_tensors[previous].bytes)
            throw Error(path + ": " + m_tensors[current].name,
                        "data overlaps the data of tensor \"" + m_tensors[previous].name + "\"");
        previous = current;
    }
}

std::size_t SafetensorsReader::indexOf(const std::string& name) const {
    const auto found = m_indexByName.find(name);
    if (found == m_indexByName.end())
        throw Error(path() + ": " + name, "no such tensor in the file");
    return found->second;
}

template <class Prepare>
void SafetensorsReader::decode(std::size_t index, uint64_t first, uint64_t elements,
                               Prepare&& prepare) const {
    const TensorInfo& info = m_tensors[index];
    m_file.checkNotShrunk();

    // Read and convert in chunks small enough to stay in cache: the raw bytes never need a second
    // copy of the whole tensor.
    constexpr uint64_t kChunkBytes = 256 << 10;
    const uint64_t elementSize = dtypeSize(info.dtype);
    const uint64_t chunkElements = kChunkBytes / elementSize;
    // One staging chunk per thread, kept: a fresh one per call would be zeroed (a memset of the
    // whole file) and, at 128 KB and more, mapped and unmapped by malloc each time (page faults,
    // and TLB shootdowns that stall the other threads).
    thread_local std::vector<std::byte> chunk;
    const auto chunkBytes = static_cast<std::size_t>(std::min(elements, chunkElements) * elementSize);
    if (chunk.size() < chunkBytes)
        chunk.resize(chunkBytes);
    const uint64_t start = m_dataStart + m_dataOffsets[index] + first * elementSize;
    for (uint64_t done = 0; done < elements; done += chunkElements) {
        const uint64_t count = std::min(chunkElements, elements - done);
        const std::span<std::byte> bytes(chunk.data(), static_cast<std::size_t>(count * elementSize));
        m_file.read(start + done * elementSize, bytes);
        float* destination = prepare(done + count) + done;
        io::decodeToFloat(info.dtype, io::ByteOrder::Little, bytes.data(), count, destination);
    }
}

Tensor SafetensorsReader::load(const std::string& name) const {
    const std::size_t index = indexOf(name);
    const TensorInfo& info = m_tensors[index];
    // Grown chunk by chunk inside the reserved room: zeroing a multi-GB tensor up front would be
    // one long step that a cancelled load could not interrupt.
    std::vector<float> values;
    values.reserve(static_cast<std::size_t>(info.elements));
    decode(index, 0, info.elements, [&](uint64_t size) {
        values.resize(static_cast<std::size_t>(size));
        return values.data();
    });
    return Tensor(name, info.shape, std::move(values));
}

TensorView SafetensorsReader::loadInto(const std::string& name, FloatBuffer& buffer) const {
    const std::size_t index = indexOf(name);
    const TensorInfo& info = m_tensors[index];
    const std::span<float> values = buffer.prepare(static_cast<std::size_t>(info.elements));
    decode(index, 0, info.elements, [&](uint64_t) { return values.data(); });
    return TensorView(name, info.shape, values);
}

void SafetensorsReader::decodeRange(const std::string& name, uint64_t first, uint64_t count,
                                    float* destination) const {
    const std::size_t index = indexOf(name);
    const uint64_t elements = m_tensors[index].elements;
    if (first > elements || count > elements - first)
        throw Error(path() + ": " + name, "values [" + std::to_string(first) + ", " + std::to_string(first) +
                                              " + " + std::to_string(count) + ") are past the tensor's " +
                                              std::to_string(elements));
    decode(index, first, count, [&](uint64_t) { return destination; });
}

} // namespace quantscope

namespace quantscope {

std::vector<std::byte> SafetensorsReader::loadBytes(const std::string& name) const {
    const std::size_t index = indexOf(name);
    m_file.checkNotShrunk();
    return m_file.read(m_dataStart + m_dataOffsets[index], m_tensors[index].bytes);
}

} // namespace quantscope
