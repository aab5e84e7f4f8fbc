#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// ONNX Runtime's calibration table: the ranges calibrate.py's write_calibration_table saves.
// Reads calibration.json (TensorsData: {"CLS": "TensorsData", "data": {name: {"lowest",
// "highest"}}}, numbers or {"data", "dtype", "CLS": "numpy.array"}), a plain {name: [lowest,
// highest]} mapping, and calibration.cache ("<name> <value>" per line, the larger of the two
// values). Writes calibration.json. Ranges only: on import the scale and zero point are computed
// with uint8 affine rules (ONNX Runtime's default activation type).
// Source: onnxruntime/python/tools/quantization/calibrate.py (TensorData, TensorsData,
// write_calibration_table).
class OrtTableFormat final : public ParamFileFormat {
public:
    std::string_view name() const override { return "ort-table"; }
    std::string_view description() const override { return "ONNX Runtime calibration table (ranges)"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
