#pragma once

#include "quantscope/analysis/TensorSettings.h"

#include "quantscope/analysis/TensorAnalysis.h"

#include <optional>
#include <vector>

namespace quantscope::ui {

// The exact result for one tensor and one TensorSettings, computed on a worker by the core's
// analyzeTensor: the parameters and metrics, plus what the error view draws (the error histogram
// and a sorted sample of (x, x̂) pairs for the transfer curve). The big arrays are not kept.
struct TensorResult {
    TensorSettings settings;
    TensorAnalysis analysis; // integers and dequantized left empty
    double errorMin = 0.0;
    double errorMax = 0.0;
    std::vector<double> errorCounts; // histogram of x - x̂ over [errorMin, errorMax]
    std::vector<double> transferX;   // sample sorted by x
    std::vector<double> transferY;
    double sizeBytes = 0.0; // quantizedStorageBytes(): the values and the per-block parameters stored
};

// Exact metrics for the tensor table (computed for every tensor, so nothing else is kept).
struct TensorSummary {
    TensorSettings settings;
    ErrorMetrics metrics;
};

} // namespace quantscope::ui
