#pragma once

#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/QuantSpec.h"

#include <array>
#include <optional>
#include <utility>

namespace quantscope::ui {

// What the user chose for one tensor: the quantization spec and, when a clipping line was dragged,
// a manual clipping range that replaces calibration (per-tensor granularity only). Parameters
// imported from another toolchain's file are kept as written (`exactParams`, one scale and zero
// point per block of the spec) until a setting changes. `stored` says the exact parameters are
// the ones the weights file itself stores for the tensor (a QDQ or packed checkpoint's weight).
struct TensorSettings {
    QuantSpec spec;
    std::optional<Range> manualRange;
    std::optional<QParams> exactParams;
    bool stored = false;

    TensorSettings() = default;
    TensorSettings(QuantSpec quantSpec, std::optional<Range> range = std::nullopt,
                   std::optional<QParams> params = std::nullopt)
        : spec(std::move(quantSpec)), manualRange(range), exactParams(std::move(params)) {}

    // The parameters that replace calibration: the imported ones, or those of the manual range.
    std::optional<QParams> fixedParams() const {
        if (exactParams)
            return exactParams;
        if (manualRange && spec.granularity == Granularity::Tensor) {
            const std::array<Range, 1> ranges{*manualRange};
            return computeQParams(ranges, spec);
        }
        return std::nullopt;
    }

    bool operator==(const TensorSettings& other) const {
        const bool sameRange = manualRange.has_value() == other.manualRange.has_value() &&
                               (!manualRange || (manualRange->min == other.manualRange->min &&
                                                 manualRange->max == other.manualRange->max));
        const bool sameParams = exactParams.has_value() == other.exactParams.has_value() &&
                                (!exactParams || (exactParams->scale == other.exactParams->scale &&
                                                  exactParams->zeroPoint == other.exactParams->zeroPoint));
        return spec == other.spec && sameRange && sameParams && stored == other.stored;
    }
};

} // namespace quantscope::ui
