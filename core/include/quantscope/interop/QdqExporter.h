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
// Supported: models of opset 13 or later; int8 / uint8 per tensor or per channel (opset 13);
// int4 / uint4 and int16 / uint16 weights (INT4 / UINT4 initializers packed two per byte) and
// per-group weights as blocked DequantizeLinear (axis, block_size) need opset 21: the model is
// raised to opset 21 then (refused when one of its ops changed meaning on the way), and a note
// says so. Activations: 8 or 16 bits, per tensor.
class QdqExporter {
public:
    // Throws Error naming the model, the tensor or the entry when the export is not possible
    // (an entry naming no tensor of the model, an unsupported format, an old opset).
    static std::string exportModel(const std::string& modelPath, const QParamsDocument& params,
                                   std::vector<ConversionNote>& notes);
};

} // namespace quantscope
