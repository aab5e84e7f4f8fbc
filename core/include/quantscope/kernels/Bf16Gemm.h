#pragma once

#include "quantscope/kernels/PackedBf16Weights.h"

namespace quantscope::kernels {

class ThreadPool;

// C (M x N) = bf16(A) (M x K, fp32, rounded to bf16 nearest even) times bf16(W)^T, accumulated
// in fp32 (AVX-512 BF16 vdpbf16ps where present), plus bias[n] when bias is not null.
void bf16Gemm(const KernelTable& path, const float* a, int m, const PackedBf16Weights& w, const float* bias,
              float* c, ThreadPool* pool = nullptr);

IsaPath bf16GemmPath(const KernelTable& path);

} // namespace quantscope::kernels
