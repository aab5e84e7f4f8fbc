#include "quantscope/kernels/Int8Gemm.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"

#include <cmath>
#include <string>

namespace quantscope::kernels {

namespace {

// Packs A into the path's slivers (see Int8Layout) and computes its row sums. A scratch buffer per
// thread is reused between calls, so a GEMV does not allocate. The group size is a template
// argument so the per-group copy compiles to a few moves (no division per element).
template <class T, int Group>
void packActivations(const QuantizedActivations& a, int block, int kPadded, T* dst, int32_t* rowSums) {
    const int fullGroups = a.k / Group;
    const int tail = a.k % Group;
    for (int row = 0; row < a.m; ++row) {
        T* d = dst + static_cast<size_t>(row / block) * block * kPadded + (row % block) * Group;
        const uint8_t* src = a.data + static_cast<size_t>(row) * a.k;
        int32_t sum = 0;
        for (int k = 0; k < a.k; ++k)
            sum += src[k];
        rowSums[row] = sum;
        for (int g = 0; g < fullGroups; ++g, d += block * Group, src += Group)
            for (int i = 0; i < Group; ++i)
                d[i] = static_cast<T>(src[i]);
        if (tail) // K padding is zero, as in the weights
            for (int i = 0; i < Group; ++i)
                d[i] = i < tail ? static_cast<T>(src[i]) : T{0};
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
    if (layout.activationsAsInt16 && layout.kGroup == 2)
        packActivations<int16_t, 2>(a, layout.rowBlock, w.kPadded(),
                                    reinterpret_cast<int16_t*>(packed.data()), rowSums.data());
    else if (!layout.activationsAsInt16 && layout.kGroup == 4)
        packActivations<uint8_t, 4>(a, layout.rowBlock, w.kPadded(), packed.data(), rowSums.data());
    else
        throw Error("int8 GEMM", "unsupported activation layout");
    // Rows of the last sliver past M stay as they were: their results are never stored.

    p.m = a.m;
    p.n = w.n();
    p.k = w.k();
    p.kPadded = w.kPadded();
    p.packedA = packed.data();
    p.rowSums = rowSums.data();
    p.aZeroPoint = a.zeroPoint;
    p.packedB = w.data();
    p.colSums = w.columnSums();
    p.bZeroPoint = w.zeroPoint();
    p.ldc = w.n();
    auto kernel = path.int8GemmPanels;
    if (pool && pool->threadCount() > 1)
        pool->parallelFor(w.panelCount(), [&](int begin, int end) { kernel(p, begin, end); });
    else
        kernel(p, 0, w.panelCount());
}

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
                   int32_t outZeroPoint, void* c, Int8OutputKind kind, ThreadPool* pool) {
    if (!multipliers)
        throw Error("int8 GEMM", "requantization multipliers are missing");
    const int32_t lo = kind == Int8OutputKind::Uint8 ? 0 : -128;
    const int32_t hi = kind == Int8OutputKind::Uint8 ? 255 : 127;
    if (outZeroPoint < lo || outZeroPoint > hi)
        throw Error("int8 GEMM", "output zero point " + std::to_string(outZeroPoint) + " is outside [" +
                                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
    Int8GemmProblem p;
    p.output = kind;
    p.c = c;
    p.multipliers = multipliers;
    p.perChannelMultipliers = perChannel;
    p.biasInt32 = bias;
    p.outZeroPoint = outZeroPoint;
    run(path, a, w, p, pool);
}
} // namespace

void int8GemmRequantizeU8(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, uint8_t* c, ThreadPool* pool) {
    runRequantize(path, a, w, multipliers, perChannel, bias, outZeroPoint, c, Int8OutputKind::Uint8, pool);
}

void int8GemmRequantizeS8(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, int8_t* c, ThreadPool* pool) {
    runRequantize(path, a, w, multipliers, perChannel, bias, outZeroPoint, c, Int8OutputKind::Int8, pool);
}

} // namespace quantscope::kernels
