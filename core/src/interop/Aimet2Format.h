#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// AIMET encodings 2.0.0, aligned with onnx::QuantizeLinear: {"version": "2.0.0", "encodings":
// [{name, output_dtype ("int8", "uint4"...), y_scale, y_zero_point (optional, 0), axis, block_size}]}.
// y_scale is a number (per tensor), a list (per channel along axis) or a nested list over the block
// grid (per block along axis). The zero point is ONNX's: on the output dtype's own range.
// Source: AIMET's "Encoding Format Specification", section "Version 2.0.0".
class Aimet2Format final : public ParamFileFormat {
public:
    std::string_view name() const override { return "aimet-2"; }
    std::string_view description() const override { return "AIMET encodings 2.0.0"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
