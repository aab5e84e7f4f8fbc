#pragma once

#include "quantscope/Progress.h"
#include "quantscope/metrics/ErrorMetrics.h"
#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"
#include "quantscope/tensor/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quantscope {

struct AnalysisOptions {
    bool keepIntegers = false;          // fill TensorAnalysis::integers (integer formats; nf4 code indices)
    bool keepDequantized = false;       // fill TensorAnalysis::dequantized
    bool perBlockMetrics = false;       // fill TensorAnalysis::blockMetrics
    std::optional<QParams> fixedParams; // use these (scale, zero point) instead of calibrating
    ProgressCallback progress;
};

// The result of calibrating and quantizing one tensor.
struct TensorAnalysis {
    std::string name;
    std::vector<int64_t> shape;
    TensorKind kind = TensorKind::Weight;
    QuantSpec spec;
    QParams params;
    ErrorMetrics metrics;
    std::vector<ErrorMetrics> blockMetrics;
    std::vector<int32_t> integers;
    std::vector<float> dequantized;
};

// Calibrates the clipping range of every block with spec.calib, computes the parameters and
// quantizes the tensor, measuring the error. With --calib moving-average the leading axis
// indexes the batches, observed in order. Throws Error for invalid settings.
TensorAnalysis analyzeTensor(const Tensor& tensor, const QuantSpec& spec,
                             const AnalysisOptions& options = {});

// The calibrated ranges, one per block (the first half of analyzeTensor).
std::vector<Range> calibrateBlocks(const Tensor& tensor, const QuantSpec& spec,
                                   const ProgressCallback& progress = {});

} // namespace quantscope
