#pragma once

#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>

namespace quantscope::ui {

// One value walked through x_q = clamp(round(x/S + Z), qmin, qmax) and back, with every
// intermediate number, for one integer format and scheme. The parameters come from the core's
// computeBlockParams and the integer from its IntegerQuantizer, so the steps are the numbers the
// analysis and the export use, not a re-derivation.
struct LearnMappingSteps {
    QuantSpec spec;
    Range range;         // calibrated clipping range of the tensor
    float minNeg = 0.0f; // min(min, 0)
    float maxPos = 0.0f; // max(max, 0)
    float scale = 1.0f;
    int32_t zeroPoint = 0;
    int64_t qmin = 0;
    int64_t qmax = 0;

    float x = 0.0f;
    float inverseScale = 1.0f; // the float32 reciprocal the quantizer multiplies by
    float divided = 0.0f;      // x · (1/S) in float32
    double shifted = 0.0;      // x/S + Z before rounding
    float rounded = 0.0f;      // round half to even (IntegerQuantizer::unclamped)
    int32_t quantized = 0;     // after clamping to [qmin, qmax]
    bool clipped = false;
    float dequantized = 0.0f; // (x_q - Z) · S
    double error = 0.0;       // x - x̂

    // The representable float interval [(qmin - Z)·S, (qmax - Z)·S].
    double gridLow = 0.0;
    double gridHigh = 0.0;
    // Levels whose value lies outside the tensor's range [min, max] by more than half a step:
    // no value of the tensor can ever use them.
    int64_t wastedLevels = 0;

    // Throws Error when the format is not an integer format.
    static LearnMappingSteps compute(float x, Range range, const QuantSpec& spec);
};

} // namespace quantscope::ui
