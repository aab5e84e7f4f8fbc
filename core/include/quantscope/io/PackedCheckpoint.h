#pragma once

#include "quantscope/io/SafetensorsReader.h"

#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace quantscope {

// A safetensors checkpoint whose linear weights are stored packed by a quantization toolkit, read
// as the plain weights they stand for. Recognised from the tensor names and, when present, from the
// "quantization_config" of a config.json beside the file:
// - GPTQ (AutoGPTQ / GPTQModel): "<m>.qweight" int32 [in·bits/32, out] packed along the inputs,
//   "<m>.qzeros" int32 [groups, out·bits/32] packed along the outputs, "<m>.scales" [groups, out],
//   optional "<m>.g_idx" [in] (a group per input, in any order with desc_act). Checkpoint format v1
//   stores zero − 1, v2 the zero: "checkpoint_format" decides when the config has it, otherwise the
//   stored zeros (7 everywhere is v1's symmetric 4-bit zero, 8 is v2's), otherwise v1 is assumed.
// - AWQ (AutoAWQ, GEMM layout): "<m>.qweight" int32 [in, out·bits/32] and "<m>.qzeros" with the
//   nibbles of each int32 in the order [0, 2, 4, 6, 1, 3, 5, 7]; zeros stored as they are.
// - compressed-tensors "pack-quantized": "<m>.weight_packed" int32 [out, in·bits/32] (codes + 2^(bits−1)),
//   "<m>.weight_scale" [out, groups], "<m>.weight_shape", and for asymmetric schemes
//   "<m>.weight_zero_point" packed the same way along the outputs.
// - compressed-tensors "nvfp4-pack-quantized": "<m>.weight_packed" uint8 [out, in/2] (two E2M1 codes
//   per byte, low nibble first), "<m>.weight_scale" E4M3 [out, in/16], "<m>.weight_global_scale";
//   value = code · weight_scale / weight_global_scale.
// - fp8 weights: "<m>.weight" F8_E4M3 / F8_E5M2 with "<m>.weight_scale" per tensor or per output row.
// Each packed weight is listed once, as "<m>.weight" [out, in], float32, dequantized by load() as
// (q − zero) · scale; its stored parts are not listed. Every other tensor passes through unchanged.
class PackedCheckpoint : public WeightFile {
public:
    // Returns `file` itself when it holds no packed weights (and its config names no packing).
    static std::unique_ptr<WeightFile> wrapIfPacked(std::unique_ptr<SafetensorsReader> file);

    // Throws Error naming the file (or config.json) and the module when the parts of a packed
    // weight are missing or their shapes disagree, or the config is unreadable.
    PackedCheckpoint(std::unique_ptr<SafetensorsReader> file, const std::string& configPath);
    ~PackedCheckpoint() override;

    const std::string& path() const override { return m_file->path(); }
    std::string format() const override { return "safetensors"; }
    const std::map<std::string, std::string>& metadata() const override { return m_metadata; }
    const std::vector<TensorInfo>& tensors() const override { return m_tensors; }
    Tensor load(const std::string& name) const override;
    std::optional<StoredQuantization> storedQuantization(const std::string& name) const override;

    struct PackedWeight;

private:
    Tensor loadFloatCodes(const PackedWeight& weight, const std::string& name) const; // nvfp4, fp8

    std::unique_ptr<SafetensorsReader> m_file;
    std::map<std::string, std::string> m_metadata;
    std::vector<TensorInfo> m_tensors;
    std::unordered_map<std::string, std::size_t> m_packedByName; // index into m_packed
    std::vector<PackedWeight> m_packed;
    std::unordered_set<std::string> m_parts; // stored parts of packed weights, not listed
};

} // namespace quantscope
