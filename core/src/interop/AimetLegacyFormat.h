#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// AIMET encodings 0.6.1 (also reads 0.4 / 0.5): "activation_encodings" and "param_encodings" map a
// tensor name to a list of encodings {bitwidth, dtype, is_symmetric ("True"/"False"), min, max,
// offset, scale}; more than one encoding is per channel (the output-channel axis, 0).
// Source: AIMET's "Encoding Format Specification", section "Version 0.6.1".
class AimetLegacyFormat final : public ParamFileFormat {
public:
    std::string_view name() const override { return "aimet"; }
    std::string_view description() const override { return "AIMET encodings 0.6.1"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
