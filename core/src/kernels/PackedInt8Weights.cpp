#include "quantscope/kernels/PackedInt8Weights.h"

#include "quantscope/Error.h"

#include <string>

namespace quantscope::kernels {

PackedInt8Weights::PackedInt8Weights(const KernelTable& path, const int8_t* weights, int n, int k,
                                     int32_t zeroPoint)
    : m_path(path.path), m_layout(path.int8Layout), m_n(n), m_k(k), m_zeroPoint(zeroPoint) {
    if (n <= 0 || k <= 0 || k > kMaxK)
        throw Error("int8 weights", "shape " + std::to_string(n) + " x " + std::to_string(k) +
                                        " is not allowed (N >= 1, 1 <= K <= " + std::to_string(kMaxK) + ")");
    if (zeroPoint < -128 || zeroPoint > 127)
        throw Error("int8 weights", "zero point " + std::to_string(zeroPoint) + " is outside [-128, 127]");
    const int width = m_layout.panelWidth;
    const int group = m_layout.kGroup;
    m_kPadded = (k + group - 1) / group * group;
    m_panelCount = (n + width - 1) / width;
    m_data.resize(static_cast<size_t>(m_panelCount) * width * m_kPadded);
    m_columnSums.resize(static_cast<size_t>(m_panelCount) * width);
    for (int col = 0; col < n; ++col) {
        const int panel = col / width;
        const int j = col % width;
        int8_t* dst = m_data.data() + static_cast<size_t>(panel) * width * m_kPadded;
        const int8_t* src = weights + static_cast<size_t>(col) * k;
        int32_t sum = 0;
        for (int kk = 0; kk < k; ++kk) {
            dst[(static_cast<size_t>(kk / group) * width + j) * group + kk % group] = src[kk];
            sum += src[kk];
        }
        m_columnSums[col] = sum;
    }
}

} // namespace quantscope::kernels
