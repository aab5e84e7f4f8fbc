#include "quantscope/kernels/PackedInt4Weights.h"

#include "quantscope/Error.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace quantscope::kernels {

PackedInt4Weights::PackedInt4Weights(int n, int k, int groupSize) : m_n(n), m_k(k), m_groupSize(groupSize) {
    if (n <= 0 || k <= 0)
        throw Error("int4 weights",
                    "shape " + std::to_string(n) + " x " + std::to_string(k) + " must be positive");
    if (groupSize <= 0 || groupSize % 8 != 0 || k % groupSize != 0)
        throw Error("--group-size",
                    "int4 kernels need a group size that is a multiple of 8 and divides K = " +
                        std::to_string(k) + ", got " + std::to_string(groupSize));
    m_data.resize(static_cast<size_t>(panelCount()) * (k / 8) * 64);
    m_scales.resize(static_cast<size_t>(panelCount()) * groupCount() * 16);
    std::fill(m_data.data(), m_data.data() + m_data.size(), uint8_t{0x88}); // padding columns: w = 0
}

PackedInt4Weights PackedInt4Weights::fromIntegers(const int8_t* q, const float* scales, int n, int k,
                                                  int groupSize) {
    PackedInt4Weights packed(n, k, groupSize);
    const int groups = packed.groupCount();
    for (int row = 0; row < n; ++row) {
        const int panel = row / 16;
        const int j = row % 16;
        uint8_t* base = packed.m_data.data() + static_cast<size_t>(panel) * (k / 8) * 64;
        for (int kk = 0; kk < k; ++kk) {
            const int value = q[static_cast<size_t>(row) * k + kk];
            if (value < -8 || value > 7)
                throw Error("int4 weights", "value " + std::to_string(value) + " at row " +
                                                std::to_string(row) + " is outside [-8, 7]");
            uint8_t& byte = base[(kk / 8) * 64 + j * 4 + kk % 4];
            const auto nibble = static_cast<uint8_t>(value + 8);
            byte = (kk % 8) < 4 ? static_cast<uint8_t>((byte & 0xF0) | nibble)
                                : static_cast<uint8_t>((byte & 0x0F) | (nibble << 4));
        }
        for (int g = 0; g < groups; ++g)
            packed.m_scales[(static_cast<size_t>(panel) * groups + g) * 16 + j] =
                scales[static_cast<size_t>(row) * groups + g];
    }
    return packed;
}

PackedInt4Weights PackedInt4Weights::quantize(const float* w, int n, int k, int groupSize) {
    PackedInt4Weights shapeCheck(n, k, groupSize); // validates before allocating the temporaries
    const int groups = k / groupSize;
    std::vector<int8_t> q(static_cast<size_t>(n) * k);
    std::vector<float> scales(static_cast<size_t>(n) * groups);
    for (int row = 0; row < n; ++row)
        for (int g = 0; g < groups; ++g) {
            const float* src = w + static_cast<size_t>(row) * k + static_cast<size_t>(g) * groupSize;
            float lo = 0.0f, hi = 0.0f;
            for (int i = 0; i < groupSize; ++i)
                if (std::isfinite(src[i])) {
                    lo = std::min(lo, src[i]);
                    hi = std::max(hi, src[i]);
                }
            const float scale = std::max(std::max(-lo, hi) / 7.5f, 1.1920929e-07f);
            const IntegerQuantizer quantizer(scale, 0, -8, 7);
            for (int i = 0; i < groupSize; ++i)
                q[static_cast<size_t>(row) * k + static_cast<size_t>(g) * groupSize + i] =
                    static_cast<int8_t>(quantizer.quantize(src[i]));
            scales[static_cast<size_t>(row) * groups + g] = scale;
        }
    return fromIntegers(q.data(), scales.data(), n, k, groupSize);
}

int8_t PackedInt4Weights::value(int row, int col) const {
    const uint8_t byte =
        m_data[static_cast<size_t>(row / 16) * (m_k / 8) * 64 + (col / 8) * 64 + (row % 16) * 4 + col % 4];
    const int nibble = (col % 8) < 4 ? (byte & 0x0F) : (byte >> 4);
    return static_cast<int8_t>(nibble - 8);
}

float PackedInt4Weights::scale(int row, int group) const {
    return m_scales[(static_cast<size_t>(row / 16) * groupCount() + group) * 16 + row % 16];
}

} // namespace quantscope::kernels
