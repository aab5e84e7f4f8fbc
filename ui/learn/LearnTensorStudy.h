#pragma once

#include "quantscope/analysis/TensorSettings.h"

#include "quantscope/Progress.h"
#include "quantscope/metrics/ErrorMetrics.h"
#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"
#include "quantscope/tensor/Tensor.h"

#include <QMetaType>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace quantscope::ui {

// What the Learn view's tensor lessons show for one tensor and its settings, all measured by the
// core's analyzeTensor / calibrateBlocks on a worker:
//  - the per-tensor clipping range each scheme calibrates (the mapping lesson),
//  - a bit-width sweep 16 -> 2 bits with the scheme, granularity and calibration kept,
//  - granularity (tensor, channel, groups of 128 / 64 / 32 along the last axis; groups as long as
//    the axis are left out, they equal per channel) against bits per value, at 8, 4 and 3 bits,
//  - every calibration method's range and its clipping and rounding share of the MSE.
struct LearnTensorStudy {
    struct BitPoint {
        int bits = 0;
        ErrorMetrics metrics;
    };
    struct GranularityPoint {
        int bits = 0;
        Granularity granularity = Granularity::Tensor;
        int axis = 0;
        int64_t groupSize = 0;
        int64_t blocks = 1;
        double bitsPerValue = 0.0; // storage including one float32 scale (and zero point if affine) per block
        ErrorMetrics metrics;
        std::string label() const; // "tensor", "channel", "group 32"
    };
    struct CalibrationPoint {
        CalibMethod method = CalibMethod::MinMax;
        Range range;
        ErrorMetrics metrics;
    };

    std::string tensorName;
    TensorSettings settings;
    QuantSpec baseSpec;   // the settings' spec as an integer format (float formats become int8)
    Range symmetricRange; // per tensor, with the settings' calibration method
    Range affineRange;
    std::vector<BitPoint> bitSweep;
    std::vector<GranularityPoint> granularity;
    std::vector<CalibrationPoint> calibration;

    static constexpr int kHighestBits = 16;
    static constexpr int kLowestBits = 2;

    // The integer spec the lessons start from: the tensor's spec when it is an integer format,
    // int8 with the same scheme and calibration otherwise; per tensor.
    static QuantSpec lessonSpec(const QuantSpec& spec);
    // The range calibration picks for the whole tensor with `spec` (a manual range wins).
    static Range perTensorRange(const Tensor& tensor, const QuantSpec& spec, const TensorSettings& settings);

    static LearnTensorStudy compute(const Tensor& tensor, const TensorSettings& settings,
                                    const ProgressCallback& progress);
};

} // namespace quantscope::ui

Q_DECLARE_METATYPE(std::shared_ptr<const quantscope::ui::LearnTensorStudy>)
