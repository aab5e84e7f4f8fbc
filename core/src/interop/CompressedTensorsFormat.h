#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// compressed-tensors' "quantization_config" (a Hugging Face config.json, or the block alone):
// config_groups of {targets, weights: {num_bits, type, symmetric, strategy, group_size, ...},
// input_activations}. Settings only: the scales live in the checkpoint (weight_scale,
// weight_zero_point), so weight entries import without parameters, and exported ones are grouped
// by identical settings with their module names as targets.
// Source: compressed_tensors/quantization/quant_config.py (QuantizationConfig) and quant_args.py
// (QuantizationArgs, QuantizationStrategy).
class CompressedTensorsFormat final : public ParamFileFormat {
public:
    std::string_view name() const override { return "compressed-tensors"; }
    std::string_view description() const override { return "compressed-tensors quantization_config"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
