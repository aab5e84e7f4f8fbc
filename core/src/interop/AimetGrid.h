#pragma once

// Internal to the interop module: AIMET's integer grid, shared by the 0.6.1 and 1.0.0 formats.
// AIMET quantizes onto the unsigned grid [0, 2^bits - 1] and stores offset = -zero_point on that
// grid, so a signed int8 symmetric tensor (zero point 0 on [-128, 127]) has offset -128.

#include "quantscope/interop/ParamFileFormat.h"

#include <cstdint>
#include <string>
#include <vector>

namespace quantscope::interop {

// The AIMET offsets of an integer entry's zero points.
std::vector<int64_t> aimetOffsets(const QParamsEntry& entry);

// An entry from AIMET's bit width, symmetry, scales and offsets. A symmetric encoding becomes a
// signed format, an asymmetric one an unsigned format (the zero point stays on the same level).
// Throws Error(where, ...) for a width outside 2..16 or an offset outside the grid.
QParamsEntry aimetEntry(const std::string& name, TensorKind kind, int64_t bits, bool symmetric,
                        std::vector<float> scales, const std::vector<int64_t>& offsets,
                        const std::string& where);

// False (with a note) for an entry AIMET's integer grid cannot hold; notes what it loses otherwise.
bool aimetCanWrite(const QParamsEntry& entry, std::vector<ConversionNote>& notes);

} // namespace quantscope::interop
