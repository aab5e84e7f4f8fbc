#pragma once

#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/KernelTable.h"

#include <cstddef>
#include <cstdint>

namespace quantscope::kernels {

// Per-column m0, shift and bias of a requantized int8 GEMM for the SIMD epilogues
// (Int8GemmProblem::laneMultipliers / laneShifts / laneBias), padded with zeros to `padded`
// columns (whole panels); a per-tensor multiplier is repeated. `lanes` holds 3 * padded values.
inline void fillRequantizeLanes(const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                                int n, size_t padded, int32_t* lanes, Int8GemmProblem& p) {
    int32_t* laneMultipliers = lanes;
    int32_t* laneShifts = laneMultipliers + padded;
    int32_t* laneBias = laneShifts + padded;
    for (size_t col = 0; col < padded; ++col) {
        const bool inside = col < static_cast<size_t>(n);
        const FixedPointMultiplier& m = multipliers[perChannel && inside ? col : 0];
        laneMultipliers[col] = inside ? m.multiplier() : 0;
        laneShifts[col] = inside ? m.shift() : 0;
        laneBias[col] = inside && bias ? bias[col] : 0;
    }
    p.multipliers = multipliers;
    p.perChannelMultipliers = perChannel;
    p.biasInt32 = bias;
    p.laneMultipliers = laneMultipliers;
    p.laneShifts = laneShifts;
    p.laneBias = laneBias;
}

} // namespace quantscope::kernels
