#include "quantscope/io/NpyHeader.h"

#include "io/ElementConversion.h"
#include "quantscope/Error.h"

#include <array>
#include <cstring>
#include <limits>
#include <optional>

namespace quantscope {
namespace {

constexpr std::array<unsigned char, 6> kMagic{0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kAlignment = 64; // NumPy aligns the data start to 64 bytes

struct NpyType {
    std::string_view code; // kind letter and byte size, as in '<f4'
    DType dtype;
};

constexpr std::array<NpyType, 12> kTypes{{
    {"f2", DType::F16},
    {"f4", DType::F32},
    {"f8", DType::F64},
    {"i1", DType::I8},
    {"i2", DType::I16},
    {"i4", DType::I32},
    {"i8", DType::I64},
    {"u1", DType::U8},
    {"u2", DType::U16},
    {"u4", DType::U32},
    {"u8", DType::U64},
    {"b1", DType::Bool},
}};

const char* const kSupportedTypes = "f2, f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1 in either byte order";

// Reads the Python dict literal NumPy writes as the header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// Only the three keys and the literal forms NumPy produces are accepted.
class DictLiteralParser {
public:
    DictLiteralParser(std::string_view text, const std::string& subject) : m_text(text), m_subject(subject) {}

    void parse(std::string& descr, bool& fortranOrder, std::vector<int64_t>& shape) {
        bool haveDescr = false;
        bool haveOrder = false;
        bool haveShape = false;
        expect('{');
        while (true) {
            skipSpace();
            if (peek() == '}') {
                ++m_pos;
                break;
            }
            const std::string key = readString("a quoted key");
            expect(':');
            skipSpace();
            if (key == "descr") {
                if (peek() == '[')
                    throw Error(m_subject, "unsupported dtype: structured arrays (a list of fields) are not "
                                           "supported, only plain numeric arrays");
                descr = readString("the dtype string after 'descr'");
                haveDescr = markOnce(haveDescr, key);
            } else if (key == "fortran_order") {
                fortranOrder = readBool();
                haveOrder = markOnce(haveOrder, key);
            } else if (key == "shape") {
                shape = readShape();
                haveShape = markOnce(haveShape, key);
            } else {
                malformed("unexpected key '" + key + "'");
            }
            skipSpace();
            if (peek() == ',')
                ++m_pos;
            else if (peek() != '}')
                malformed("expected ',' or '}' after the value of '" + key + "'");
        }
        skipSpace();
        if (m_pos != m_text.size())
            malformed("unexpected text after the closing '}'");
        if (!haveDescr || !haveOrder || !haveShape)
            malformed("the header must give 'descr', 'fortran_order' and 'shape'");
    }

private:
    [[noreturn]] void malformed(const std::string& what) const {
        throw Error(m_subject,
                    "malformed .npy header: " + what + " (at character " + std::to_string(m_pos) + ")");
    }

    bool markOnce(bool seen, const std::string& key) const {
        if (seen)
            malformed("key '" + key + "' appears twice");
        return true;
    }

    char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }

    void skipSpace() {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' ||
                                         m_text[m_pos] == '\n' || m_text[m_pos] == '\r'))
            ++m_pos;
    }

    void expect(char c) {
        skipSpace();
        if (peek() != c)
            malformed(std::string("expected '") + c + "'");
        ++m_pos;
    }

    std::string readString(const char* what) {
        skipSpace();
        const char quote = peek();
        if (quote != '\'' && quote != '"')
            malformed(std::string("expected ") + what);
        const std::size_t start = ++m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] != quote) {
            if (m_text[m_pos] == '\\')
                malformed("escape sequences are not expected in a .npy header");
            ++m_pos;
        }
        if (m_pos >= m_text.size())
            malformed("unterminated string");
        return std::string(m_text.substr(start, m_pos++ - start));
    }

    bool readBool() {
        if (m_text.substr(m_pos, 4) == "True") {
            m_pos += 4;
            return true;
        }
        if (m_text.substr(m_pos, 5) == "False") {
            m_pos += 5;
            return false;
        }
        malformed("'fortran_order' must be True or False");
    }

    std::vector<int64_t> readShape() {
        if (peek() != '(')
            malformed("'shape' must be a tuple of integers");
        ++m_pos;
        std::vector<int64_t> shape;
        while (true) {
            skipSpace();
            if (peek() == ')') {
                ++m_pos;
                return shape;
            }
            shape.push_back(readDimension());
            skipSpace();
            if (peek() == ',')
                ++m_pos;
            else if (peek() != ')')
                malformed("expected ',' or ')' in 'shape'");
        }
    }

    int64_t readDimension() {
        if (peek() == '-')
            throw Error(m_subject, "shape has a negative dimension");
        if (peek() < '0' || peek() > '9')
            malformed("'shape' must hold non-negative integers");
        constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        uint64_t value = 0;
        while (peek() >= '0' && peek() <= '9') {
            const auto digit = static_cast<uint64_t>(peek() - '0');
            if (value > (kMax - digit) / 10)
                throw Error(m_subject, "shape dimension is larger than 2^63 - 1");
            value = value * 10 + digit;
            ++m_pos;
        }
        if (peek() == 'L') // Python 2 long literals, found in old files
            ++m_pos;
        return static_cast<int64_t>(value);
    }

    std::string_view m_text;
    const std::string& m_subject;
    std::size_t m_pos = 0;
};

// Splits '<f4' into its byte order and type; nullopt for anything unsupported.
std::optional<DType> typeOfDescr(const std::string& descr, bool& bigEndian) {
    std::string_view code = descr;
    char order = '=';
    if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
        order = code[0];
        code.remove_prefix(1);
    }
    // '|' (order not applicable) and '=' (native) both mean the writer's own order, which NumPy
    // only writes for single bytes; read them as this machine's order.
    bigEndian = order == '>' || ((order == '|' || order == '=') && io::hostByteOrder() == io::ByteOrder::Big);
    for (const auto& type : kTypes)
        if (type.code == code)
            return type.dtype;
    return std::nullopt;
}

std::string shapeTuple(const std::vector<int64_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1)
        text += ",";
    return text + ")";
}

} // namespace

uint64_t NpyHeader::headerSize(std::span<const std::byte> prefix, const std::string& subject) {
    if (prefix.size() < kMagic.size() || std::memcmp(prefix.data(), kMagic.data(), kMagic.size()) != 0)
        throw Error(subject, "not a .npy array: bad magic (expected the bytes \\x93NUMPY)");
    if (prefix.size() < 10)
        throw Error(subject, "truncated .npy header (" + std::to_string(prefix.size()) + " bytes)");
    const auto major = static_cast<uint8_t>(prefix[6]);
    const auto minor = static_cast<uint8_t>(prefix[7]);
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        throw Error(subject, "unsupported .npy format version " + std::to_string(major) + "." +
                                 std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
    const std::size_t lengthBytes = major == 1 ? 2 : 4;
    if (prefix.size() < 8 + lengthBytes)
        throw Error(subject, "truncated .npy header (" + std::to_string(prefix.size()) + " bytes)");
    uint64_t textLength = 0;
    for (std::size_t i = lengthBytes; i-- > 0;)
        textLength = (textLength << 8) | static_cast<uint8_t>(prefix[8 + i]);
    if (textLength > kMaxHeaderTextBytes)
        throw Error(subject, "header length " + std::to_string(textLength) + " is absurd (at most " +
                                 std::to_string(kMaxHeaderTextBytes) + " bytes)");
    return 8 + lengthBytes + textLength;
}

NpyHeader NpyHeader::parse(std::span<const std::byte> bytes, const std::string& subject) {
    NpyHeader header;
    header.m_dataOffset = headerSize(bytes, subject);
    if (bytes.size() < header.m_dataOffset)
        throw Error(subject, "truncated .npy header: it needs " + std::to_string(header.m_dataOffset) +
                                 " bytes, the file has " + std::to_string(bytes.size()));
    header.m_majorVersion = static_cast<uint8_t>(bytes[6]);
    const std::size_t textStart = header.m_majorVersion == 1 ? 10 : 12;
    // Version 3 headers are UTF-8 and 1/2 are Latin-1; the accepted literals are ASCII either way.
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + textStart,
                                static_cast<std::size_t>(header.m_dataOffset) - textStart);

    DictLiteralParser(text, subject).parse(header.m_descr, header.m_fortranOrder, header.m_shape);

    const auto dtype = typeOfDescr(header.m_descr, header.m_bigEndian);
    if (!dtype)
        throw Error(subject,
                    "unsupported dtype '" + header.m_descr + "' (supported: " + kSupportedTypes + ")");
    header.m_dtype = *dtype;
    if (!checkedElementCount(header.m_shape, header.m_elements))
        throw Error(subject, "element count of shape " + shapeToString(header.m_shape) + " overflows");
    const uint64_t elementSize = dtypeSize(header.m_dtype);
    if (header.m_elements > std::numeric_limits<uint64_t>::max() / elementSize)
        throw Error(subject, "byte size of shape " + shapeToString(header.m_shape) + " overflows");
    header.m_dataBytes = header.m_elements * elementSize;
    return header;
}

std::string NpyHeader::encode(std::string_view descr, const std::vector<int64_t>& shape) {
    std::string text = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': " + shapeTuple(shape) + ", }";
    // Pad with spaces and end with a newline so magic + version + length + text fill whole
    // 64-byte blocks.
    const std::size_t unpadded = 10 + text.size() + 1;
    text.append((kAlignment - unpadded % kAlignment) % kAlignment, ' ');
    text += '\n';
    if (text.size() > 0xFFFF)
        throw Error("npy header", "shape " + shapeToString(shape) + " is too long for a version 1.0 header");

    std::string header(reinterpret_cast<const char*>(kMagic.data()), kMagic.size());
    header += '\x01';
    header += '\x00';
    header += static_cast<char>(text.size() & 0xFF);
    header += static_cast<char>((text.size() >> 8) & 0xFF);
    return header + text;
}

std::string NpyHeader::descrOf(DType dtype) {
    for (const auto& type : kTypes)
        if (type.dtype == dtype)
            return (dtypeSize(dtype) == 1 ? "|" : "<") + std::string(type.code);
    throw Error(std::string(dtypeName(dtype)), "has no NumPy equivalent");
}

TensorInfo NpyHeader::info(const std::string& name) const {
    TensorInfo tensorInfo;
    tensorInfo.name = name;
    tensorInfo.dtype = m_dtype;
    tensorInfo.shape = m_shape;
    tensorInfo.elements = m_elements;
    tensorInfo.bytes = m_dataBytes;
    return tensorInfo;
}

Tensor NpyHeader::decode(const std::string& name, std::span<const std::byte> data) const {
    if (data.size() < m_dataBytes)
        throw Error(name, "truncated data: " + std::to_string(m_dataBytes) + " bytes needed, " +
                              std::to_string(data.size()) + " present");
    std::vector<float> values(static_cast<std::size_t>(m_elements));
    io::decodeToFloat(m_dtype, m_bigEndian ? io::ByteOrder::Big : io::ByteOrder::Little, data.data(),
                      m_elements, values.data());
    if (m_fortranOrder)
        values = io::fortranToRowMajor(values, m_shape);
    return Tensor(name, m_shape, std::move(values));
}

} // namespace quantscope
