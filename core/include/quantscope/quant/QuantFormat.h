#pragma once

#include <string>
#include <string_view>

namespace quantscope {

// Mxfp4 / Mxfp8E4M3 / Mxfp8E5M2: OCP Microscaling (MX v1.0) — E2M1 / E4M3 / E5M2 elements sharing
// one E8M0 (power-of-two) scale per block of 32. Nvfp4: E2M1 elements, one E4M3 scale per block of
// 16 and one float32 scale per tensor (NVIDIA's NVFP4).
enum class FormatKind { Integer, Fp16, Bf16, Fp8E4M3, Fp8E5M2, Nf4, Mxfp4, Mxfp8E4M3, Mxfp8E5M2, Nvfp4 };

// The number format values are quantized to: intN / uintN (2..16 bits) or a float code.
struct QuantFormat {
    FormatKind kind = FormatKind::Integer;
    int bits = 8;
    bool isSigned = true;

    static QuantFormat integer(int bits, bool isSigned) { return {FormatKind::Integer, bits, isSigned}; }
    // "int8", "uint4", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "nf4", "mxfp4", "mxfp8_e4m3",
    // "mxfp8_e5m2", "nvfp4". Throws Error("--dtype", ...)
    // naming the allowed values when `name` is none of them or the width is outside 2..16.
    static QuantFormat parse(std::string_view name);
    std::string name() const;

    bool isInteger() const { return kind == FormatKind::Integer; }
    // Bits each stored value takes (scales not counted).
    int storageBits() const;
    // Values per shared scale of a block-scaled format (32 for MX, 16 for nvfp4); 0 for the others,
    // whose blocks come from the granularity.
    int blockSize() const;
    bool isBlockScaled() const { return blockSize() > 0; }
    // Exact bits per value of a tensor of `elements` values stored in this format with its scales:
    // mxfp4 4 + 8/32 = 4.25, mxfp8 8.25, nvfp4 4 + 8/16 + 32/elements. For the other formats the
    // scales depend on the granularity (StorageSize.h): this is storageBits().
    double bitsPerValue(int64_t elements) const;
    // Largest finite magnitude of a float code (448 for e4m3, 57344 for e5m2, 65504 for fp16,
    // 1 for nf4's normalised code book, 6 for the E2M1 elements of mxfp4 / nvfp4); 0 for integers.
    float floatMax() const;

    bool operator==(const QuantFormat&) const = default;
};

} // namespace quantscope
