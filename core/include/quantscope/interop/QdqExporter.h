#pragma once

#include "quantscope/export/QParamsDocument.h"
#include "quantscope/interop/ParamFileFormat.h"

#include <string>
#include <vector>

namespace quantscope {

// Writes an ONNX model in QDQ form: every weight of the document becomes an integer initializer
// followed by DequantizeLinear (per tensor, or per axis), every activation a QuantizeLinear /
// DequantizeLinear pair after the value; the scales and zero points are exactly the document's.
// Weights are rounded with Quantscope's own rule (x * (1/S), ties to even), as static mode does.
// Supported: 8-bit integer formats, per tensor or per channel, models of opset 13 or later.
// int4 / int16 and per-group (blocked) weights need opset 21's QuantizeLinear and are refused.
class QdqExporter {
public:
    // Throws Error naming the model, the tensor or the entry when the export is not possible
    // (an entry naming no tensor of the model, an unsupported format, an old opset).
    static std::string exportModel(const std::string& modelPath, const QParamsDocument& params,
                                   std::vector<ConversionNote>& notes);
};

} // namespace quantscope
