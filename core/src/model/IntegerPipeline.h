#pragma once

// Internal to core: static int8 as an integer pipeline (ONNX Runtime's QOperator format).
//
// Planned once after calibration. Every activation whose format has at most 256 per-tensor levels
// flows between ops as one byte per value (QuantLevels codes). Ops with an integer version run on
// the codes:
// - Conv / Gemm / MatMul with int8 weights requantize straight to the output's codes in the GEMM
//   epilogue: M[c] = s_x * s_w[c] / s_y as a FixedPointMultiplier, bias as int32
//   round_half_even(bias[c] / (s_x * s_w[c])). A one-group Conv is kernels::int8ConvRequantizeU8
//   (NHWC window tiles into the int8 GEMM, padding = the zero point, weights reordered and packed
//   here once); a grouped one u8 im2row + the int8 GEMM per group, transposed to NCHW; depthwise Conv runs
//   kernels::int8DepthwiseConv when its weights are symmetric, depthwiseConvU8 otherwise. MaxPool and Flatten
//   work on the codes.
// - Fusion rule: when such an op's only reader is a Relu or a Clip (constant bounds) and its
//   output is no graph output, the GEMM epilogue requantizes to the producer's own calibrated
//   parameters (s_p, z_p) and the fused op is applied to those codes in the same step: as a clamp
//   to [table(0), table(max)] when the fused op's output has the producer's parameters (a Relu is
//   exactly max(q, z_p) then), otherwise as its 256-entry table (dequantize with (s_p, z_p), op,
//   quantize with the op's own (s_r, z_r)). Both round exactly where QDQ on every value does,
//   so the pipeline differs from the simulation only by the fixed-point multiplier.
// - Element-wise functions of one activation (Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh,
//   Gelu, LeakyRelu ...) are a 256-entry table computed with the fp32 op itself: bit-exact with
//   dequantize, op, quantize.
// - Add / Mul (QLinearAdd / QLinearMul), AveragePool / GlobalAveragePool (integer sum, rounded
//   once), Concat (inputs requantized by table to the output's parameters).
// - Ops that only move or select values (Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
//   Identity, Pad with zero, Resize / Upsample nearest, Slice, Gather, Split, MaxPool, Tile,
//   Expand, DepthToSpace, SpaceToDepth) run the fp32 op on (code - zero point), which is exact,
//   and requantize by table when the output's parameters differ from the input's.
// Every other op runs in fp32 on dequantized inputs and its outputs are quantized again. Values
// are dequantized only there and at the graph outputs.

#include "quantscope/model/Executor.h"
#include "quantscope/model/IntegerOps.h"
#include "quantscope/model/QuantizedModel.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace quantscope {

namespace kernels {
class ThreadPool;
}

class IntegerPipeline {
public:
    // Runs a node in fp32 (with the model's quantized weights where it has them).
    using FloatRunner = std::function<std::vector<Value>(const Node&, const std::vector<const Value*>&)>;

    IntegerPipeline(const Executor& executor, const std::map<std::string, QParamsEntry>& activations,
                    const std::vector<QuantizedModel::Layer>& layers, FloatRunner floatRunner);
    ~IntegerPipeline();

    // The graph outputs (dequantized) for the given inputs; `pool` (may be null) runs the GEMMs.
    // With an OpProfile installed, each step's time is added to it (see profileLabel).
    std::map<std::string, Value> run(std::map<std::string, Value> inputs, kernels::ThreadPool* pool) const;

    const std::vector<QuantizedModel::NodeExecution>& placements() const { return m_placements; }

private:
    struct Slot;
    struct Step;
    struct Held;
    void plan(const std::map<std::string, QParamsEntry>& activations,
              const std::vector<QuantizedModel::Layer>& layers);
    bool planLinear(Step& step, const QuantizedModel::Layer& layer, const std::vector<int>& readers);
    bool planCodeMove(Step& step) const;
    std::optional<CodeTable> elementwiseTable(const Step& step, const QuantLevels& in) const;
    bool tryInteger(const Step& step, std::vector<Held>& held, kernels::ThreadPool* pool) const;
    void runFloat(const Step& step, std::vector<Held>& held) const;
    void runLinear(const Step& step, std::vector<Held>& held, kernels::ThreadPool* pool) const;
    bool runConv(const Step& step, std::vector<Held>& held, kernels::ThreadPool* pool) const;
    const Value& floatOf(int slot, std::vector<Held>& held) const;
    void store(int slot, Value value, std::vector<Held>& held) const;
    // The OpProfile entry a step's time goes under: op type, a Conv's kernel shape, int8 or fp32.
    std::string profileLabel(const Step& step, bool integer) const;

    const Executor& m_executor;
    FloatRunner m_floatRunner;
    std::vector<Slot> m_slots;
    std::vector<Step> m_steps;
    std::vector<int> m_inputSlots, m_outputSlots;
    std::vector<QuantizedModel::NodeExecution> m_placements;
};

} // namespace quantscope
