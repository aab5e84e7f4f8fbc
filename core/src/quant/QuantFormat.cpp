#include "quantscope/quant/QuantFormat.h"

#include "quantscope/Error.h"
#include "quantscope/io/GgmlType.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace quantscope {
namespace {

constexpr const char* kAllowedFormats = "allowed: int2..int16, uint2..uint16, fp16, bf16, fp8_e4m3, "
                                        "fp8_e5m2, nf4, mxfp4, mxfp8_e4m3, mxfp8_e5m2, "
                                        "nvfp4, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q6_k";

// llama.cpp's block formats: the bits of each stored value (the level), and ggml's type.
struct GgmlFormat {
    FormatKind kind;
    std::string_view name;
    int valueBits;
    GgmlType type;
};
constexpr std::array<GgmlFormat, 7> kGgmlFormats{{
    {FormatKind::GgmlQ8_0, "q8_0", 8, GgmlType::Q8_0},
    {FormatKind::GgmlQ4_0, "q4_0", 4, GgmlType::Q4_0},
    {FormatKind::GgmlQ4_1, "q4_1", 4, GgmlType::Q4_1},
    {FormatKind::GgmlQ5_0, "q5_0", 5, GgmlType::Q5_0},
    {FormatKind::GgmlQ5_1, "q5_1", 5, GgmlType::Q5_1},
    {FormatKind::GgmlQ4_K, "q4_k", 4, GgmlType::Q4_K},
    {FormatKind::GgmlQ6_K, "q6_k", 6, GgmlType::Q6_K},
}};

const GgmlFormat& ggmlFormatOf(FormatKind kind) {
    for (const GgmlFormat& format : kGgmlFormats)
        if (format.kind == kind)
            return format;
    throw Error("--dtype", "not one of ggml's block formats");
}

} // namespace

GgmlType ggmlTypeOf(const QuantFormat& format) {
    return ggmlFormatOf(format.kind).type;
}

QuantFormat QuantFormat::parse(std::string_view name) {
    if (name == "fp16")
        return {FormatKind::Fp16, 16, true};
    if (name == "bf16")
        return {FormatKind::Bf16, 16, true};
    if (name == "fp8_e4m3" || name == "fp8-e4m3" || name == "e4m3")
        return {FormatKind::Fp8E4M3, 8, true};
    if (name == "fp8_e5m2" || name == "fp8-e5m2" || name == "e5m2")
        return {FormatKind::Fp8E5M2, 8, true};
    if (name == "nf4")
        return {FormatKind::Nf4, 4, true};
    if (name == "mxfp4")
        return {FormatKind::Mxfp4, 4, true};
    if (name == "mxfp8_e4m3" || name == "mxfp8-e4m3")
        return {FormatKind::Mxfp8E4M3, 8, true};
    if (name == "mxfp8_e5m2" || name == "mxfp8-e5m2")
        return {FormatKind::Mxfp8E5M2, 8, true};
    if (name == "nvfp4")
        return {FormatKind::Nvfp4, 4, true};
    // ggml spells them "q4_K", llama.cpp's tools "Q4_K": any case is accepted.
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const GgmlFormat& format : kGgmlFormats)
        if (lower == format.name)
            return {format.kind, format.valueBits, true};

    bool isSigned = true;
    std::string_view digits;
    if (name.starts_with("uint")) {
        isSigned = false;
        digits = name.substr(4);
    } else if (name.starts_with("int")) {
        digits = name.substr(3);
    } else {
        throw Error("--dtype", "unknown format '" + std::string(name) + "' (" + kAllowedFormats + ")");
    }
    int bits = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
        throw Error("--dtype", "unknown format '" + std::string(name) + "' (" + kAllowedFormats + ")");
    if (bits < 2 || bits > 16)
        throw Error("--dtype", "bit width " + std::to_string(bits) + " of '" + std::string(name) +
                                   "' is out of range (allowed: 2..16)");
    return integer(bits, isSigned);
}

std::string QuantFormat::name() const {
    switch (kind) {
    case FormatKind::Integer:
        return (isSigned ? "int" : "uint") + std::to_string(bits);
    case FormatKind::Fp16:
        return "fp16";
    case FormatKind::Bf16:
        return "bf16";
    case FormatKind::Fp8E4M3:
        return "fp8_e4m3";
    case FormatKind::Fp8E5M2:
        return "fp8_e5m2";
    case FormatKind::Nf4:
        return "nf4";
    case FormatKind::Mxfp4:
        return "mxfp4";
    case FormatKind::Mxfp8E4M3:
        return "mxfp8_e4m3";
    case FormatKind::Mxfp8E5M2:
        return "mxfp8_e5m2";
    case FormatKind::Nvfp4:
        return "nvfp4";
    default:
        return std::string(ggmlFormatOf(kind).name);
    }
}

int QuantFormat::storageBits() const {
    switch (kind) {
    case FormatKind::Integer:
        return bits;
    case FormatKind::Fp16:
    case FormatKind::Bf16:
        return 16;
    case FormatKind::Fp8E4M3:
    case FormatKind::Fp8E5M2:
    case FormatKind::Mxfp8E4M3:
    case FormatKind::Mxfp8E5M2:
        return 8;
    case FormatKind::Nf4:
    case FormatKind::Mxfp4:
    case FormatKind::Nvfp4:
        return 4;
    default:
        return ggmlFormatOf(kind).valueBits;
    }
}

int QuantFormat::blockSize() const {
    switch (kind) {
    case FormatKind::Mxfp4:
    case FormatKind::Mxfp8E4M3:
    case FormatKind::Mxfp8E5M2:
        return 32;
    case FormatKind::Nvfp4:
        return 16;
    default:
        return isGgml() ? static_cast<int>(ggmlTypeTraits(ggmlTypeOf(*this)).blockElements) : 0;
    }
}

double QuantFormat::bitsPerValue(int64_t elements) const {
    const double valueBits = storageBits();
    if (!isBlockScaled())
        return valueBits;
    if (isGgml()) {
        const GgmlTypeTraits& traits = ggmlTypeTraits(ggmlTypeOf(*this));
        return 8.0 * traits.blockBytes / traits.blockElements;
    }
    // One 8-bit scale (E8M0 for MX, E4M3 for nvfp4) per block; nvfp4 adds one float32 per tensor.
    const double perBlock = 8.0 / blockSize();
    const double perTensor =
        kind == FormatKind::Nvfp4 && elements > 0 ? 32.0 / static_cast<double>(elements) : 0.0;
    return valueBits + perBlock + perTensor;
}

float QuantFormat::floatMax() const {
    switch (kind) {
    case FormatKind::Integer:
        return 0.0f;
    case FormatKind::Fp16:
        return 65504.0f;
    case FormatKind::Bf16:
        return 3.38953139e38f;
    case FormatKind::Fp8E4M3:
    case FormatKind::Mxfp8E4M3:
        return 448.0f;
    case FormatKind::Fp8E5M2:
    case FormatKind::Mxfp8E5M2:
        return 57344.0f;
    case FormatKind::Nf4:
        return 1.0f;
    case FormatKind::Mxfp4:
    case FormatKind::Nvfp4:
        return 6.0f;
    default:
        return 0.0f;
    }
}

} // namespace quantscope
