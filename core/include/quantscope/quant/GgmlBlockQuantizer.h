#pragma once

#include "quantscope/io/GgmlType.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace quantscope {

// llama.cpp's reference quantizers for its block formats (ggml-quants.c, quantize_row_q8_0_ref,
// _q4_0_ref, _q4_1_ref, _q5_0_ref, _q5_1_ref, _q4_K_ref, _q6_K_ref: what `llama-quantize` does
// without an importance matrix). Each block is written in GGUF's byte layout, so that decoding it
// with dequantizeGgmlBlocks (GgmlBlocks.h) gives what llama.cpp computes with. The float32
// operations are ggml's, in ggml's order (the library is built with -ffp-contract=off), and fp16
// scales round to nearest even as GGML_FP32_TO_FP16 does, so the bytes are ggml's bit for bit.
class GgmlBlockQuantizer {
public:
    // Throws Error for a type without a reference quantizer here.
    explicit GgmlBlockQuantizer(GgmlType type);

    static bool supports(GgmlType type);

    GgmlType type() const { return m_type; }
    uint32_t blockElements() const { return m_blockElements; }
    uint32_t blockBytes() const { return m_blockBytes; }
    // Distinct stored levels of a value: 256 for q8_0, 16 for the 4-bit types, 32, 64.
    uint32_t levelCount() const { return m_levelCount; }

    // Quantizes blockElements() finite values into blockBytes() bytes at `block`. `levels` gets each
    // value's stored level, counted from the lowest (q8_0's -128 is level 0), and `clipped` whether
    // the quantizer had to clamp it to the block's levels. NaN and infinities are the caller's
    // concern (ggml's own quantizers give meaningless blocks for them).
    void quantize(std::span<const float> values, std::span<std::byte> block, std::span<uint8_t> levels,
                  std::span<bool> clipped) const;

private:
    GgmlType m_type;
    uint32_t m_blockElements = 0;
    uint32_t m_blockBytes = 0;
    uint32_t m_levelCount = 0;
};

} // namespace quantscope
