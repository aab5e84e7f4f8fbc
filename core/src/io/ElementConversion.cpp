#include "io/ElementConversion.h"

#include "quantscope/Cancellation.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace quantscope::io {
namespace {

template <typename Unsigned> Unsigned byteSwap(Unsigned value) {
    Unsigned swapped = 0;
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
        swapped = static_cast<Unsigned>((swapped << 8) | (value & 0xFF));
        value = static_cast<Unsigned>(value >> 8);
    }
    return swapped;
}

// Reads each element as its raw unsigned bit pattern (memcpy: the data may be unaligned), fixes
// the byte order, and lets `convert` turn the bits into a float.
template <typename Unsigned, typename Convert>
void decodeEach(const std::byte* source, uint64_t count, bool swap, float* destination, Convert convert) {
    for (uint64_t i = 0; i < count; ++i) {
        Unsigned bits;
        std::memcpy(&bits, source + i * sizeof(Unsigned), sizeof(Unsigned));
        if (swap)
            bits = byteSwap(bits);
        destination[i] = convert(bits);
    }
}

} // namespace

ByteOrder hostByteOrder() {
    return std::endian::native == std::endian::big ? ByteOrder::Big : ByteOrder::Little;
}

float halfToFloat(uint16_t bits) {
    const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
    const uint32_t exponent = (bits >> 10) & 0x1Fu;
    uint32_t mantissa = bits & 0x3FFu;
    uint32_t result = 0;
    if (exponent == 0x1F) {
        result = sign | 0x7F800000u | (mantissa << 13); // infinity or NaN, payload kept
    } else if (exponent != 0) {
        result = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        result = sign; // signed zero
    } else {
        // Subnormal half: normalise the mantissa; float32 has the exponent range to hold it.
        uint32_t floatExponent = 127 - 15 + 1;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --floatExponent;
        }
        result = sign | (floatExponent << 23) | ((mantissa & 0x3FFu) << 13);
    }
    return std::bit_cast<float>(result);
}

float bfloat16ToFloat(uint16_t bits) {
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

float fp8E4M3ToFloat(uint8_t bits) {
    const float sign = (bits & 0x80) != 0 ? -1.0f : 1.0f;
    const int exponent = (bits >> 3) & 0xF;
    const int mantissa = bits & 0x7;
    if (exponent == 0xF && mantissa == 0x7)
        return std::numeric_limits<float>::quiet_NaN();
    if (exponent == 0)
        return sign * std::ldexp(static_cast<float>(mantissa), -9); // subnormal: m/8 * 2^-6
    return sign * std::ldexp(static_cast<float>(8 + mantissa), exponent - 7 - 3);
}

float fp8E5M2ToFloat(uint8_t bits) {
    // E5M2 is the top byte of an IEEE binary16.
    return halfToFloat(static_cast<uint16_t>(bits << 8));
}

namespace {
void decodeSlice(DType dtype, ByteOrder order, const std::byte* source, uint64_t count, float* destination) {
    if (count == 0)
        return; // nothing to read; the pointers may be null
    const bool swap = order != hostByteOrder();
    switch (dtype) {
    case DType::F32:
        if (!swap) {
            std::memcpy(destination, source, count * sizeof(float));
            return;
        }
        decodeEach<uint32_t>(source, count, swap, destination,
                             [](uint32_t b) { return std::bit_cast<float>(b); });
        return;
    case DType::F64:
        decodeEach<uint64_t>(source, count, swap, destination,
                             [](uint64_t b) { return static_cast<float>(std::bit_cast<double>(b)); });
        return;
    case DType::F16:
        decodeEach<uint16_t>(source, count, swap, destination, halfToFloat);
        return;
    case DType::BF16:
        decodeEach<uint16_t>(source, count, swap, destination, bfloat16ToFloat);
        return;
    case DType::I64:
        decodeEach<uint64_t>(source, count, swap, destination,
                             [](uint64_t b) { return static_cast<float>(static_cast<int64_t>(b)); });
        return;
    case DType::I32:
        decodeEach<uint32_t>(source, count, swap, destination,
                             [](uint32_t b) { return static_cast<float>(static_cast<int32_t>(b)); });
        return;
    case DType::I16:
        decodeEach<uint16_t>(source, count, swap, destination,
                             [](uint16_t b) { return static_cast<float>(static_cast<int16_t>(b)); });
        return;
    case DType::I8:
        decodeEach<uint8_t>(source, count, false, destination,
                            [](uint8_t b) { return static_cast<float>(static_cast<int8_t>(b)); });
        return;
    case DType::U64:
        decodeEach<uint64_t>(source, count, swap, destination,
                             [](uint64_t b) { return static_cast<float>(b); });
        return;
    case DType::U32:
        decodeEach<uint32_t>(source, count, swap, destination,
                             [](uint32_t b) { return static_cast<float>(b); });
        return;
    case DType::U16:
        decodeEach<uint16_t>(source, count, swap, destination,
                             [](uint16_t b) { return static_cast<float>(b); });
        return;
    case DType::U8:
        decodeEach<uint8_t>(source, count, false, destination,
                            [](uint8_t b) { return static_cast<float>(b); });
        return;
    case DType::Bool:
        decodeEach<uint8_t>(source, count, false, destination,
                            [](uint8_t b) { return b != 0 ? 1.0f : 0.0f; });
        return;
    case DType::F8E4M3:
        decodeEach<uint8_t>(source, count, false, destination, fp8E4M3ToFloat);
        return;
    case DType::F8E5M2:
        decodeEach<uint8_t>(source, count, false, destination, fp8E5M2ToFloat);
        return;
    }
}

} // namespace

void decodeToFloat(DType dtype, ByteOrder order, const std::byte* source, uint64_t count,
                   float* destination) {
    // Large tensors convert in slices so a cancelled job stops within one slice.
    constexpr uint64_t kSliceElements = 4 << 20;
    const uint64_t elementSize = dtypeSize(dtype);
    for (uint64_t done = 0; done < count; done += kSliceElements) {
        throwIfCancelled();
        decodeSlice(dtype, order, source + done * elementSize, std::min(kSliceElements, count - done),
                    destination + done);
    }
}

std::vector<float> fortranToRowMajor(const std::vector<float>& columnMajor,
                                     const std::vector<int64_t>& shape) {
    const std::size_t rank = shape.size();
    if (rank < 2 || columnMajor.empty())
        return columnMajor; // one axis or none: both orders are the same
    // Column-major strides: the first axis varies fastest.
    std::vector<uint64_t> strides(rank, 1);
    for (std::size_t axis = 1; axis < rank; ++axis)
        strides[axis] = strides[axis - 1] * static_cast<uint64_t>(shape[axis - 1]);

    std::vector<float> rowMajor(columnMajor.size());
    std::vector<int64_t> index(rank, 0);
    uint64_t sourceOffset = 0;
    for (float& value : rowMajor) {
        value = columnMajor[sourceOffset];
        // Advance the row-major odometer (last axis fastest), keeping the source offset in step.
        for (std::size_t axis = rank; axis-- > 0;) {
            if (++index[axis] < shape[axis]) {
                sourceOffset += strides[axis];
                break;
            }
            sourceOffset -= strides[axis] * static_cast<uint64_t>(index[axis] - 1);
            index[axis] = 0;
        }
    }
    return rowMajor;
}

} // namespace quantscope::io
