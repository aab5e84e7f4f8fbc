#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// AIMET encodings 1.0.0: "param_encodings" and "activation_encodings" are lists of
// {name, dtype ("INT"/"FLOAT"), enc_type (PER_TENSOR, PER_CHANNEL, PER_BLOCK), is_sym, bw, scale [...],
// offset [...], block_size}. PER_CHANNEL runs along the output-channel axis (0) and PER_BLOCK cuts
// the input-channel axis (1) into blocks, as AIMET's exporters lay out Linear / Conv weights.
// Source: AIMET's "Encoding Format Specification", section "Version 1.0.0".
class Aimet1Format final : public ParamFileFormat {
public:
    std::string_view name() const override { return "aimet-1"; }
    std::string_view description() const override { return "AIMET encodings 1.0.0"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
