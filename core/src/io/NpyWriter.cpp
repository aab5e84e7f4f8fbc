#include "quantscope/io/NpyWriter.h"

#include "quantscope/Error.h"
#include "quantscope/io/AtomicFile.h"
#include "quantscope/io/NpyHeader.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <bit>

namespace quantscope {
namespace {

void checkShape(const std::vector<int64_t>& shape, std::size_t valueCount, const std::string& subject) {
    uint64_t elements = 0;
    if (!checkedElementCount(shape, elements) || elements != valueCount)
        throw Error(subject, "shape " + shapeToString(shape) + " does not match its " +
                                 std::to_string(valueCount) + " values");
}

// Appends the low `bytes` bytes of `bits`, least significant first (little endian on any host).
void appendLittleEndian(std::string& out, uint32_t bits, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i)
        out += static_cast<char>((bits >> (8 * i)) & 0xFF);
}

} // namespace

std::string NpyWriter::encodeFloat32(const std::vector<int64_t>& shape, std::span<const float> values,
                                     const std::string& subject) {
    checkShape(shape, values.size(), subject);
    std::string out = NpyHeader::encode(NpyHeader::descrOf(DType::F32), shape);
    out.reserve(out.size() + values.size() * 4);
    for (float value : values)
        appendLittleEndian(out, std::bit_cast<uint32_t>(value), 4);
    return out;
}

DType NpyWriter::narrowestIntegerType(std::span<const int32_t> values) {
    if (values.empty())
        return DType::U8;
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    if (*low >= 0)
        return *high <= 0xFF ? DType::U8 : *high <= 0xFFFF ? DType::U16 : DType::I32;
    if (*low >= -128 && *high <= 127)
        return DType::I8;
    if (*low >= -32768 && *high <= 32767)
        return DType::I16;
    return DType::I32;
}

std::string NpyWriter::encodeIntegers(const std::vector<int64_t>& shape, std::span<const int32_t> values,
                                      const std::string& subject) {
    checkShape(shape, values.size(), subject);
    const DType dtype = narrowestIntegerType(values);
    const std::size_t size = dtypeSize(dtype);
    std::string out = NpyHeader::encode(NpyHeader::descrOf(dtype), shape);
    out.reserve(out.size() + values.size() * size);
    // Two's complement truncation to the chosen width keeps each value, since all of them fit.
    for (int32_t value : values)
        appendLittleEndian(out, static_cast<uint32_t>(value), size);
    return out;
}

void NpyWriter::writeFloat32(const std::string& path, const std::vector<int64_t>& shape,
                             std::span<const float> values) {
    writeFileAtomically(path, encodeFloat32(shape, values, path));
}

DType NpyWriter::writeIntegers(const std::string& path, const std::vector<int64_t>& shape,
                               std::span<const int32_t> values) {
    writeFileAtomically(path, encodeIntegers(shape, values, path));
    return narrowestIntegerType(values);
}

} // namespace quantscope
