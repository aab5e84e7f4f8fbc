#include "quantscope/quant/FloatCodes.h"

#include <algorithm>
#include <cmath>

namespace quantscope {
namespace {

// A binary float format with `mantissaBits` stored fraction bits, normal exponents from
// `minExponent` and largest finite value `maxFinite` (IEEE-style, subnormals included).
struct MiniFloat {
    int exponentBits;
    int mantissaBits;
    int minExponent;
    float maxFinite;
};

constexpr MiniFloat kFp16{5, 10, -14, 65504.0f};
constexpr MiniFloat kBf16{8, 7, -126, 3.38953139e38f};
constexpr MiniFloat kE4M3{4, 3, -6, 448.0f};
constexpr MiniFloat kE5M2{5, 2, -14, 57344.0f};
constexpr MiniFloat kE2M1{2, 1, 0, 6.0f};

// Rounds to the nearest representable value, ties to even, saturating at ±maxFinite. Dividing by
// the quantum (a power of two) is exact, so nearbyint sees the exact quotient.
float roundTo(const MiniFloat& format, float x, uint32_t& code) {
    code = 0;
    if (std::isnan(x) || x == 0.0f)
        return 0.0f;
    const bool negative = std::signbit(x);
    float magnitude = std::fabs(x);
    float rounded;
    if (magnitude >= format.maxFinite) {
        rounded = format.maxFinite;
    } else {
        const int exponent = std::max(std::ilogb(magnitude), format.minExponent);
        const float quantum = std::ldexp(1.0f, exponent - format.mantissaBits);
        rounded = std::nearbyint(magnitude / quantum) * quantum;
        rounded = std::min(rounded, format.maxFinite);
    }
    // The code is the format's bit pattern, used only to tell levels apart.
    uint32_t exponentField = 0;
    uint32_t mantissa = 0;
    if (rounded != 0.0f) {
        const int exponent = std::ilogb(rounded);
        if (exponent < format.minExponent) {
            mantissa = static_cast<uint32_t>(std::ldexp(rounded, format.mantissaBits - format.minExponent));
        } else {
            const int bias = (1 << (format.exponentBits - 1)) - 1;
            exponentField = static_cast<uint32_t>(exponent + bias);
            mantissa = static_cast<uint32_t>(std::ldexp(rounded, format.mantissaBits - exponent)) -
                       (uint32_t{1} << format.mantissaBits);
        }
    }
    code = (static_cast<uint32_t>(negative) << (format.exponentBits + format.mantissaBits)) |
           (exponentField << format.mantissaBits) | mantissa;
    return negative ? -rounded : rounded;
}

// bitsandbytes' NF4 data type (Dettmers et al. 2023, QLoRA): quantiles of N(0, 1) normalised
// to [-1, 1] with an exact zero; values copied from bitsandbytes/functional.py.
constexpr std::array<float, 16> kNf4{
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

} // namespace

float roundToFp16(float x, uint32_t& code) {
    return roundTo(kFp16, x, code);
}
float roundToBf16(float x, uint32_t& code) {
    return roundTo(kBf16, x, code);
}
float roundToFp8E4M3(float x, uint32_t& code) {
    return roundTo(kE4M3, x, code);
}
float roundToFp8E5M2(float x, uint32_t& code) {
    return roundTo(kE5M2, x, code);
}

float roundToFp4E2M1(float x, uint32_t& code) {
    return roundTo(kE2M1, x, code);
}

float mxBlockScale(float amax, const QuantFormat& format) {
    if (!(amax > 0.0f) || !std::isfinite(amax))
        return std::ldexp(1.0f, -127);
    const int emaxElement = format.kind == FormatKind::Mxfp4       ? 2
                            : format.kind == FormatKind::Mxfp8E4M3 ? 8
                                                                   : 15;
    const int exponent = std::clamp(std::ilogb(amax) - emaxElement, -127, 127);
    return std::ldexp(1.0f, exponent);
}

float nvfp4TensorScale(float tensorAmax) {
    if (!(tensorAmax > 0.0f) || !std::isfinite(tensorAmax))
        return 1.0f;
    return tensorAmax / (448.0f * 6.0f);
}

float nvfp4BlockScale(float blockAmax, float tensorScale) {
    uint32_t code = 0;
    float blockScale = roundToFp8E4M3(blockAmax / 6.0f / tensorScale, code);
    if (blockScale == 0.0f)
        blockScale = std::ldexp(1.0f, -9);
    return blockScale * tensorScale;
}

const std::array<float, 16>& nf4CodeBook() {
    return kNf4;
}

uint32_t nearestNf4(float x) {
    // Midpoints between neighbours decide; ties go to the lower code.
    uint32_t index = 0;
    while (index + 1 < kNf4.size() && x > 0.5f * (kNf4[index] + kNf4[index + 1]))
        ++index;
    return index;
}

float fakeQuantizeFloat(float x, float scale, const QuantFormat& format, uint32_t& code, bool& clipped) {
    const float v = x / scale;
    clipped = std::fabs(v) > format.floatMax();
    switch (format.kind) {
    case FormatKind::Fp16:
        return roundToFp16(v, code) * scale;
    case FormatKind::Bf16:
        return roundToBf16(v, code) * scale;
    case FormatKind::Fp8E4M3:
    case FormatKind::Mxfp8E4M3:
        return roundToFp8E4M3(v, code) * scale;
    case FormatKind::Fp8E5M2:
    case FormatKind::Mxfp8E5M2:
        return roundToFp8E5M2(v, code) * scale;
    case FormatKind::Mxfp4:
    case FormatKind::Nvfp4:
        return roundToFp4E2M1(v, code) * scale;
    case FormatKind::Nf4:
        code = nearestNf4(std::isnan(v) ? 0.0f : v);
        return kNf4[code] * scale;
    default: // integers and ggml's block formats are quantized elsewhere
        break;
    }
    code = 0;
    return x;
}

uint32_t codeCount(const QuantFormat& format, int64_t qmin, int64_t qmax) {
    switch (format.kind) {
    case FormatKind::Integer:
        return static_cast<uint32_t>(qmax - qmin + 1);
    case FormatKind::Fp16:
    case FormatKind::Bf16:
        return 65536;
    case FormatKind::Fp8E4M3:
    case FormatKind::Fp8E5M2:
    case FormatKind::Mxfp8E4M3:
    case FormatKind::Mxfp8E5M2:
        return 256;
    case FormatKind::Nf4:
    case FormatKind::Mxfp4:
    case FormatKind::Nvfp4:
        return 16;
    default: // ggml's block formats: the levels of one stored value
        return uint32_t{1} << format.storageBits();
    }
}

} // namespace quantscope
