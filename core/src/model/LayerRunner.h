#pragma once

// Internal to core: runs one quantized layer (Gemm, MatMul or Conv with constant weights) of a
// QuantizedModel in weight-only, dynamic or simulated static mode, on the int8 / int4 kernels
// where the layer fits them.

#include "quantscope/model/Executor.h"
#include "quantscope/model/QuantizedModel.h"

#include <vector>

namespace quantscope {

namespace kernels {
class ThreadPool;
}

class LayerRunner {
public:
    // `pool` (may be null) runs the int8 GEMMs; both must outlive the runner.
    LayerRunner(const Executor& executor, kernels::ThreadPool* pool);

    // Whether an activation of this spec can be the int8 core's uint8 input: an integer format
    // of at most 256 levels, per tensor.
    static bool takesCodes(const QuantSpec& spec);

    // Weight-only: the int4 kernel when the layer has int4 blocks, else the fp32 op on the
    // dequantized weights.
    std::vector<Value> weightOnly(const QuantizedModel::Layer& layer, const Value& dequantized,
                                  const std::vector<const Value*>& inputs) const;

    // Dynamic: the input quantized with its own min / max (per image for a Conv, so a result
    // does not depend on the other images of the batch; per batch otherwise, as PyTorch's
    // dynamic Linear), then the int8 GEMM with a float epilogue. False when a Conv does not fit
    // the int8 core: it then stays fp32 (fp32 on dequantized weights is not dynamic quantization).
    bool dynamic(const QuantizedModel::Layer& layer, const Value& dequantized, const QuantSpec& spec,
                 const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const;

    // Static mode's simulation: the input is already quantize-dequantized with `input`'s
    // calibrated parameters (null: a constant input, then only the weights are quantized).
    std::vector<Value> simulatedStatic(const QuantizedModel::Layer& layer, const Value& dequantized,
                                       const QParamsEntry* input,
                                       const std::vector<const Value*>& inputs) const;

private:
    const Node& nodeOf(const QuantizedModel::Layer& layer) const;
    // The layer on the int8 core for an input quantized with (xParams, xSpec); float output.
    Value integerLayer(const QuantizedModel::Layer& layer, const Value& x, const QParams& xParams,
                       const QuantSpec& xSpec, const std::vector<const Value*>& inputs) const;
    // Dynamic mode's one-group Conv through kernels::int8ConvDequantize: each image quantized
    // with its own min / max, all images in one call; the same floats as integerLayer per image.
    Value dynamicConv(const QuantizedModel::Layer& layer, const Value& x, const QuantSpec& spec,
                      const std::vector<const Value*>& inputs) const;
    // Dynamic mode's depthwise Conv through kernels::int8DepthwiseConvFloat, image by image (each
    // with its own min / max); the same floats as integerLayer per image.
    Value dynamicDepthwiseConv(const QuantizedModel::Layer& layer, const Value& x, const QuantSpec& spec,
                               const std::vector<const Value*>& inputs) const;
    // Other dynamic Convs (grouped, or weight zero points that differ): integerLayer image by image.
    Value dynamicConvByImage(const QuantizedModel::Layer& layer, const Value& x, const QuantSpec& spec,
                             const std::vector<const Value*>& inputs) const;

    const Executor& m_executor;
    kernels::ThreadPool* m_pool;
};

} // namespace quantscope
