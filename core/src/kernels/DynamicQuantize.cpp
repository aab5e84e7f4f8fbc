#include "quantscope/kernels/DynamicQuantize.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <limits>
#include <string>

namespace quantscope::kernels {

namespace {

// The range of the finite values among count, {0, 0} when none is finite (MinMaxObserver's rule).
Range finiteRange(const KernelTable& table, const float* x, size_t count) {
    float lo = std::numeric_limits<float>::infinity(), hi = -std::numeric_limits<float>::infinity();
    table.chunk.minMaxSkippingNonfinite(x, count, lo, hi);
    return lo <= hi ? Range{lo, hi} : Range{};
}

} // namespace

void dynamicQuantizeU8(const KernelTable& path, const float* x, int rows, int cols, bool perRow,
                       const QuantSpec& spec, uint8_t* q, float* scales, int32_t* zeroPoints,
                       ThreadPool* pool) {
    if (rows < 1 || cols < 1 || !x || !q || !scales || !zeroPoints)
        throw Error("dynamic quantization", "needs at least one row and column and all buffers");
    if (!spec.format.isInteger() || spec.qmin() < 0 || spec.qmax() > 255)
        throw Error("dynamic quantization",
                    "the activation type must be an integer type within [0, 255] (uint8)");
    const KernelTable& quantizer = KernelRegistry::provider(path, &KernelTable::quantizeU8);
    const auto qmin = static_cast<int32_t>(spec.qmin()), qmax = static_cast<int32_t>(spec.qmax());
    const size_t width = static_cast<size_t>(cols);
    auto quantizeRows = [&](int begin, int end, float scale, int32_t zeroPoint) {
        quantizer.quantizeU8(x + static_cast<size_t>(begin) * width, static_cast<size_t>(end - begin) * width,
                             1.0f / scale, zeroPoint, qmin, qmax, q + static_cast<size_t>(begin) * width);
    };
    if (!perRow) {
        const Range range = finiteRange(path, x, static_cast<size_t>(rows) * width);
        computeBlockParams(range, spec, scales[0], zeroPoints[0]);
        if (pool && pool->threadCount() > 1)
            pool->parallelFor(
                rows, [&](int begin, int end) { quantizeRows(begin, end, scales[0], zeroPoints[0]); });
        else
            quantizeRows(0, rows, scales[0], zeroPoints[0]);
        return;
    }
    auto rowRange = [&](int begin, int end) {
        for (int row = begin; row < end; ++row) {
            computeBlockParams(finiteRange(path, x + static_cast<size_t>(row) * width, width), spec,
                               scales[row], zeroPoints[row]);
            quantizeRows(row, row + 1, scales[row], zeroPoints[row]);
        }
    };
    if (pool && pool->threadCount() > 1)
        pool->parallelFor(rows, rowRange);
    else
        rowRange(0, rows);
}

} // namespace quantscope::kernels
