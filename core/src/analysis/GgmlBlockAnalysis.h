#pragma once

#include "quantscope/analysis/TensorAnalysis.h"

namespace quantscope {

// analyzeTensor for ggml's block formats (spec.format.isGgml()): every block goes through ggml's
// reference quantizer (GgmlBlockQuantizer) and back through the GGUF block decoder, so the values
// are those llama.cpp computes with. Non-finite values are quantized as 0 and counted apart. Each
// block's parameters are its stored scale (|d|, the super-block's for the k-quants) and its values'
// range; fixed parameters are refused, since the quantizer chooses them from the values.
TensorAnalysis analyzeGgmlBlocks(const TensorView& tensor, const QuantSpec& spec,
                                 const AnalysisOptions& options);

} // namespace quantscope
