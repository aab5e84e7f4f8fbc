#include "IntegerChunkQuantizer.h"

#include "kernels/ChunkRounding.h"
#include "quantscope/kernels/KernelRegistry.h"

#include <cmath>

namespace quantscope {
namespace {

using kernels::ChunkQuantizeResult;
using kernels::ChunkVersion;

const kernels::ChunkKernels& chunkKernels() {
    return kernels::KernelRegistry::active().chunk;
}

kernels::ChunkQuantizer chunkQuantizer(const IntegerQuantizer& quantizer) {
    return {quantizer.scale, quantizer.inverseScale, static_cast<float>(quantizer.zeroPoint),
            static_cast<float>(quantizer.qmin), static_cast<float>(quantizer.qmax)};
}

IntegerChunkQuantizer::Result toResult(const ChunkQuantizeResult& chunk) {
    IntegerChunkQuantizer::Result result;
    MetricSums& sums = result.sums;
    sums.sumX2 = chunk.sums.sumX2;
    sums.sumXhat2 = chunk.sums.sumXhat2;
    sums.sumXXhat = chunk.sums.sumXXhat;
    sums.sumAbs = chunk.sums.sumAbs;
    sums.maxAbs = chunk.sums.maxAbs;
    sums.sumClip2 = chunk.sums.sumClip2;
    sums.sumRound2 = chunk.sums.sumRound2;
    sums.count = chunk.sums.count;
    sums.clipped = chunk.sums.clipped;
    sums.nonfinite = chunk.sums.nonfinite;
    result.lowestCode = chunk.lowestCode;
    result.highestCode = chunk.highestCode;
    result.assumptionsHeld = chunk.assumptionsHeld;
    return result;
}

ChunkQuantizeResult quantizeVersion(ChunkVersion version, const float* values, int count,
                                    const kernels::ChunkQuantizer& quantizer, int32_t* integers,
                                    float* dequantized) {
    const auto& k = chunkKernels();
    const int at = static_cast<int>(version);
    return integers && dequantized
               ? k.quantizeWithOutputs[at](values, count, quantizer, integers, dequantized)
               : k.quantize[at](values, count, quantizer);
}

// The loops' own rounding, applied to the chunk's extremes.
float levelOf(float x, const kernels::ChunkQuantizer& q) {
    return kernels::roundScaled(x, q.inverseScale) + q.zeroPoint;
}

} // namespace

bool IntegerChunkQuantizer::finiteRange(const float* values, int count, float& lowest, float& highest) {
    if (count <= 0)
        return false;
    lowest = values[0];
    highest = values[0];
    return !chunkKernels().minMaxUnlessNonfinite(values, static_cast<size_t>(count), lowest, highest);
}

IntegerChunkQuantizer::Result IntegerChunkQuantizer::runFinite(const float* values, int count,
                                                               const IntegerQuantizer& quantizer,
                                                               float lowest, float highest, int32_t* integers,
                                                               float* dequantized) {
    const kernels::ChunkQuantizer q = chunkQuantizer(quantizer);
    // Rounding is monotonic, so the chunk's levels run from its lowest value's to its highest's:
    // the version to run is known up front and no level range is tracked.
    const float lowestLevel = levelOf(lowest, q);
    const float highestLevel = levelOf(highest, q);
    const bool mayClip = lowestLevel < q.qmin || highestLevel > q.qmax;
    Result result =
        toResult(quantizeVersion(mayClip ? ChunkVersion::ClipUntracked : ChunkVersion::NoClipUntracked,
                                 values, count, q, integers, dequantized));
    result.lowestCode = static_cast<uint32_t>(
        static_cast<int32_t>(kernels::clampLevel(lowestLevel, q.qmin, q.qmax) - q.qmin));
    result.highestCode = static_cast<uint32_t>(
        static_cast<int32_t>(kernels::clampLevel(highestLevel, q.qmin, q.qmax) - q.qmin));
    return result;
}

IntegerChunkQuantizer::Result IntegerChunkQuantizer::run(const float* values, int count,
                                                         const IntegerQuantizer& quantizer, int32_t* integers,
                                                         float* dequantized) {
    const kernels::ChunkQuantizer q = chunkQuantizer(quantizer);
    // The cheaper versions first; m_expectClipping skips the one that assumes no clipping, and is
    // updated from this chunk for the next one.
    if (!m_expectClipping) {
        const auto result =
            quantizeVersion(ChunkVersion::NoClipFinite, values, count, q, integers, dequantized);
        if (result.assumptionsHeld && std::isfinite(result.sums.sumX2))
            return toResult(result);
    }
    auto result = quantizeVersion(ChunkVersion::ClipFinite, values, count, q, integers, dequantized);
    if (!std::isfinite(result.sums.sumX2))
        result = quantizeVersion(ChunkVersion::ClipNonfinite, values, count, q, integers, dequantized);
    m_expectClipping = result.sums.clipped > 0;
    return toResult(result);
}

void IntegerChunkQuantizer::codes(const float* values, int count, const IntegerQuantizer& quantizer,
                                  uint32_t* codes) {
    chunkKernels().codes(values, count, chunkQuantizer(quantizer), codes);
}

} // namespace quantscope
