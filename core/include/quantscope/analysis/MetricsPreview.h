#pragma once

#include "quantscope/analysis/FineHistogram.h"

#include "quantscope/metrics/ErrorMetrics.h"
#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>
#include <vector>

namespace quantscope::ui {

// Per-tensor parameters for a clipping range, and metrics estimated from a FineHistogram: each
// bin's values are taken as spread evenly over the bin and quantized at a few points. It costs
// O(bins), so the views follow a slider live; the exact metrics come later from a worker.
struct PreviewResult {
    float scale = 1.0f;
    int32_t zeroPoint = 0;
    ErrorMetrics metrics;
};

class MetricsPreview {
public:
    static PreviewResult estimate(const FineHistogram& histogram, const QuantSpec& spec, Range clip);
    // The dequantized values of the format's levels inside [from, to]; empty when there are more
    // than `maxLevels` of them (too dense to draw as a grid).
    static std::vector<double> levels(const QuantSpec& spec, float scale, int32_t zeroPoint, double from,
                                      double to, int maxLevels);
    // The fake-quantized value of x and whether it was clipped.
    static double fakeQuantize(double x, const QuantSpec& spec, float scale, int32_t zeroPoint, bool& clipped,
                               uint32_t& code);
};

} // namespace quantscope::ui
