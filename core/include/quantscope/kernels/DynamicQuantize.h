#pragma once

#include "quantscope/kernels/KernelTable.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>

namespace quantscope::kernels {

class ThreadPool;

// Dynamic activation quantization for the int8 GEMM (PyTorch's dynamic Linear): the min / max of
// each row (perRow) or of the whole rows x cols matrix, over its finite values (none: the range
// [0, 0]), then the parameters by computeBlockParams(range, spec) (PyTorch 1.13's observer rule:
// the range includes zero, affine or symmetric per spec, scale >= eps), then
// q = clamp(round_half_even(x * (1 / scale)) + zp, qmin, qmax), NaN -> zp, written as u8.
// spec must be an integer format whose [qmin, qmax] lies in [0, 255] (an Error otherwise).
// scales / zeroPoints receive one entry per row (perRow) or one. The min / max and the rounding
// run on the path's vector loops; results equal the scalar path's bit for bit.
void dynamicQuantizeU8(const KernelTable& path, const float* x, int rows, int cols, bool perRow,
                       const QuantSpec& spec, uint8_t* q, float* scales, int32_t* zeroPoints,
                       ThreadPool* pool = nullptr);

} // namespace quantscope::kernels
