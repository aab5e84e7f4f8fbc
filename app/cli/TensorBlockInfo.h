#pragma once

#include "quantscope/io/WeightFile.h"

#include <cstdint>
#include <optional>
#include <string>

namespace quantscope::cli {

// `info FILE --tensor NAME [--block I]`: one tensor's listing and, for a block-quantized GGUF
// tensor, the stored parameters of block I (a Q4_K super-block's d, dmin, 6-bit scales and mins...),
// as text on stdout or as JSON written to `jsonPath`.
int showTensorInfo(const WeightFile& file, const std::string& name, std::optional<uint64_t> block,
                   const std::optional<std::string>& jsonPath);

} // namespace quantscope::cli
