#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// ONNX Runtime's TensorQuantOverrides (the extra_options entry of quantize_static) as a JSON file:
// {tensor name: [{"quant_type": "QUInt8", "scale": s, "zero_point": z, "symmetric": b,
// "reduce_range": b, "axis": a, "rmin": lo, "rmax": hi}]}. scale and zero_point come together and
// are per tensor; a per-channel override names an axis and lets ONNX Runtime compute the scales.
// Source: onnxruntime/python/tools/quantization/tensor_quant_overrides.py (TensorQuantOverridesHelper)
// and quantize.py's documentation of TensorQuantOverrides.
class OrtOverridesFormat final : public ParamFileFormat {
public:
    std::string_view name() const override { return "ort-overrides"; }
    std::string_view description() const override { return "ONNX Runtime TensorQuantOverrides"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
