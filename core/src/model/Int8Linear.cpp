#include "quantscope/model/Int8Linear.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/PackedInt8Weights.h"

#include <algorithm>
#include <string>

namespace quantscope {

Int8Linear::Int8Linear(std::vector<int8_t> weights, int64_t n, int64_t k, std::vector<int32_t> zeroPoints,
                       std::optional<kernels::IsaPath> path)
    : m_weights(std::move(weights)), m_n(n), m_k(k), m_zeroPoints(std::move(zeroPoints)) {
    if (k > kMaxK)
        throw Error("int8 layer", "reduction length " + std::to_string(k) + " exceeds " +
                                      std::to_string(kMaxK) + " (int32 accumulators could overflow)");
    if (n < 1 || k < 1 || static_cast<int64_t>(m_weights.size()) != n * k ||
        static_cast<int64_t>(m_zeroPoints.size()) != n)
        throw Error("int8 layer", "weights must be N x K with one zero point per row");
    const bool uniformZeroPoint = std::all_of(m_zeroPoints.begin(), m_zeroPoints.end(),
                                              [&](int32_t z) { return z == m_zeroPoints[0]; });
    if (uniformZeroPoint) {
        const kernels::KernelTable& table =
            path ? *kernels::KernelRegistry::table(*path) : kernels::KernelRegistry::active();
        m_packed = std::make_unique<kernels::PackedInt8Weights>(table, m_weights.data(), static_cast<int>(n),
                                                                static_cast<int>(k), m_zeroPoints[0]);
    }
}

Int8Linear::~Int8Linear() = default;

void Int8Linear::reference(const uint8_t* a, int64_t m, int32_t za, int32_t* c) const {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < m_n; ++j) {
            int32_t sum = 0;
            for (int64_t t = 0; t < m_k; ++t)
                sum += (static_cast<int32_t>(a[i * m_k + t]) - za) *
                       (static_cast<int32_t>(m_weights[j * m_k + t]) - m_zeroPoints[j]);
            c[i * m_n + j] = sum;
        }
    }
}

void Int8Linear::run(const uint8_t* a, int64_t m, int32_t za, int32_t* c, kernels::ThreadPool* pool) const {
    if (m < 1)
        return;
    if (m_packed) {
        const kernels::KernelTable& table = *kernels::KernelRegistry::table(m_packed->path());
        kernels::QuantizedActivations activations;
        activations.data = a;
        activations.m = static_cast<int>(m);
        activations.k = static_cast<int>(m_k);
        activations.zeroPoint = za;
        kernels::int8GemmInt32(table, activations, *m_packed, c, pool);
        return;
    }
    // Per-row zero points: Jacob et al. 2018, eq. 7 with a zero point per row,
    // sum (a - za)(w - zw) = sum a*w - zw*sum a - za*sum w + K*za*zw.
    for (int64_t i = 0; i < m; ++i) {
        const uint8_t* row = a + i * m_k;
        int32_t rowSum = 0;
        for (int64_t t = 0; t < m_k; ++t)
            rowSum += row[t];
        for (int64_t j = 0; j < m_n; ++j) {
            const int8_t* w = m_weights.data() + j * m_k;
            int32_t dot = 0, weightSum = 0;
            for (int64_t t = 0; t < m_k; ++t) {
                dot += static_cast<int32_t>(row[t]) * static_cast<int32_t>(w[t]);
                weightSum += w[t];
            }
            c[i * m_n + j] = dot - m_zeroPoints[j] * rowSum - za * weightSum +
                             static_cast<int32_t>(m_k) * za * m_zeroPoints[j];
        }
    }
}

const char* Int8Linear::pathName() const {
    return m_packed ? kernels::isaName(m_packed->path()) : "reference";
}

} // namespace quantscope
