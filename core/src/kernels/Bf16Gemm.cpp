#include "quantscope/kernels/Bf16Gemm.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/kernels/ThreadPool.h"

namespace quantscope::kernels {

IsaPath bf16GemmPath(const KernelTable& path) {
    return KernelRegistry::provider(path, &KernelTable::bf16GemmPanels).path;
}

void bf16Gemm(const KernelTable& path, const float* a, int m, const PackedBf16Weights& w, const float* bias,
              float* c, ThreadPool* pool) {
    if (m <= 0 || !a || !c)
        throw Error("bf16 GEMM", "needs at least one activation row");
    const KernelTable& provider = KernelRegistry::provider(path, &KernelTable::bf16GemmPanels);
    const int block = provider.bf16RowBlock;
    const int k = w.k();
    const int kPadded = w.kPadded();
    const int slivers = (m + block - 1) / block;
    thread_local AlignedBuffer<uint16_t> packed;
    packed.reserveScratch(static_cast<size_t>(slivers) * block * kPadded);
    // Activations rounded to bf16 (the path's own conversion, one row at a time) and packed as
    // [k / 2][row][2] per sliver, one 32-bit pair per move; K padding is zero.
    thread_local AlignedBuffer<uint16_t> row16;
    row16.reserveScratch(static_cast<size_t>(kPadded));
    auto convert = KernelRegistry::provider(path, &KernelTable::f32ToBf16).f32ToBf16;
    for (int row = 0; row < m; ++row) {
        row16[static_cast<size_t>(kPadded) - 1] = 0;
        convert(a + static_cast<size_t>(row) * k, static_cast<size_t>(k), row16.data());
        uint16_t* d = packed.data() + static_cast<size_t>(row / block) * block * kPadded + (row % block) * 2;
        const uint16_t* src = row16.data();
        for (int q = 0; q < kPadded / 2; ++q, d += block * 2, src += 2) {
            d[0] = src[0];
            d[1] = src[1];
        }
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
