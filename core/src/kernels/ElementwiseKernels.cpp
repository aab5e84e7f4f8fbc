#include "quantscope/kernels/ElementwiseKernels.h"

#include "quantscope/Error.h"

#include <cmath>
#include <string>
#include <vector>

namespace quantscope::kernels {

int32_t integerTypeMin(IntegerType type) {
    switch (type) {
    case IntegerType::Int8:
        return -128;
    case IntegerType::Uint8:
        return 0;
    case IntegerType::Int4:
        return -8;
    case IntegerType::Uint4:
        return 0;
    }
    return 0;
}

int32_t integerTypeMax(IntegerType type) {
    switch (type) {
    case IntegerType::Int8:
        return 127;
    case IntegerType::Uint8:
        return 255;
    case IntegerType::Int4:
        return 7;
    case IntegerType::Uint4:
        return 15;
    }
    return 0;
}

size_t quantizedBytes(IntegerType type, size_t count) {
    return type == IntegerType::Int4 || type == IntegerType::Uint4 ? (count + 1) / 2 : count;
}

namespace {

bool isSigned(IntegerType type) {
    return type == IntegerType::Int8 || type == IntegerType::Int4;
}
bool isNibble(IntegerType type) {
    return type == IntegerType::Int4 || type == IntegerType::Uint4;
}

void checkRuns(size_t count, const ParamRuns& runs, IntegerType type) {
    if (runs.count == 0 || runs.runLength == 0 || !runs.scales || !runs.zeroPoints)
        throw Error("quantization parameters",
                    "need at least one scale and zero point and a run length >= 1");
    if (count % runs.runLength != 0)
        throw Error("quantization parameters", "run length " + std::to_string(runs.runLength) +
                                                   " does not divide the element count " +
                                                   std::to_string(count));
    for (size_t i = 0; i < runs.count; ++i) {
        const float scale = runs.scales[i];
        if (!(scale > 0.0f) || !std::isfinite(scale) || !std::isfinite(1.0f / scale))
            throw Error("quantization parameters",
                        "scale " + std::to_string(i) +
                            " must be positive, finite and have a finite reciprocal");
        if (runs.zeroPoints[i] < integerTypeMin(type) || runs.zeroPoints[i] > integerTypeMax(type))
            throw Error("quantization parameters", "zero point " + std::to_string(runs.zeroPoints[i]) +
                                                       " is outside [" +
                                                       std::to_string(integerTypeMin(type)) + ", " +
                                                       std::to_string(integerTypeMax(type)) + "]");
    }
}

// Calls f(parameterIndex, first, length) for each run in element order.
template <class F> void forEachRun(size_t count, const ParamRuns& runs, F&& f) {
    for (size_t first = 0, run = 0; first < count; first += runs.runLength, ++run)
        f(run % runs.count, first, runs.runLength);
}

constexpr size_t kChunk = 4096;

} // namespace

void quantize(const KernelTable& path, const float* x, size_t count, const ParamRuns& runs, IntegerType type,
              void* out) {
    checkRuns(count, runs, type);
    const int32_t lo = integerTypeMin(type), hi = integerTypeMax(type);
    if (!isNibble(type)) {
        forEachRun(count, runs, [&](size_t param, size_t first, size_t length) {
            const float inverse = 1.0f / runs.scales[param];
            if (type == IntegerType::Int8)
                path.quantizeS8(x + first, length, inverse, runs.zeroPoints[param], lo, hi,
                                static_cast<int8_t*>(out) + first);
            else
                path.quantizeU8(x + first, length, inverse, runs.zeroPoints[param], lo, hi,
                                static_cast<uint8_t*>(out) + first);
        });
        return;
    }
    // 4-bit: quantize a chunk to bytes with the 8-bit kernel (clamped to the 4-bit range), then
    // pack pairs. Runs may start at odd elements, so packing works on absolute element indices.
    auto* packed = static_cast<uint8_t*>(out);
    std::vector<int8_t> bytes(kChunk);
    forEachRun(count, runs, [&](size_t param, size_t first, size_t length) {
        const float inverse = 1.0f / runs.scales[param];
        for (size_t done = 0; done < length; done += kChunk) {
            const size_t n = std::min(kChunk, length - done);
            const size_t start = first + done;
            if (type == IntegerType::Int4)
                path.quantizeS8(x + start, n, inverse, runs.zeroPoints[param], lo, hi, bytes.data());
            else
                path.quantizeU8(x + start, n, inverse, runs.zeroPoints[param], lo, hi,
                                reinterpret_cast<uint8_t*>(bytes.data()));
            for (size_t i = 0; i < n; ++i) {
                const size_t element = start + i;
                const auto nibble = static_cast<uint8_t>(static_cast<uint8_t>(bytes[i]) & 0x0F);
                uint8_t& byte = packed[element / 2];
                byte = element % 2 == 0 ? static_cast<uint8_t>((byte & 0xF0) | nibble)
                                        : static_cast<uint8_t>((byte & 0x0F) | (nibble << 4));
            }
        }
    });
    if (count % 2)
        packed[count / 2] &= 0x0F; // the unused high nibble of an odd count is zero
}

void dequantize(const KernelTable& path, const void* q, size_t count, const ParamRuns& runs, IntegerType type,
                float* x) {
    checkRuns(count, runs, type);
    if (!isNibble(type)) {
        forEachRun(count, runs, [&](size_t param, size_t first, size_t length) {
            if (type == IntegerType::Int8)
                path.dequantizeS8(static_cast<const int8_t*>(q) + first, length, runs.scales[param],
                                  runs.zeroPoints[param], x + first);
            else
                path.dequantizeU8(static_cast<const uint8_t*>(q) + first, length, runs.scales[param],
                                  runs.zeroPoints[param], x + first);
        });
        return;
    }
    const auto* packed = static_cast<const uint8_t*>(q);
    std::vector<int8_t> bytes(kChunk);
    forEachRun(count, runs, [&](size_t param, size_t first, size_t length) {
        for (size_t done = 0; done < length; done += kChunk) {
            const size_t n = std::min(kChunk, length - done);
            const size_t start = first + done;
            for (size_t i = 0; i < n; ++i) {
                const size_t element = start + i;
                const uint8_t byte = packed[element / 2];
                const int nibble = element % 2 == 0 ? (byte & 0x0F) : (byte >> 4);
                bytes[i] = static_cast<int8_t>(isSigned(type) && nibble >= 8 ? nibble - 16 : nibble);
            }
            if (type == IntegerType::Int4)
                path.dequantizeS8(bytes.data(), n, runs.scales[param], runs.zeroPoints[param], x + start);
            else
                path.dequantizeU8(reinterpret_cast<const uint8_t*>(bytes.data()), n, runs.scales[param],
                                  runs.zeroPoints[param], x + start);
        }
    });
}

void fakeQuantize(const KernelTable& path, const float* x, size_t count, const ParamRuns& runs,
                  IntegerType type, float* y) {
    std::vector<uint8_t> q(quantizedBytes(type, count));
    quantize(path, x, count, runs, type, q.data());
    dequantize(path, q.data(), count, runs, type, y);
}

} // namespace quantscope::kernels
