#include "io/OnnxModelFile.h"

#include "io/ElementConversion.h"

#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"
#include "quantscope/io/ReadOnlyFile.h"

#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>

namespace quantscope {
namespace {

// INT4 / UINT4 (opset 21) are packed two per byte; in memory each value takes a byte, as int8 / uint8.
bool isFourBit(int32_t onnxType) {
    return onnxType == kOnnxInt4 || onnxType == kOnnxUint4;
}

std::optional<DType> dtypeOf(int32_t onnxType) {
    switch (onnxType) {
    case kOnnxInt4:
        return DType::I8;
    case kOnnxUint4:
        return DType::U8;
    case onnx::TensorProto::FLOAT:
        return DType::F32;
    case onnx::TensorProto::UINT8:
        return DType::U8;
    case onnx::TensorProto::INT8:
        return DType::I8;
    case onnx::TensorProto::UINT16:
        return DType::U16;
    case onnx::TensorProto::INT16:
        return DType::I16;
    case onnx::TensorProto::INT32:
        return DType::I32;
    case onnx::TensorProto::INT64:
        return DType::I64;
    case onnx::TensorProto::BOOL:
        return DType::Bool;
    case onnx::TensorProto::FLOAT16:
        return DType::F16;
    case onnx::TensorProto::DOUBLE:
        return DType::F64;
    case onnx::TensorProto::UINT32:
        return DType::U32;
    case onnx::TensorProto::UINT64:
        return DType::U64;
    case onnx::TensorProto::BFLOAT16:
        return DType::BF16;
    default:
        return std::nullopt;
    }
}

std::string onnxTypeName(int32_t onnxType) {
    if (isFourBit(onnxType))
        return onnxType == kOnnxInt4 ? "INT4" : "UINT4";
    if (onnx::TensorProto::DataType_IsValid(onnxType))
        return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(onnxType));
    return "data type " + std::to_string(onnxType);
}

float halfToFloat(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else { // subnormal: normalise
        int shift = 0;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            ++shift;
        }
        bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

float bf16ToFloat(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

template <typename T> T loadLittleEndian(const uint8_t* p) {
    T value;
    std::memcpy(&value, p, sizeof value); // x86 and ARM hosts are little-endian like the format
    return value;
}

// Converts element i of little-endian raw bytes of `dtype` to double (exact for every integer
// below 2^53 and every float).
double rawElement(const uint8_t* base, DType dtype, uint64_t i) {
    switch (dtype) {
    case DType::F32:
        return loadLittleEndian<float>(base + 4 * i);
    case DType::F64:
        return loadLittleEndian<double>(base + 8 * i);
    case DType::F16:
        return halfToFloat(loadLittleEndian<uint16_t>(base + 2 * i));
    case DType::BF16:
        return bf16ToFloat(loadLittleEndian<uint16_t>(base + 2 * i));
    case DType::I64:
        return static_cast<double>(loadLittleEndian<int64_t>(base + 8 * i));
    case DType::I32:
        return loadLittleEndian<int32_t>(base + 4 * i);
    case DType::I16:
        return loadLittleEndian<int16_t>(base + 2 * i);
    case DType::I8:
        return loadLittleEndian<int8_t>(base + i);
    case DType::U64:
        return static_cast<double>(loadLittleEndian<uint64_t>(base + 8 * i));
    case DType::U32:
        return loadLittleEndian<uint32_t>(base + 4 * i);
    case DType::U16:
        return loadLittleEndian<uint16_t>(base + 2 * i);
    case DType::U8:
        return base[i];
    case DType::Bool:
        return base[i] != 0 ? 1.0 : 0.0;
    case DType::F8E4M3:
        return io::fp8E4M3ToFloat(base[i]);
    case DType::F8E5M2:
        return io::fp8E5M2ToFloat(base[i]);
    }
    return 0.0;
}

bool isIntegerType(DType dtype) {
    return !dtypeIsFloat(dtype);
}

// Walks a graph and its subgraphs (attributes of kind GRAPH / GRAPHS) in a fixed order.
void forEachGraph(const onnx::GraphProto& graph, const std::function<void(const onnx::GraphProto&)>& visit) {
    visit(graph);
    for (const auto& node : graph.node()) {
        for (const auto& attribute : node.attribute()) {
            if (attribute.has_g())
                forEachGraph(attribute.g(), visit);
            for (const auto& sub : attribute.graphs())
                forEachGraph(sub, visit);
        }
    }
}

} // namespace

OnnxModelFile::OnnxModelFile(const std::string& path, Content content) : m_path(path) {
    const ReadOnlyFile file(path);
    if (file.size() > static_cast<uint64_t>(INT_MAX))
        throw Error(path, "ONNX files larger than 2 GB must keep their tensors in external data files");
    const std::vector<std::byte> bytes = file.read(0, file.size());
    throwIfCancelled(); // parsing cannot be interrupted: stop before it
    m_directory = std::filesystem::path(path).parent_path().string();
    if (content == Content::Tensor) {
        auto* tensor = m_model.mutable_graph()->add_initializer();
        if (!tensor->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
            throw Error(path, "not a valid ONNX TensorProto (the protobuf does not parse)");
        return;
    }
    if (!m_model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        throw Error(path,
                    "not a valid ONNX model (the protobuf does not parse: truncated or another format)");
    if (m_model.ir_version() <= 0 || !m_model.has_graph())
        throw Error(path, "not an ONNX model (no IR version or no graph)");
    m_directory = std::filesystem::path(path).parent_path().string();
}

int64_t OnnxModelFile::defaultOpset() const {
    for (const auto& opset : m_model.opset_import()) {
        if (opset.domain().empty() || opset.domain() == "ai.onnx")
            return opset.version();
    }
    return 0;
}

std::vector<OnnxNamedTensor> OnnxModelFile::collectTensors(std::vector<std::string>& skipped) const {
    std::vector<OnnxNamedTensor> result;
    std::map<std::string, int> seen;
    auto add = [&](std::string name, const onnx::TensorProto& proto) {
        if (!dtypeOf(proto.data_type())) {
            skipped.push_back(name + " (" + onnxTypeName(proto.data_type()) + ")");
            return;
        }
        const int count = ++seen[name];
        if (count > 1)
            name += "#" + std::to_string(count);
        OnnxNamedTensor entry;
        entry.info = describe(proto, name);
        entry.name = std::move(name);
        entry.proto = &proto;
        result.push_back(std::move(entry));
    };
    forEachGraph(m_model.graph(), [&](const onnx::GraphProto& graph) {
        for (const auto& initializer : graph.initializer())
            add(initializer.name(), initializer);
    });
    forEachGraph(m_model.graph(), [&](const onnx::GraphProto& graph) {
        for (const auto& node : graph.node()) {
            if (node.op_type() != "Constant" || node.output_size() < 1)
                continue;
            if (const auto* tensor = constantNodeTensor(node))
                add(node.output(0), *tensor);
        }
    });
    return result;
}

const onnx::TensorProto* OnnxModelFile::constantNodeTensor(const onnx::NodeProto& node) const {
    for (const auto& attribute : node.attribute()) {
        const std::string& key = attribute.name();
        if (key == "value" && attribute.has_t())
            return &attribute.t();
        onnx::TensorProto tensor;
        if (key == "value_float") {
            tensor.set_data_type(onnx::TensorProto::FLOAT);
            tensor.add_float_data(attribute.f());
        } else if (key == "value_floats") {
            tensor.set_data_type(onnx::TensorProto::FLOAT);
            tensor.add_dims(attribute.floats_size());
            for (float v : attribute.floats())
                tensor.add_float_data(v);
        } else if (key == "value_int") {
            tensor.set_data_type(onnx::TensorProto::INT64);
            tensor.add_int64_data(attribute.i());
        } else if (key == "value_ints") {
            tensor.set_data_type(onnx::TensorProto::INT64);
            tensor.add_dims(attribute.ints_size());
            for (int64_t v : attribute.ints())
                tensor.add_int64_data(v);
        } else {
            continue;
        }
        m_constants.push_back(std::move(tensor));
        return &m_constants.back();
    }
    return nullptr;
}

TensorInfo OnnxModelFile::describe(const onnx::TensorProto& tensor, const std::string& name) const {
    const auto dtype = dtypeOf(tensor.data_type());
    if (!dtype)
        throw Error(subject(name), "unsupported ONNX tensor type " + onnxTypeName(tensor.data_type()));
    TensorInfo info;
    info.name = name;
    info.dtype = *dtype;
    info.shape.assign(tensor.dims().begin(), tensor.dims().end());
    if (!checkedElementCount(info.shape, info.elements))
        throw Error(subject(name),
                    "shape " + shapeToString(info.shape) + " has a negative dimension or too many elements");
    const uint64_t elementSize = dtypeSize(*dtype);
    if (info.elements > std::numeric_limits<uint64_t>::max() / elementSize)
        throw Error(subject(name), "byte size overflows");
    info.bytes = info.elements * elementSize;
    const bool fourBit = isFourBit(tensor.data_type());
    if (fourBit) {
        // Two values per byte, the first in the low nibble; an odd count pads the last byte.
        info.bytes = info.elements / 2 + info.elements % 2;
        info.storage = tensor.data_type() == kOnnxInt4 ? "int4" : "uint4";
    }

    if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
        uint64_t offset = 0;
        checkExternal(tensor, info, offset);
        return info;
    }
    uint64_t stored = 0;
    std::string field;
    if (tensor.has_raw_data()) {
        if (tensor.raw_data().size() != info.bytes)
            throw Error(subject(name), "raw_data holds " + std::to_string(tensor.raw_data().size()) +
                                           " bytes but shape " + shapeToString(info.shape) + " of " +
                                           std::string(dtypeName(*dtype)) + " needs " +
                                           std::to_string(info.bytes));
        return info;
    }
    if (fourBit) {
        // int32_data holds the packed bytes, one per entry (onnx.helper.make_tensor's layout).
        if (static_cast<uint64_t>(tensor.int32_data_size()) != info.bytes)
            throw Error(subject(name), "int32_data holds " + std::to_string(tensor.int32_data_size()) +
                                           " packed bytes but shape " + shapeToString(info.shape) + " of " +
                                           info.storage + " needs " + std::to_string(info.bytes));
        return info;
    }
    switch (*dtype) {
    case DType::F32:
        stored = tensor.float_data_size();
        field = "float_data";
        break;
    case DType::F64:
        stored = tensor.double_data_size();
        field = "double_data";
        break;
    case DType::I64:
        stored = tensor.int64_data_size();
        field = "int64_data";
        break;
    case DType::U32:
    case DType::U64:
        stored = tensor.uint64_data_size();
        field = "uint64_data";
        break;
    default:
        stored = tensor.int32_data_size();
        field = "int32_data";
        break;
    }
    if (stored != info.elements)
        throw Error(subject(name), field + " holds " + std::to_string(stored) + " values but shape " +
                                       shapeToString(info.shape) + " needs " + std::to_string(info.elements));
    return info;
}

void OnnxModelFile::checkExternal(const onnx::TensorProto& tensor, const TensorInfo& info,
                                  uint64_t& offset) const {
    std::string location;
    std::optional<uint64_t> length;
    offset = 0;
    for (const auto& entry : tensor.external_data()) {
        auto parseNumber = [&](const std::string& text) {
            uint64_t value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc() || end != text.data() + text.size())
                throw Error(subject(info.name),
                            "external data " + entry.key() + " '" + text + "' is not a byte count");
            return value;
        };
        if (entry.key() == "location")
            location = entry.value();
        else if (entry.key() == "offset")
            offset = parseNumber(entry.value());
        else if (entry.key() == "length")
            length = parseNumber(entry.value());
    }
    if (location.empty())
        throw Error(subject(info.name), "external data without a location");
    const std::filesystem::path relative(location);
    if (relative.is_absolute() || relative.has_root_name())
        throw Error(subject(info.name),
                    "external data location '" + location + "' must be relative to the model's folder");
    for (const auto& part : relative) {
        if (part == "..")
            throw Error(subject(info.name),
                        "external data location '" + location + "' leaves the model's folder");
    }
    if (length && *length != info.bytes)
        throw Error(subject(info.name), "external data length " + std::to_string(*length) +
                                            " bytes but shape " + shapeToString(info.shape) + " needs " +
                                            std::to_string(info.bytes));
    const auto file = std::filesystem::path(m_directory) / relative;
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(file, ec);
    if (ec)
        throw Error(subject(info.name), "external data file " + file.string() + ": " + ec.message());
    if (offset > size || info.bytes > size - offset)
        throw Error(subject(info.name), "external data range [" + std::to_string(offset) + ", +" +
                                            std::to_string(info.bytes) + ") lies past the end of " +
                                            file.string() + " (" + std::to_string(size) + " bytes)");
}

std::vector<uint8_t> OnnxModelFile::externalBytes(const onnx::TensorProto& tensor,
                                                  const TensorInfo& info) const {
    uint64_t offset = 0;
    checkExternal(tensor, info, offset); // again: the file may have changed since it was listed
    std::string location;
    for (const auto& entry : tensor.external_data()) {
        if (entry.key() == "location")
            location = entry.value();
    }
    const auto file = std::filesystem::path(m_directory) / location;
    std::vector<uint8_t> bytes(info.bytes);
    try {
        ReadOnlyFile(file.string()).read(offset, std::as_writable_bytes(std::span<uint8_t>(bytes)));
    } catch (const Error& error) {
        throw Error(subject(info.name),
                    "cannot read external data from " + file.string() + ": " + error.detail());
    }
    return bytes;
}

const uint8_t* OnnxModelFile::packedBytes(const onnx::TensorProto& tensor, const TensorInfo& info,
                                          std::vector<uint8_t>& externalData) const {
    if (isFourBit(tensor.data_type())) {
        // Unpacked to one byte per value (int4 sign-extended), read as int8 / uint8 from there.
        std::vector<uint8_t> packed;
        if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
            packed = externalBytes(tensor, info);
        } else if (tensor.has_raw_data()) {
            packed.assign(tensor.raw_data().begin(), tensor.raw_data().end());
        } else {
            for (int32_t byte : tensor.int32_data()) {
                if (byte < 0 || byte > 255)
                    throw Error(subject(info.name), "int32_data entry " + std::to_string(byte) +
                                                        " is not a packed byte (0..255)");
                packed.push_back(static_cast<uint8_t>(byte));
            }
        }
        if (packed.size() != info.bytes)
            throw Error(subject(info.name), "holds " + std::to_string(packed.size()) +
                                                " packed bytes, needs " + std::to_string(info.bytes));
        const bool isSigned = tensor.data_type() == kOnnxInt4;
        externalData.resize(info.elements);
        for (uint64_t i = 0; i < info.elements; ++i) {
            const int nibble = (packed[i / 2] >> (i % 2 ? 4 : 0)) & 0x0f;
            externalData[i] = static_cast<uint8_t>(isSigned && nibble >= 8 ? nibble - 16 : nibble);
        }
        return externalData.data();
    }
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
        externalData = externalBytes(tensor, info);
        return externalData.data();
    }
    if (tensor.has_raw_data())
        return reinterpret_cast<const uint8_t*>(tensor.raw_data().data());
    return nullptr;
}

std::vector<float> OnnxModelFile::readFloats(const onnx::TensorProto& tensor, const TensorInfo& info) const {
    std::vector<float> values(info.elements);
    std::vector<uint8_t> externalData;
    if (const uint8_t* base = packedBytes(tensor, info, externalData)) {
        if (info.dtype == DType::F32) {
            if (info.bytes > 0) // an empty tensor has no buffer to copy into
                std::memcpy(values.data(), base, info.bytes);
        } else {
            for (uint64_t i = 0; i < info.elements; ++i)
                values[i] = static_cast<float>(rawElement(base, info.dtype, i));
        }
        return values;
    }
    for (uint64_t i = 0; i < info.elements; ++i) {
        switch (info.dtype) {
        case DType::F32:
            values[i] = tensor.float_data(static_cast<int>(i));
            break;
        case DType::F64:
            values[i] = static_cast<float>(tensor.double_data(static_cast<int>(i)));
            break;
        case DType::I64:
            values[i] = static_cast<float>(tensor.int64_data(static_cast<int>(i)));
            break;
        case DType::U32:
        case DType::U64:
            values[i] = static_cast<float>(tensor.uint64_data(static_cast<int>(i)));
            break;
        case DType::F16:
            values[i] = halfToFloat(static_cast<uint16_t>(tensor.int32_data(static_cast<int>(i))));
            break;
        case DType::BF16:
            values[i] = bf16ToFloat(static_cast<uint16_t>(tensor.int32_data(static_cast<int>(i))));
            break;
        default:
            values[i] = static_cast<float>(tensor.int32_data(static_cast<int>(i)));
            break;
        }
    }
    return values;
}

std::vector<int64_t> OnnxModelFile::readInts(const onnx::TensorProto& tensor, const TensorInfo& info) const {
    if (!isIntegerType(info.dtype))
        throw Error(subject(info.name),
                    "expected an integer tensor, found " + std::string(dtypeName(info.dtype)));
    std::vector<int64_t> values(info.elements);
    std::vector<uint8_t> externalData;
    if (const uint8_t* base = packedBytes(tensor, info, externalData)) {
        for (uint64_t i = 0; i < info.elements; ++i) {
            if (info.dtype == DType::I64)
                values[i] = loadLittleEndian<int64_t>(base + 8 * i);
            else if (info.dtype == DType::U64)
                values[i] = static_cast<int64_t>(loadLittleEndian<uint64_t>(base + 8 * i));
            else
                values[i] = static_cast<int64_t>(rawElement(base, info.dtype, i));
        }
        return values;
    }
    for (uint64_t i = 0; i < info.elements; ++i) {
        const int index = static_cast<int>(i);
        if (info.dtype == DType::I64)
            values[i] = tensor.int64_data(index);
        else if (info.dtype == DType::U32 || info.dtype == DType::U64)
            values[i] = static_cast<int64_t>(tensor.uint64_data(index));
        else
            values[i] = tensor.int32_data(index);
    }
    return values;
}

} // namespace quantscope
