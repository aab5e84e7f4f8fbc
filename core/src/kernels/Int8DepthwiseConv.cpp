#include "quantscope/kernels/Int8DepthwiseConv.h"

#include "CopyBytes.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/AlignedBuffer.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace quantscope::kernels {

namespace {

constexpr const char* kSubject = "int8 depthwise conv";

void checkShape(const DepthwiseConvShape& s) {
    auto positive = [](int value, const char* what) {
        if (value < 1 || value > (1 << 24))
            throw Error(kSubject,
                        std::string(what) + " must be in [1, 16777216], got " + std::to_string(value));
    };
    positive(s.batch, "batch");
    positive(s.channels, "channels");
    positive(s.height, "height");
    positive(s.width, "width");
    positive(s.channelMultiplier, "channel multiplier");
    positive(s.kernelH, "kernel height");
    positive(s.kernelW, "kernel width");
    positive(s.strideH, "stride");
    positive(s.strideW, "stride");
    positive(s.dilationH, "dilation");
    positive(s.dilationW, "dilation");
    for (int pad : {s.padTop, s.padLeft, s.padBottom, s.padRight})
        if (pad < 0 || pad > (1 << 16))
            throw Error(kSubject, "pads must be in [0, 65536], got " + std::to_string(pad));
    if (s.outHeight() < 1 || s.outWidth() < 1 ||
        s.height + s.padTop + s.padBottom < s.dilationH * (s.kernelH - 1) + 1 ||
        s.width + s.padLeft + s.padRight < s.dilationW * (s.kernelW - 1) + 1)
        throw Error(kSubject, "the kernel (with dilation) is larger than the padded input");
    const size_t paddedPlane = static_cast<size_t>(s.height + s.padTop + s.padBottom) *
                               static_cast<size_t>(s.width + s.padLeft + s.padRight);
    if (paddedPlane > (size_t{1} << 31))
        throw Error(kSubject, "one padded input plane exceeds 2^31 values");
}

void checkInputZeroPoint(int32_t inputZeroPoint) {
    if (inputZeroPoint < 0 || inputZeroPoint > 255)
        throw Error(kSubject, "input zero point " + std::to_string(inputZeroPoint) + " is outside [0, 255]");
}

// Runs the path's plane kernel over every output plane, the output stage set by
// stage(job, plane, outputChannel). Each range of planes copies its input planes into a thread's
// scratch inside a border filled once per range with the input zero point, so padding adds
// (zx - zx) * w = 0, and the kernel works on raw values (the stage folds -zx * sum(w) into its bias).
template <class Stage>
void runPlanes(const KernelTable& path, const DepthwiseConvShape& shape, const uint8_t* input,
               int32_t inputZeroPoint, const int8_t* weights, ThreadPool* pool, const Stage& stage) {
    const auto planeKernel = KernelRegistry::provider(path, &KernelTable::depthwisePlane).depthwisePlane;
    const int outChannels = shape.outChannels();
    const int outH = shape.outHeight(), outW = shape.outWidth();
    const int paddedH = shape.height + shape.padTop + shape.padBottom;
    const int paddedW = shape.width + shape.padLeft + shape.padRight;
    const size_t inPlane = static_cast<size_t>(shape.height) * shape.width;
    const size_t scratchValues =
        std::max(static_cast<size_t>(outH) * outW, static_cast<size_t>(outH) * paddedW) + 32;
    const int taps = shape.kernelH * shape.kernelW;

    auto planes = [&](int begin, int end) {
        thread_local AlignedBuffer<uint8_t> padded;
        thread_local AlignedBuffer<int32_t> acc;
        padded.reserveScratch(static_cast<size_t>(paddedH) * paddedW + kDepthwiseSlack);
        acc.reserveScratch(scratchValues);
        std::memset(padded.data(), inputZeroPoint, static_cast<size_t>(paddedH) * paddedW);
        long loaded = -1;
        // (n, oc) of plane `begin`, then stepped along: no divisions per plane.
        int n = begin / outChannels, oc = begin % outChannels;
        for (int plane = begin; plane < end; ++plane, ++oc) {
            if (oc == outChannels) {
                oc = 0;
                ++n;
            }
            const long source = static_cast<long>(n) * shape.channels +
                                (shape.channelMultiplier == 1 ? oc : oc / shape.channelMultiplier);
            if (source != loaded) { // the border stays as filled above: only the inside is copied
                const uint8_t* src = input + static_cast<size_t>(source) * inPlane;
                for (int h = 0; h < shape.height; ++h)
                    copyBytes(padded.data() + static_cast<size_t>(h + shape.padTop) * paddedW + shape.padLeft,
                              src + static_cast<size_t>(h) * shape.width, static_cast<size_t>(shape.width));
                loaded = source;
            }
            DepthwisePlane job;
            job.x = padded.data();
            job.width = paddedW;
            job.w = weights + static_cast<size_t>(oc) * taps;
            job.kernelH = shape.kernelH;
            job.kernelW = shape.kernelW;
            job.strideH = shape.strideH;
            job.strideW = shape.strideW;
            job.dilationH = shape.dilationH;
            job.dilationW = shape.dilationW;
            job.outH = outH;
            job.outW = outW;
            job.acc = acc.data();
            int32_t weightSum = 0;
            for (int t = 0; t < taps; ++t)
                weightSum += job.w[t];
            job.bias = static_cast<int32_t>(0u - static_cast<uint32_t>(inputZeroPoint) *
                                                     static_cast<uint32_t>(weightSum));
            stage(job, plane, oc);
            planeKernel(job);
        }
    };
    const int planeCount = shape.batch * outChannels;
    if (pool && pool->threadCount() > 1)
        pool->parallelFor(planeCount, planes);
    else
        planes(0, planeCount);
}

} // namespace

IsaPath int8DepthwiseConvPath(const KernelTable& path) {
    return KernelRegistry::provider(path, &KernelTable::depthwisePlane).path;
}

void int8DepthwiseConv(const KernelTable& path, const DepthwiseConvShape& shape, const uint8_t* input,
                       int32_t inputZeroPoint, const int8_t* weights, const int32_t* bias,
                       const FixedPointMultiplier* multipliers, bool perChannel, int32_t outputZeroPoint,
                       uint8_t* output, ThreadPool* pool, int32_t clampMin, int32_t clampMax) {
    checkShape(shape);
    if (!input || !weights || !multipliers || !output)
        throw Error(kSubject, "input, weights, multipliers and output must be given");
    checkInputZeroPoint(inputZeroPoint);
    if (outputZeroPoint < 0 || outputZeroPoint > 255)
        throw Error(kSubject,
                    "output zero point " + std::to_string(outputZeroPoint) + " is outside [0, 255]");
    const OutputClamp clamp = outputClamp(true, clampMin, clampMax, kSubject);
    const size_t outPlane = static_cast<size_t>(shape.outHeight()) * shape.outWidth();
    runPlanes(path, shape, input, inputZeroPoint, weights, pool, [&](DepthwisePlane& job, int plane, int oc) {
        const FixedPointMultiplier& m = multipliers[perChannel ? oc : 0];
        job.bias = static_cast<int32_t>(static_cast<uint32_t>(bias ? bias[oc] : 0) +
                                        static_cast<uint32_t>(job.bias));
        job.multiplier = m.multiplier();
        job.shift = m.shift();
        job.zeroPoint = outputZeroPoint;
        job.clampMin = clamp.min;
        job.clampMax = clamp.max;
        job.y8 = output + static_cast<size_t>(plane) * outPlane;
    });
}

void int8DepthwiseConvFloat(const KernelTable& path, const DepthwiseConvShape& shape, const uint8_t* input,
                            int32_t inputZeroPoint, const int8_t* weights, const float* scales,
                            const float* bias, float* output, ThreadPool* pool) {
    checkShape(shape);
    if (!input || !weights || !scales || !output)
        throw Error(kSubject, "input, weights, scales and output must be given");
    checkInputZeroPoint(inputZeroPoint);
    const size_t outPlane = static_cast<size_t>(shape.outHeight()) * shape.outWidth();
    runPlanes(path, shape, input, inputZeroPoint, weights, pool, [&](DepthwisePlane& job, int plane, int oc) {
        job.scale = scales[oc];
        job.floatBias = bias ? bias[oc] : 0.0f;
        job.yFloat = output + static_cast<size_t>(plane) * outPlane;
    });
}

} // namespace quantscope::kernels
