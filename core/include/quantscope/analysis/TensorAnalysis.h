#pragma once

#include "quantscope/Progress.h"
#include "quantscope/metrics/ErrorMetrics.h"
#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"
#include "quantscope/tensor/FloatBuffer.h"
#include "quantscope/tensor/Tensor.h"
#include "quantscope/tensor/TensorView.h"

#include <cstdint>
#include <functional>
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
TensorAnalysis analyzeTensor(const TensorView& tensor, const QuantSpec& spec,
                             const AnalysisOptions& options = {});

// Reads values [first, first + count) of a tensor, row-major, into `destination`
// (WeightFile::decodeRange).
using ValueRangeReader = std::function<void(int64_t first, int64_t count, float* destination)>;

// Whether analyzeTensorInSlices can analyse a tensor of `shape` with these settings: integer
// formats calibrated min-max, per channel of the leading axis or per group along the last (blocks
// that are contiguous runs of at least 64 values), without fixed parameters. Throws Error for
// settings invalid for the shape, as analyzeTensor does.
bool analysisGoesInSlices(const std::vector<int64_t>& shape, const QuantSpec& spec,
                          const AnalysisOptions& options);

// analyzeTensor for a tensor read from `read` slice by slice (whole blocks, about 256 KB of
// float32 at a time, decoded into `buffer`) while each slice is in the cache: the tensor is never
// whole in memory, and the results equal analyzeTensor's bit for bit. Throws Error when
// !analysisGoesInSlices.
TensorAnalysis analyzeTensorInSlices(const std::string& name, const std::vector<int64_t>& shape,
                                     const QuantSpec& spec, const AnalysisOptions& options,
                                     const ValueRangeReader& read, FloatBuffer& buffer);

// The calibrated ranges, one per block (the first half of analyzeTensor).
std::vector<Range> calibrateBlocks(const TensorView& tensor, const QuantSpec& spec,
                                   const ProgressCallback& progress = {});

} // namespace quantscope
