#pragma once

#include "CommandLine.h"

#include "quantscope/export/QParamsDocument.h"
#include "quantscope/quant/QuantSpec.h"

#include <optional>
#include <vector>

namespace quantscope::cli {

// DESIGN.md's shared quantization options (Q): --dtype, --bits, --scheme, --granularity, --axis,
// --group-size, --calib, --percentile, --ema, --narrow-range, --reduce-range, --params.
std::vector<OptionSpec> quantOptionSpecs();

// The settings given on the command line (defaults: int8 affine per-tensor minmax), validated.
QuantSpec quantSpecFrom(const CommandLine& commandLine);

// The document named by --params, if any.
std::optional<QParamsDocument> paramsDocumentFrom(const CommandLine& commandLine);

} // namespace quantscope::cli
