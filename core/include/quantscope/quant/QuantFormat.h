#pragma once

#include <string>
#include <string_view>

namespace quantscope {

enum class FormatKind { Integer, Fp16, Bf16, Fp8E4M3, Fp8E5M2, Nf4 };

// The number format values are quantized to: intN / uintN (2..16 bits) or a float code.
struct QuantFormat {
    FormatKind kind = FormatKind::Integer;
    int bits = 8;
    bool isSigned = true;

    static QuantFormat integer(int bits, bool isSigned) { return {FormatKind::Integer, bits, isSigned}; }
    // "int8", "uint4", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "nf4". Throws Error("--dtype", ...)
    // naming the allowed values when `name` is none of them or the width is outside 2..16.
    static QuantFormat parse(std::string_view name);
    std::string name() const;

    bool isInteger() const { return kind == FormatKind::Integer; }
    // Bits each stored value takes (scales not counted).
    int storageBits() const;
    // Largest finite magnitude of a float code (448 for e4m3, 57344 for e5m2, 65504 for fp16,
    // 1 for nf4's normalised code book); 0 for integers.
    float floatMax() const;

    bool operator==(const QuantFormat&) const = default;
};

} // namespace quantscope
