#pragma once

#include <cstddef>
#include <span>

namespace quantscope {

// The value at `rank` (0-based) of `values` in ascending order: what std::nth_element would put
// there, found by a two-pass radix selection on the floats' ordered bit patterns (the high 16 bits,
// then the low 16 bits within the chosen bucket). Unlike nth_element, each pass runs slice by slice
// and checks whether the job was cancelled, so an LLM-sized tensor can be stopped part-way.
// `values` must be finite and `rank < values.size()`; -0 counts as +0 (they compare equal).
float orderStatistic(std::span<const float> values, std::size_t rank);

} // namespace quantscope
