#include "quantscope/kernels/PackedBf16Weights.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Reference.h"

#include <string>

namespace quantscope::kernels {

PackedBf16Weights::PackedBf16Weights(const float* weights, int n, int k)
    : m_n(n), m_k(k), m_kPadded((k + 1) / 2 * 2) {
    if (n <= 0 || k <= 0)
        throw Error("bf16 weights",
                    "shape " + std::to_string(n) + " x " + std::to_string(k) + " must be positive");
    const int width = kBf16PanelWidth;
    m_data.resize(static_cast<size_t>(panelCount()) * width * m_kPadded);
    for (int col = 0; col < n; ++col) {
        uint16_t* panel = m_data.data() + static_cast<size_t>(col / width) * width * m_kPadded;
        const int j = col % width;
        for (int kk = 0; kk < k; ++kk)
            panel[(static_cast<size_t>(kk / 2) * width + j) * 2 + kk % 2] =
                reference::f32ToBf16(weights[static_cast<size_t>(col) * k + kk]);
    }
}

} // namespace quantscope::kernels
