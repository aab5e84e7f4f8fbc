#pragma once

#include "quantscope/kernels/ThreadPool.h"

#include <algorithm>

namespace quantscope::kernels {

// How a GEMM is cut across a pool: whole weight panels (columns) first, and when there are fewer
// panels than a few per thread, row ranges too (whole slivers of `rowBlock` rows, so each range's
// packed activations simply start later and every row goes through the same tile code as in a
// single-thread run). Work items are panel-major: a thread's contiguous range walks down the rows
// of one panel while that panel stays in cache.
struct GemmWorkSplit {
    int panels = 1, rowChunks = 1, rowsPerChunk = 0;

    int items() const { return panels * rowChunks; }
    int panelOf(int item) const { return item / rowChunks; }
    int firstRowOf(int item) const { return (item % rowChunks) * rowsPerChunk; }

    static GemmWorkSplit of(int m, int panels, int rowBlock, const ThreadPool* pool) {
        GemmWorkSplit split;
        split.panels = panels;
        split.rowsPerChunk = m;
        const int threads = pool ? pool->threadCount() : 1;
        if (threads <= 1 || panels >= 4 * threads)
            return split;
        const int slivers = (m + rowBlock - 1) / rowBlock;
        const int wanted = std::min(slivers, (4 * threads + panels - 1) / panels);
        const int sliversPerChunk = (slivers + wanted - 1) / wanted;
        split.rowsPerChunk = sliversPerChunk * rowBlock;
        split.rowChunks = (m + split.rowsPerChunk - 1) / split.rowsPerChunk;
        return split;
    }
};

} // namespace quantscope::kernels
