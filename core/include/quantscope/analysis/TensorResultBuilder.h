#pragma once

#include "quantscope/analysis/TensorResult.h"

#include "quantscope/Progress.h"
#include "quantscope/tensor/Tensor.h"

#include <map>
#include <memory>

namespace quantscope::ui {

// The worker-side computations behind the views, all through the core's functions so the GUI's
// numbers are the CLI's numbers. Each runs on a worker thread and honours cancellation.
class TensorResultBuilder {
public:
    static constexpr int kErrorBins = 201;
    static constexpr int kTransferPoints = 6000;

    // analyzeTensor with the settings (a manual range becomes fixed parameters), then the error
    // histogram and the transfer-curve sample from the dequantized values.
    static std::shared_ptr<TensorResult> build(const Tensor& tensor, const TensorSettings& settings,
                                               const ProgressCallback& progress);
    // Only the metrics, for the tensor table.
    static TensorSummary summarize(const Tensor& tensor, const TensorSettings& settings,
                                   const ProgressCallback& progress);
    // The range each calibration method picks for the whole tensor with these settings; a method
    // the core refuses for them is left out.
    static std::map<CalibMethod, Range> calibrationMarkers(const Tensor& tensor, const QuantSpec& spec,
                                                           const ProgressCallback& progress);
};

} // namespace quantscope::ui
