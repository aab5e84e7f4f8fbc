#include "quantscope/kernels/Int8Gemm.h"

#include "GemmWorkSplit.h"
#include "RequantizeLanes.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace quantscope::kernels {

namespace {

// Packs A into the path's slivers (see Int8Layout) and computes its row sums. A scratch buffer per
// thread is reused between calls, so a GEMV does not allocate. The group size is a template
// argument so the per-group copy compiles to a few moves (no division per element).
template <int Group>
void packActivationSlivers(const QuantizedActivations& a, int block, int kPadded, uint8_t* dst,
                           int32_t* rowSums) {
    const int fullGroups = a.k / Group;
    const int tail = a.k % Group;
    for (int row = 0; row < a.m; ++row) {
        uint8_t* d = dst + static_cast<size_t>(row / block) * block * kPadded + (row % block) * Group;
        const uint8_t* src = a.data + static_cast<size_t>(row) * a.k;
        int32_t sum = 0;
        for (int k = 0; k < a.k; ++k)
            sum += src[k];
        rowSums[row] = sum;
        for (int g = 0; g < fullGroups; ++g, d += block * Group, src += Group)
            for (int i = 0; i < Group; ++i)
                d[i] = src[i];
        if (tail) // K padding is zero, as in the weights
            for (int i = 0; i < Group; ++i)
                d[i] = i < tail ? src[i] : uint8_t{0};
    }
}

// The int16 layout: each row widened in place of a transpose (a loop the compiler vectorises),
// its sum taken on the way.
void packActivationRowsInt16(const QuantizedActivations& a, int kPadded, int16_t* dst, int32_t* rowSums) {
    for (int row = 0; row < a.m; ++row) {
        const uint8_t* src = a.data + static_cast<size_t>(row) * a.k;
        int16_t* d = dst + static_cast<size_t>(row) * kPadded;
        int32_t sum = 0;
        for (int k = 0; k < a.k; ++k) {
            d[k] = static_cast<int16_t>(src[k]);
            sum += src[k];
        }
        rowSums[row] = sum;
        for (int k = a.k; k < kPadded; ++k) // K padding is zero, as in the weights
            d[k] = 0;
    }
}

void run(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
         Int8GemmProblem& p, ThreadPool* pool) {
    if (w.path() != path.path)
        throw Error("int8 weights", std::string("packed for the ") + isaName(w.path()) +
                                        " path, used with the " + isaName(path.path) + " path");
    if (a.m <= 0 || a.k != w.k() || !a.data)
        throw Error("int8 activations", "shape " + std::to_string(a.m) + " x " + std::to_string(a.k) +
                                            " does not match weights with K = " + std::to_string(w.k()));
    if (a.zeroPoint < 0 || a.zeroPoint > 255)
        throw Error("int8 activations", "zero point " + std::to_string(a.zeroPoint) + " is outside [0, 255]");
    const Int8Layout& layout = w.layout();
    const int slivers = (a.m + layout.rowBlock - 1) / layout.rowBlock;
    const size_t packedCount = static_cast<size_t>(slivers) * layout.rowBlock * w.kPadded();
    thread_local AlignedBuffer<uint8_t> packed;
    thread_local AlignedBuffer<int32_t> rowSums;
    packed.reserveScratch(packedCount * (layout.activationsAsInt16 ? 2 : 1));
    rowSums.reserveScratch(static_cast<size_t>(a.m));
    if (!(layout.activationsAsInt16 && layout.kGroup == 2) &&
        !(!layout.activationsAsInt16 && layout.kGroup == 4))
        throw Error("int8 GEMM", "unsupported activation layout");
    // Packing is a tenth of a small-K GEMM's time: split it by slivers too. (The lambda uses these
    // pointers: a thread_local named inside it would be each worker's own.)
    uint8_t* packedData = packed.data();
    int32_t* rowSumsData = rowSums.data();
    auto packSlivers = [&](int begin, int end) {
        QuantizedActivations part = a;
        part.data = a.data + static_cast<size_t>(begin) * layout.rowBlock * a.k;
        part.m = std::min(a.m, end * layout.rowBlock) - begin * layout.rowBlock;
        const size_t offset = static_cast<size_t>(begin) * layout.rowBlock * w.kPadded();
        int32_t* sums = rowSumsData + static_cast<size_t>(begin) * layout.rowBlock;
        if (layout.activationsAsInt16)
            packActivationRowsInt16(part, w.kPadded(), reinterpret_cast<int16_t*>(packedData) + offset, sums);
        else
            packActivationSlivers<4>(part, layout.rowBlock, w.kPadded(), packedData + offset, sums);
    };
    if (pool && pool->threadCount() > 1 && slivers > 1)
        pool->parallelFor(slivers, packSlivers);
    else
        packSlivers(0, slivers);
    // Rows of the last sliver past M stay as they were: their results are never stored.

    p.m = a.m;
    p.n = w.n();
    p.k = w.k();
    p.kPadded = w.kPadded();
    p.packedA = packedData;
    p.rowSums = rowSumsData;
    p.aZeroPoint = a.zeroPoint;
    p.packedB = w.data();
    p.colSums = w.columnSums();
    p.bZeroPoint = w.zeroPoint();
    p.ldc = w.n();
    auto kernel = path.int8GemmPanels;
    const size_t elementBytes = p.output == Int8OutputKind::Uint8 || p.output == Int8OutputKind::Int8 ? 1 : 4;
    const size_t aElementBytes = layout.activationsAsInt16 ? 2 : 1;
    // A view of rows [row0, row0 + rows): sliver-aligned, so the packed A simply starts later.
    auto rowsView = [&](int row0, int rows) {
        Int8GemmProblem part = p;
        part.m = rows;
        part.packedA =
            static_cast<const uint8_t*>(p.packedA) + static_cast<size_t>(row0) * p.kPadded * aElementBytes;
        part.rowSums = p.rowSums + row0;
        part.c = static_cast<uint8_t*>(p.c) + static_cast<size_t>(row0) * p.ldc * elementBytes;
        return part;
    };
    const int threads = pool ? pool->threadCount() : 1;
    if (threads > 1 && slivers >= 4 * threads) {
        // Many rows (a convolution): each thread takes a range of whole slivers across all panels,
        // so it reads its activations once per block of weights, as a single thread does.
        pool->parallelFor(slivers, [&](int begin, int end) {
            const int row0 = begin * layout.rowBlock;
            kernel(rowsView(row0, std::min(a.m, end * layout.rowBlock) - row0), 0, w.panelCount());
        });
        return;
    }
    const GemmWorkSplit split = GemmWorkSplit::of(a.m, w.panelCount(), layout.rowBlock, pool);
    if (threads <= 1 || split.items() == 1) {
        kernel(p, 0, w.panelCount());
        return;
    }
    pool->parallelFor(split.items(), [&](int begin, int end) {
        if (split.rowChunks == 1) { // whole panels: one call, so a path can pair panels (AVX-512 GEMV)
            kernel(p, begin, end);
            return;
        }
        for (int item = begin; item < end; ++item) {
            const int panel = split.panelOf(item);
            const int row0 = split.firstRowOf(item);
            kernel(rowsView(row0, std::min(split.rowsPerChunk, p.m - row0)), panel, panel + 1);
        }
    });
}

} // namespace

OutputClamp outputClamp(bool unsignedOutput, int32_t clampMin, int32_t clampMax, const char* subject) {
    const int32_t lo = unsignedOutput ? 0 : -128;
    const int32_t hi = unsignedOutput ? 255 : 127;
    OutputClamp clamp{std::max(lo, clampMin), std::min(hi, clampMax)};
    if (clamp.min > clamp.max)
        throw Error(subject, "output clamp [" + std::to_string(clampMin) + ", " + std::to_string(clampMax) +
                                 "] leaves nothing of the output range [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "]");
    return clamp;
}

namespace {

void checkScales(const float* scales, bool perChannel, int n) {
    if (!scales)
        throw Error("int8 GEMM", "weight scales are missing");
    for (int i = 0; i < (perChannel ? n : 1); ++i)
        if (!(scales[i] > 0.0f) || !std::isfinite(scales[i]))
            throw Error("int8 GEMM", "weight scale " + std::to_string(i) + " must be positive and finite");
}

} // namespace

void int8GemmInt32(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                   int32_t* c, ThreadPool* pool) {
    Int8GemmProblem p;
    p.output = Int8OutputKind::Int32;
    p.c = c;
    run(path, a, w, p, pool);
}

void int8GemmFloat(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                   const float* weightScales, bool perChannelScales, const float* bias, float* c,
                   ThreadPool* pool) {
    checkScales(weightScales, perChannelScales, w.n());
    Int8GemmProblem p;
    p.output = Int8OutputKind::Float;
    p.c = c;
    p.aScale = a.scale;
    p.bScales = weightScales;
    p.perChannelScales = perChannelScales;
    p.bias = bias;
    run(path, a, w, p, pool);
}

namespace {
void runRequantize(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                   const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                   int32_t outZeroPoint, void* c, Int8OutputKind kind, ThreadPool* pool, int32_t clampMin,
                   int32_t clampMax) {
    if (!multipliers)
        throw Error("int8 GEMM", "requantization multipliers are missing");
    const int32_t lo = kind == Int8OutputKind::Uint8 ? 0 : -128;
    const int32_t hi = kind == Int8OutputKind::Uint8 ? 255 : 127;
    if (outZeroPoint < lo || outZeroPoint > hi)
        throw Error("int8 GEMM", "output zero point " + std::to_string(outZeroPoint) + " is outside [" +
                                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
    const OutputClamp clamp = outputClamp(kind == Int8OutputKind::Uint8, clampMin, clampMax, "int8 GEMM");
    // Per-column lanes for the SIMD epilogues (one call's scratch: N entries, negligible beside
    // the GEMM).
    const size_t padded = static_cast<size_t>(w.panelCount()) * w.layout().panelWidth;
    thread_local AlignedBuffer<int32_t> lanes;
    lanes.reserveScratch(3 * padded);
    Int8GemmProblem p;
    p.output = kind;
    p.c = c;
    fillRequantizeLanes(multipliers, perChannel, bias, w.n(), padded, lanes.data(), p);
    p.outZeroPoint = outZeroPoint;
    p.clampMin = clamp.min;
    p.clampMax = clamp.max;
    run(path, a, w, p, pool);
}
} // namespace

void int8GemmRequantizeU8(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, uint8_t* c, ThreadPool* pool, int32_t clampMin,
                          int32_t clampMax) {
    runRequantize(path, a, w, multipliers, perChannel, bias, outZeroPoint, c, Int8OutputKind::Uint8, pool,
                  clampMin, clampMax);
}

void int8GemmRequantizeS8(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, int8_t* c, ThreadPool* pool, int32_t clampMin,
                          int32_t clampMax) {
    runRequantize(path, a, w, multipliers, perChannel, bias, outZeroPoint, c, Int8OutputKind::Int8, pool,
                  clampMin, clampMax);
}

} // namespace quantscope::kernels
