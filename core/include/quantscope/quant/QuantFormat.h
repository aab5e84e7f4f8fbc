#pragma once

#include "quantscope/io/GgmlType.h"

#include <string>
#include <string_view>

namespace quantscope {

// Mxfp4 / Mxfp8E4M3 / Mxfp8E5M2: OCP Microscaling (MX v1.0) — E2M1 / E4M3 / E5M2 elements sharing
// one E8M0 (power-of-two) scale per block of 32. Nvfp4: E2M1 elements, one E4M3 scale per block of
// 16 and one float32 scale per tensor (NVIDIA's NVFP4). GgmlQ8_0 ... GgmlQ6_K: llama.cpp's block
// formats, quantized by ggml's reference quantizers (GgmlBlockQuantizer.h), blocks of 32 values
// (q8_0, q4_0, q4_1, q5_0, q5_1) or super-blocks of 256 (q4_k, q6_k) along the rows.
enum class FormatKind {
    Integer,
    Fp16,
    Bf16,
    Fp8E4M3,
    Fp8E5M2,
    Nf4,
    Mxfp4,
    Mxfp8E4M3,
    Mxfp8E5M2,
    Nvfp4,
    GgmlQ8_0,
    GgmlQ4_0,
    GgmlQ4_1,
    GgmlQ5_0,
    GgmlQ5_1,
    GgmlQ4_K,
    GgmlQ6_K
};

// The number format values are quantized to: intN / uintN (2..16 bits) or a float code.
struct QuantFormat {
    FormatKind kind = FormatKind::Integer;
    int bits = 8;
    bool isSigned = true;

    static QuantFormat integer(int bits, bool isSigned) { return {FormatKind::Integer, bits, isSigned}; }
    // "int8", "uint4", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "nf4", "mxfp4", "mxfp8_e4m3",
    // "mxfp8_e5m2", "nvfp4", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k". Throws Error("--dtype",
    // ...) naming the allowed values when `name` is none of them or the width is outside 2..16.
    static QuantFormat parse(std::string_view name);
    std::string name() const;

    bool isInteger() const { return kind == FormatKind::Integer; }
    // One of llama.cpp's block formats: the quantizer chooses every block's parameters itself
    // (no calibration, no fixed parameters), for weights only.
    bool isGgml() const { return kind >= FormatKind::GgmlQ8_0; }
    // Bits each stored value takes (scales not counted).
    int storageBits() const;
    // Values per shared scale of a block-scaled format (32 for MX and ggml's q8_0...q5_1, 16 for
    // nvfp4, 256 for ggml's k-quants); 0 for the others, whose blocks come from the granularity.
    int blockSize() const;
    bool isBlockScaled() const { return blockSize() > 0; }
    // Exact bits per value of a tensor of `elements` values stored in this format with its scales:
    // mxfp4 4 + 8/32 = 4.25, mxfp8 8.25, nvfp4 4 + 8/16 + 32/elements, ggml's block bytes * 8 /
    // block values (q8_0 8.5, q4_0 4.5, q4_k 4.5, q6_k 6.5625). For the other formats the
    // scales depend on the granularity (StorageSize.h): this is storageBits().
    double bitsPerValue(int64_t elements) const;
    // Largest finite magnitude of a float code (448 for e4m3, 57344 for e5m2, 65504 for fp16,
    // 1 for nf4's normalised code book, 6 for the E2M1 elements of mxfp4 / nvfp4); 0 for integers.
    float floatMax() const;

    bool operator==(const QuantFormat&) const = default;
};

// ggml's type of one of the block formats (format.isGgml()); throws Error for the others.
GgmlType ggmlTypeOf(const QuantFormat& format);

} // namespace quantscope
