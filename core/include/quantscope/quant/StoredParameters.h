#pragma once

#include "quantscope/io/WeightFile.h"
#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>
#include <vector>

namespace quantscope {

// The settings and exact parameters of a weight that a file stores quantized, in the terms of
// QuantSpec and QParams, so it is analysed on the grid the file stores (the CLI's `analyze` and
// the app share this routine):
// - an ONNX QDQ weight (StoredQuantization::affine): its integer type, per tensor / per axis /
//   blocked along an axis, the scale and zero point as written;
// - a GPTQ / AWQ checkpoint: uintN codes with a zero point and scale per group of inputs (axis 1 of
//   the listed [out, in] weight); a g_idx that is not the plain input order (desc_act) has no such
//   grid and is refused;
// - compressed-tensors pack-quantized: intN codes, per output channel or per group of inputs,
//   with a zero point when asymmetric.
// Float codes (nvfp4, fp8) have no integer grid: refused. `spec` keeps its other fields (the
// calibration method...). The scheme is symmetric when every zero point is 0 of a signed type,
// affine otherwise; `params.min` / `max` are the ends of the stored grid. Returns false and leaves
// both unchanged when the stored form is refused; `shape` is the shape the file lists.
bool applyStoredParameters(const StoredQuantization& stored, const std::vector<int64_t>& shape,
                           QuantSpec& spec, QParams& params);

} // namespace quantscope
