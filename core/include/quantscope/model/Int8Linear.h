#pragma once

// The integer matrix product of quantized layers, u8 activations x s8 weights
// -> s32 accumulators, C = (A - za)(W - zw)^T exactly. `reference` is a plain triple loop that
// defines the result; the SIMD kernels (core/kernels) must reproduce it bit for bit.

#include <cstdint>
#include <vector>

namespace quantscope {

class Int8Linear {
public:
    // weights: N x K row-major (one row per output channel); one zero point per row.
    Int8Linear(std::vector<int8_t> weights, int64_t n, int64_t k, std::vector<int32_t> zeroPoints);

    static constexpr int64_t kMaxK = 32768; // 255 * 255 * K stays below 2^31

    int64_t n() const { return m_n; }
    int64_t k() const { return m_k; }
    const std::vector<int8_t>& weights() const { return m_weights; }

    // a: M x K u8, accumulators: M x N.
    void run(const uint8_t* a, int64_t m, int32_t activationZeroPoint, int32_t* accumulators) const;
    void reference(const uint8_t* a, int64_t m, int32_t activationZeroPoint, int32_t* accumulators) const;

    // Which implementation run() uses ("reference" or a kernel path name).
    const char* pathName() const;

private:
    std::vector<int8_t> m_weights;
    int64_t m_n = 0, m_k = 0;
    std::vector<int32_t> m_zeroPoints;
    std::vector<int32_t> m_rowSums; // sum over K of each weight row, for the zero-point terms
};

} // namespace quantscope
