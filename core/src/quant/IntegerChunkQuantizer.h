#pragma once

#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <cstdint>

namespace quantscope {

// The hot loop of tensor analysis for integer formats: quantizes up to kChunk contiguous values
// with one block's parameters and returns their error sums, vectorised for the processor it
// runs on. Results equal IntegerQuantizer's element by element. codes[i] receives q - qmin, or
// 0xFFFFFFFF for a non-finite value; integers and dequantized are written when both are given.
class IntegerChunkQuantizer {
public:
    static constexpr int kChunk = 4096;

    static MetricSums run(const float* values, int count, const IntegerQuantizer& quantizer, uint32_t* codes,
                          int32_t* integers, float* dequantized);
};

} // namespace quantscope
