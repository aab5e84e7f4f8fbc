#include "learn/LearnMappingSteps.h"

#include "quantscope/Error.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ui {

LearnMappingSteps LearnMappingSteps::compute(float x, Range range, const QuantSpec& spec) {
    if (!spec.format.isInteger())
        throw Error(
            "format",
            "the step-by-step mapping is shown for integer formats (int2..int16, uint2..uint16), not " +
                spec.format.name());
    LearnMappingSteps s;
    s.spec = spec;
    s.range = range;
    s.minNeg = std::min(range.min, 0.0f);
    s.maxPos = std::max(range.max, 0.0f);
    s.qmin = spec.qmin();
    s.qmax = spec.qmax();
    computeBlockParams(range, spec, s.scale, s.zeroPoint);
    const IntegerQuantizer quantizer(s.scale, s.zeroPoint, static_cast<int32_t>(s.qmin),
                                     static_cast<int32_t>(s.qmax));
    s.x = x;
    s.inverseScale = quantizer.inverseScale;
    s.divided = x * quantizer.inverseScale;
    s.shifted = static_cast<double>(s.divided) + s.zeroPoint;
    s.rounded = quantizer.unclamped(x);
    s.quantized = quantizer.quantize(x);
    s.clipped = s.rounded < static_cast<float>(s.qmin) || s.rounded > static_cast<float>(s.qmax);
    s.dequantized = quantizer.dequantize(s.quantized);
    s.error = static_cast<double>(x) - static_cast<double>(s.dequantized);
    s.gridLow = static_cast<double>(quantizer.dequantize(static_cast<int32_t>(s.qmin)));
    s.gridHigh = static_cast<double>(quantizer.dequantize(static_cast<int32_t>(s.qmax)));
    // Levels q with (q - Z)·S < min - S/2 or > max + S/2, counted without a loop over 2^16 levels.
    const double half = 0.5 * s.scale;
    const double lowestUseful = std::ceil((range.min - half) / s.scale) + s.zeroPoint;
    const double highestUseful = std::floor((range.max + half) / s.scale) + s.zeroPoint;
    const double below =
        std::clamp(lowestUseful - static_cast<double>(s.qmin), 0.0, static_cast<double>(s.qmax - s.qmin + 1));
    const double above = std::clamp(static_cast<double>(s.qmax) - highestUseful, 0.0,
                                    static_cast<double>(s.qmax - s.qmin + 1));
    s.wastedLevels = std::min<int64_t>(static_cast<int64_t>(below + above), s.qmax - s.qmin + 1);
    return s;
}

} // namespace quantscope::ui
