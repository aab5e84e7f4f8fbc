#pragma once

#include "quantscope/quant/QuantFormat.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quantscope {

enum class Scheme { Affine, Symmetric };
enum class Granularity { Tensor, Channel, Group };
enum class CalibMethod { MinMax, MovingAverage, Percentile, Mse, Entropy, Histogram };
enum class TensorKind { Weight, Activation };

std::string_view schemeName(Scheme scheme);                // "affine", "symmetric"
std::string_view granularityName(Granularity granularity); // "tensor", "channel", "group"
std::string_view calibMethodName(CalibMethod method);      // "minmax", "moving-average", ...
std::string_view tensorKindName(TensorKind kind);          // "weight", "activation"
// Parsers throw Error(option, ...) listing the allowed values.
Scheme parseScheme(std::string_view text, std::string_view option = "--scheme");
Granularity parseGranularity(std::string_view text, std::string_view option = "--granularity");
CalibMethod parseCalibMethod(std::string_view text, std::string_view option = "--calib");
TensorKind parseTensorKind(std::string_view text, std::string_view option = "kind");

// How one tensor is quantized. Defaults are the CLI's: int8 affine per-tensor min-max.
struct QuantSpec {
    QuantFormat format;
    Scheme scheme = Scheme::Affine;
    Granularity granularity = Granularity::Tensor;
    int axis = 0;
    int64_t groupSize = 128;
    CalibMethod calib = CalibMethod::MinMax;
    double percentile = 99.99;
    double emaConstant = 0.01;
    bool narrowRange = false;
    bool reduceRange = false;

    // Throws Error naming the option and its allowed range (bits 2..16, group size >= 1,
    // percentile in (0, 100], EMA constant in (0, 1], narrow range only for signed symmetric...).
    void validate() const;
    // validate() plus the checks that need the tensor: the axis must be below the rank.
    void validateFor(const std::vector<int64_t>& shape) const;

    // Integer range [qmin, qmax] after --reduce-range / --narrow-range. Integer formats only.
    int64_t qmin() const;
    int64_t qmax() const;

    // Which options a user gave explicitly (command line of the CLI or the app).
    struct GivenOptions {
        bool granularity = false;
        bool groupSize = false;
        bool axis = false;
    };
    // Fills what the user left out as the format and granularity imply, the same in the CLI and
    // the app: a block-scaled format (mxfp4, q4_0...) groups by its own block size; groups run
    // along the inputs (axis 1, as GPTQ and llama.cpp group a weight's rows), channels along the
    // outputs (axis 0, PyTorch's per-channel weights).
    void fillImplied(GivenOptions given);

    bool operator==(const QuantSpec&) const = default;
};

} // namespace quantscope
