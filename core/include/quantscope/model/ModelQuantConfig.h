#pragma once

#include "quantscope/export/QParamsDocument.h"
#include "quantscope/quant/QuantSpec.h"

#include <optional>

namespace quantscope {

// The quantization settings of a whole model.
struct ModelQuantConfig {
    // Every activation (graph inputs and node outputs); quantized per tensor.
    QuantSpec activation;
    // Every weight of a Gemm, MatMul or Conv. The axis is chosen per layer: the output-channel
    // axis for per-channel, the reduction (input) axis for per-group, Conv weights seen as
    // M x (C/group * kH * kW). Default: int8 symmetric per-channel, PyTorch's default.
    QuantSpec weight = defaultWeightSpec();
    // Per-tensor settings exported earlier (quantscope-qparams): an entry with scale and zero
    // point is applied exactly as written, one without them recomputes from its settings.
    std::optional<QParamsDocument> params;

    static QuantSpec defaultWeightSpec() {
        QuantSpec spec;
        spec.scheme = Scheme::Symmetric;
        spec.granularity = Granularity::Channel;
        return spec;
    }
};

} // namespace quantscope
