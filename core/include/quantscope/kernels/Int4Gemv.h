#pragma once

#include "quantscope/kernels/KernelTable.h"
#include "quantscope/kernels/PackedInt4Weights.h"

namespace quantscope::kernels {

class ThreadPool;

enum class Int4Activations {
    Float32, // y = sum_g s[n][g] * sum_k x[k] * w[n][k] in fp32
    Int8,    // x quantized per weight group (symmetric, [-127, 127]), integer dot per group
};

// int4 weight-only matrix product with fp32 activations X (M x K) and output Y (M x N).
// M = 1 is the GEMV that bounds decoding speed; for larger M the AVX-512 path decodes each weight
// block once for up to 4 rows, and from 8 rows on it decodes each group of 32 columns once into an
// fp32 scratch and runs a register-blocked GEMM over all rows. With fp32 activations, every row of
// every path's multi-row kernel equals that path's one-row result bit for bit.
// Int8 activations are quantized here, per group of the weights: xs = absmax / 127,
// q = clamp(round(x / xs), -127, 127) (IntegerQuantizer's rule), and each group's integer dot
// sum q_x * q_w is scaled by xs * s[n][g].
void int4Gemm(const KernelTable& path, const float* x, int m, const PackedInt4Weights& w, float* y,
              Int4Activations activations, ThreadPool* pool = nullptr);

// Which path's kernel int4Gemm uses for `activations` on `path`.
IsaPath int4GemmPath(const KernelTable& path, Int4Activations activations);

} // namespace quantscope::kernels
