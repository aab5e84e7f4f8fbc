#pragma once

#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <optional>

namespace quantscope::ui {

// What the user chose for one tensor: the quantization spec and, when a clipping line was dragged,
// a manual clipping range that replaces calibration (per-tensor granularity only).
struct TensorSettings {
    QuantSpec spec;
    std::optional<Range> manualRange;

    bool operator==(const TensorSettings& other) const {
        const bool sameRange = manualRange.has_value() == other.manualRange.has_value() &&
                               (!manualRange || (manualRange->min == other.manualRange->min &&
                                                 manualRange->max == other.manualRange->max));
        return spec == other.spec && sameRange;
    }
};

} // namespace quantscope::ui
