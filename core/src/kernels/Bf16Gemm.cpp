#include "quantscope/kernels/Bf16Gemm.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/kernels/ThreadPool.h"

namespace quantscope::kernels {

IsaPath bf16GemmPath(const KernelTable& path) { return KernelRegistry::provider(path, &KernelTable::bf16GemmPanels).path; }

void bf16Gemm(const KernelTable& path, const float* a, int m, const PackedBf16Weights& w, const float* bias, float* c,
              ThreadPool* pool) {
    if (m <= 0 || !a || !c)
        throw Error("bf16 GEMM", "needs at least one activation row");
    const KernelTable& provider = KernelRegistry::provider(path, &KernelTable::bf16GemmPanels);
    const int block = provider.bf16RowBlock;
    const int k = w.k();
    const int kPadded = w.kPadded();
    const int slivers = (m + block - 1) / block;
    thread_local AlignedBuffer<uint16_t> packed;
    packed.reserveScratch(static_cast<size_t>(slivers) * block * kPadded);
    // Activations rounded to bf16 and packed as [k / 2][row][2] per sliver; K padding is zero.
    for (int row = 0; row < m; ++row) {
        uint16_t* sliver = packed.data() + static_cast<size_t>(row / block) * block * kPadded;
        const int r = row % block;
        const float* src = a + static_cast<size_t>(row) * k;
        for (int kk = 0; kk < kPadded; ++kk)
            sliver[(static_cast<size_t>(kk / 2) * block + r) * 2 + kk % 2] = kk < k ? reference::f32ToBf16(src[kk]) : 0;
    }
    Bf16GemmProblem p;
    p.m = m;
    p.n = w.n();
    p.k = k;
    p.kPadded = kPadded;
    p.rowBlock = block;
    p.packedA = packed.data();
    p.packedB = w.data();
    p.bias = bias;
    p.c = c;
    p.ldc = w.n();
    auto kernel = provider.bf16GemmPanels;
    if (pool && pool->threadCount() > 1)
        pool->parallelFor(w.panelCount(), [&](int begin, int end) { kernel(p, begin, end); });
    else
        kernel(p, 0, w.panelCount());
}

} // namespace quantscope::kernels
