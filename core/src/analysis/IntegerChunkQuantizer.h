#pragma once

#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <cstdint>

namespace quantscope {

// The hot loop of tensor analysis for integer formats: quantizes up to kChunk contiguous values
// with one block's parameters and returns their error sums, vectorised for the processor it
// runs on. Results equal IntegerQuantizer's element by element; integers and dequantized are
// written when both are given.
class IntegerChunkQuantizer {
public:
    static constexpr int kChunk = 4096;

    struct Result {
        MetricSums sums;
        // The smallest and largest code of a finite value (lowestCode > highestCode when none),
        // so that level counting can skip chunks whose levels are all known to be used.
        uint32_t lowestCode = 0;
        uint32_t highestCode = 0;
        bool assumptionsHeld = true; // (internal: a cheaper version's check)
    };

    // Not static: remembers whether the last chunk clipped values, to pick the version to try first.
    Result run(const float* values, int count, const IntegerQuantizer& quantizer, int32_t* integers,
               float* dequantized);
    // The same for a chunk known to hold only finite values, from `lowest` to `highest` (as
    // finiteRange gave them): the version to run is known up front and no level range is tracked.
    static Result runFinite(const float* values, int count, const IntegerQuantizer& quantizer, float lowest,
                            float highest, int32_t* integers, float* dequantized);
    // The smallest and largest of count >= 1 values; false when one of them is not finite (then
    // lowest and highest mean nothing) or count is 0.
    static bool finiteRange(const float* values, int count, float& lowest, float& highest);
    // The level of each value for level counting: codes[i] = q - qmin, or 0xFFFFFFFF for a
    // non-finite value. Only needed for chunks whose levels are not all marked yet.
    static void codes(const float* values, int count, const IntegerQuantizer& quantizer, uint32_t* codes);

private:
    bool m_expectClipping = false;
};

} // namespace quantscope
