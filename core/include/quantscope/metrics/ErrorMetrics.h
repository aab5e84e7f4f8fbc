#pragma once

#include <cmath>
#include <cstdint>
#include <string>

namespace quantscope {

// DESIGN.md's error metrics, computed over the finite values; `nonfinite` counts the others.
// mse == clipMse + roundMse: the error of values outside the clipping range and inside it,
// both divided by the same count.
struct ErrorMetrics {
    int64_t count = 0;
    int64_t nonfinite = 0;
    int64_t clippedCount = 0;
    double mse = 0.0;
    double rmse = 0.0;
    double meanAbsError = 0.0;
    double maxAbsError = 0.0;
    double sqnrDb = std::nan(""); // NaN when sqnrNote is set
    std::string sqnrNote;         // "", "exact" or "zero signal"
    double cosine = 1.0;
    double clippedFraction = 0.0;
    double clipMse = 0.0;
    double roundMse = 0.0;
    int64_t levelsUsed = 0;
};

} // namespace quantscope
