#include "quantscope/kernels/Int4Gemv.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/AlignedBuffer.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <algorithm>
#include <cmath>

namespace quantscope::kernels {

IsaPath int4GemmPath(const KernelTable& path, Int4Activations activations) {
    return activations == Int4Activations::Int8
               ? KernelRegistry::provider(path, &KernelTable::int4GemvS8).path
               : KernelRegistry::provider(path, &KernelTable::int4GemvF32).path;
}

void int4Gemm(const KernelTable& path, const float* x, int m, const PackedInt4Weights& w, float* y,
              Int4Activations activations, ThreadPool* pool) {
    if (m <= 0 || !x || !y)
        throw Error("int4 GEMM", "needs at least one activation row");
    const int k = w.k();
    const int groups = w.groupCount();
    thread_local AlignedBuffer<int8_t> xq;
    thread_local AlignedBuffer<float> xScales;
    thread_local AlignedBuffer<int32_t> xSums;
    Int4GemvProblem p;
    p.n = w.n();
    p.k = k;
    p.groupSize = w.groupSize();
    p.packedW = w.data();
    p.scales = w.scales();
    const bool int8 = activations == Int4Activations::Int8;
    auto kernel = int8 ? KernelRegistry::provider(path, &KernelTable::int4GemvS8).int4GemvS8
                       : KernelRegistry::provider(path, &KernelTable::int4GemvF32).int4GemvF32;
    p.m = m;
    p.x = x;
    p.y = y;
    if (int8) {
        // Dynamic symmetric quantization per weight group (as ggml's q8 blocks), every row.
        xq.reserveScratch(static_cast<size_t>(m) * k);
        xScales.reserveScratch(static_cast<size_t>(m) * groups);
        xSums.reserveScratch(static_cast<size_t>(m) * groups);
        for (int row = 0; row < m; ++row)
            for (int g = 0; g < groups; ++g) {
                const size_t first = static_cast<size_t>(row) * k + static_cast<size_t>(g) * p.groupSize;
                const float* src = x + first;
                float absMax = 0.0f;
                for (int i = 0; i < p.groupSize; ++i)
                    if (std::isfinite(src[i]))
                        absMax = std::max(absMax, std::fabs(src[i]));
                const float scale = std::max(absMax / 127.0f, 1.1920929e-07f);
                const IntegerQuantizer quantizer(scale, 0, -127, 127);
                int32_t sum = 0;
                for (int i = 0; i < p.groupSize; ++i) {
                    const int32_t q = quantizer.quantize(src[i]);
                    xq[first + i] = static_cast<int8_t>(q);
                    sum += q;
                }
                xScales[static_cast<size_t>(row) * groups + g] = scale;
                xSums[static_cast<size_t>(row) * groups + g] = sum;
            }
        p.xq = xq.data();
        p.xScales = xScales.data();
        p.xSums = xSums.data();
    }
    if (pool && pool->threadCount() > 1)
        pool->parallelFor(w.panelCount(), [&](int begin, int end) { kernel(p, begin, end); });
    else
        kernel(p, 0, w.panelCount());
}

} // namespace quantscope::kernels
