#include "quantscope/quant/StorageSize.h"

namespace quantscope {

uint64_t quantizedStorageBytes(int64_t elements, const QuantSpec& spec, int64_t blocks) {
    if (spec.format.isGgml()) // whole blocks of ggml's layout, scales included
        return static_cast<uint64_t>(blocks) * ggmlTypeTraits(ggmlTypeOf(spec.format)).blockBytes;
    const uint64_t bits = static_cast<uint64_t>(elements) * static_cast<uint64_t>(spec.format.storageBits());
    if (spec.format.isBlockScaled()) {
        // One 8-bit scale per block (E8M0 for MX, E4M3 for nvfp4), nvfp4 one float32 per tensor.
        const uint64_t perTensor = spec.format.kind == FormatKind::Nvfp4 ? 32 : 0;
        return (bits + static_cast<uint64_t>(blocks) * 8 + perTensor + 7) / 8;
    }
    const bool plainCast = spec.format.kind == FormatKind::Fp16 || spec.format.kind == FormatKind::Bf16;
    const bool hasZeroPoint = spec.format.isInteger() && spec.scheme == Scheme::Affine;
    const uint64_t perBlock = (plainCast ? 0u : 4u) + (hasZeroPoint ? 4u : 0u);
    return (bits + 7) / 8 + static_cast<uint64_t>(blocks) * perBlock;
}

} // namespace quantscope
