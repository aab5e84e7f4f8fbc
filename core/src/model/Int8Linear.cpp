#include "quantscope/model/Int8Linear.h"

#include "quantscope/Error.h"

#include <string>

namespace quantscope {

Int8Linear::Int8Linear(std::vector<int8_t> weights, int64_t n, int64_t k, std::vector<int32_t> zeroPoints)
    : m_weights(std::move(weights))
    , m_n(n)
    , m_k(k)
    , m_zeroPoints(std::move(zeroPoints))
    , m_rowSums(static_cast<std::size_t>(n), 0)
{
    if (k > kMaxK)
        throw Error("int8 layer", "reduction length " + std::to_string(k) + " exceeds " + std::to_string(kMaxK) +
                                      " (int32 accumulators could overflow)");
    for (int64_t j = 0; j < n; ++j) {
        for (int64_t t = 0; t < k; ++t)
            m_rowSums[j] += m_weights[j * k + t];
    }
}

void Int8Linear::reference(const uint8_t* a, int64_t m, int32_t za, int32_t* c) const
{
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < m_n; ++j) {
            int32_t sum = 0;
            for (int64_t t = 0; t < m_k; ++t)
                sum += (static_cast<int32_t>(a[i * m_k + t]) - za) * (static_cast<int32_t>(m_weights[j * m_k + t]) - m_zeroPoints[j]);
            c[i * m_n + j] = sum;
        }
    }
}

void Int8Linear::run(const uint8_t* a, int64_t m, int32_t za, int32_t* c) const
{
    // Jacob et al. 2018, eq. 7: sum (a - za)(w - zw) = sum a*w - zw*sum a - za*sum w + K*za*zw.
    // The inner loop multiplies raw 8-bit values, which compilers vectorise; the result is the
    // same integer as reference() (int32 cannot overflow: 255 * 255 * K < 2^31 for K < 33025).
    for (int64_t i = 0; i < m; ++i) {
        const uint8_t* row = a + i * m_k;
        int32_t rowSum = 0;
        for (int64_t t = 0; t < m_k; ++t)
            rowSum += row[t];
        for (int64_t j = 0; j < m_n; ++j) {
            const int8_t* w = m_weights.data() + j * m_k;
            int32_t dot = 0;
            for (int64_t t = 0; t < m_k; ++t)
                dot += static_cast<int32_t>(row[t]) * static_cast<int32_t>(w[t]);
            c[i * m_n + j] = dot - m_zeroPoints[j] * rowSum - za * m_rowSums[j] +
                             static_cast<int32_t>(m_k) * za * m_zeroPoints[j];
        }
    }
}

const char* Int8Linear::pathName() const
{
    return "reference";
}

} // namespace quantscope
