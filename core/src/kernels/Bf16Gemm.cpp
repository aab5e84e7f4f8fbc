#include "quantscope/kernels/Bf16Gemm.h"

#include "GemmWorkSplit.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/kernels/ThreadPool.h"

#include <algorithm>

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
    // [k / 2][row][2] per sliver, one 32-bit pair per move; K padding is zero. Split by slivers
    // across the pool, like the product.
    auto convert = KernelRegistry::provider(path, &KernelTable::f32ToBf16).f32ToBf16;
    uint16_t* packedData = packed.data(); // the caller's scratch (a thread_local named in the lambda
                                          // would be each worker's own)
    auto packRows = [&](int sliverBegin, int sliverEnd) {
        thread_local AlignedBuffer<uint16_t> row16;
        row16.reserveScratch(static_cast<size_t>(kPadded));
        for (int row = sliverBegin * block; row < std::min(m, sliverEnd * block); ++row) {
            row16[static_cast<size_t>(kPadded) - 1] = 0;
            convert(a + static_cast<size_t>(row) * k, static_cast<size_t>(k), row16.data());
            uint16_t* d = packedData + static_cast<size_t>(row / block) * block * kPadded + (row % block) * 2;
            const uint16_t* src = row16.data();
            for (int q = 0; q < kPadded / 2; ++q, d += block * 2, src += 2) {
                d[0] = src[0];
                d[1] = src[1];
            }
        }
    };
    if (pool && pool->threadCount() > 1 && slivers > 1)
        pool->parallelFor(slivers, packRows);
    else
        packRows(0, slivers);
    Bf16GemmProblem p;
    p.m = m;
    p.n = w.n();
    p.k = k;
    p.kPadded = kPadded;
    p.rowBlock = block;
    p.packedA = packedData;
    p.packedB = w.data();
    p.bias = bias;
    p.c = c;
    p.ldc = w.n();
    auto kernel = provider.bf16GemmPanels;
    const GemmWorkSplit split = GemmWorkSplit::of(m, w.panelCount(), block, pool);
    if (!pool || pool->threadCount() <= 1 || split.items() == 1) {
        kernel(p, 0, w.panelCount());
        return;
    }
    pool->parallelFor(split.items(), [&](int begin, int end) {
        if (split.rowChunks == 1) { // whole panels: one call, so a path can pair panels
            kernel(p, begin, end);
            return;
        }
        for (int item = begin; item < end; ++item) {
            const int row0 = split.firstRowOf(item);
            Bf16GemmProblem part = p;
            part.m = std::min(split.rowsPerChunk, m - row0);
            part.packedA = p.packedA + static_cast<size_t>(row0) * kPadded;
            part.c = p.c + static_cast<size_t>(row0) * p.ldc;
            kernel(part, split.panelOf(item), split.panelOf(item) + 1);
        }
    });
}

} // namespace quantscope::kernels
