#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// TensorRT's INT8 calibration cache: a header line "TRT-<version>-EntropyCalibration2" (or another
// calibrator's name), then one line "<tensor name>: <8 hex digits>" per tensor, the big-endian bits
// of the float32 scale, scale = amax / 127 (symmetric int8 on [-127, 127], zero point 0).
// Source: TensorRT's IInt8Calibrator::writeCalibrationCache and the sample calibrators
// (samples/common/EntropyCalibrator.h); the scale encoding is visible in any cache, e.g.
// amax 1.0 -> 1/127 -> 3c010204.
class TrtCacheFormat final : public ParamFileFormat {
public:
    std::string_view name() const override { return "trt-cache"; }
    std::string_view description() const override { return "TensorRT INT8 calibration cache"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
