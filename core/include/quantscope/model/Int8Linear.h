#pragma once

// The integer matrix product of quantized layers, u8 activations x s8 weights -> s32
// accumulators, C = (A - za)(W - zw)^T exactly. `reference` is a plain triple loop that defines
// the result; run() uses the SIMD int8 GEMM of core/kernels (packed once here) when every row has
// the same weight zero point, which the kernels require, and must give the same integers.

#include "quantscope/kernels/IsaPath.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace quantscope {

namespace kernels {
class PackedInt8Weights;
class ThreadPool;
} // namespace kernels

class Int8Linear {
public:
    static constexpr int64_t kMaxK = 32768; // 255 * 255 * K stays below 2^31

    // weights: N x K row-major (one row per output channel); one zero point per row. `path`
    // chooses the kernel path (default: the process's active one, QUANTSCOPE_ISA honoured).
    Int8Linear(std::vector<int8_t> weights, int64_t n, int64_t k, std::vector<int32_t> zeroPoints,
               std::optional<kernels::IsaPath> path = std::nullopt);
    ~Int8Linear();

    int64_t n() const { return m_n; }
    int64_t k() const { return m_k; }
    const std::vector<int8_t>& weights() const { return m_weights; }
    const std::vector<int32_t>& zeroPoints() const { return m_zeroPoints; }
    // The weights packed for the SIMD int8 GEMM; null when the rows' zero points differ.
    const kernels::PackedInt8Weights* packed() const { return m_packed.get(); }

    // a: M x K u8, accumulators: M x N. `pool` (may be null) splits the SIMD GEMM across threads.
    void run(const uint8_t* a, int64_t m, int32_t activationZeroPoint, int32_t* accumulators,
             kernels::ThreadPool* pool = nullptr) const;
    void reference(const uint8_t* a, int64_t m, int32_t activationZeroPoint, int32_t* accumulators) const;

    // Which implementation run() uses: "reference" or the kernel path ("scalar", "avx2", "avx512").
    const char* pathName() const;

private:
    std::vector<int8_t> m_weights;
    int64_t m_n = 0, m_k = 0;
    std::vector<int32_t> m_zeroPoints;
    std::unique_ptr<kernels::PackedInt8Weights> m_packed; // null: per-row zero points differ
};

} // namespace quantscope
