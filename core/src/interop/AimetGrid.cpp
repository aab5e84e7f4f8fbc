#include "interop/AimetGrid.h"

#include "interop/InteropJson.h"
#include "quantscope/Error.h"

namespace quantscope::interop {

std::vector<int64_t> aimetOffsets(const QParamsEntry& entry) {
    const int64_t shift = unsignedShift(entry.spec.format);
    std::vector<int64_t> offsets;
    for (int32_t zp : entry.params->zeroPoint)
        offsets.push_back(-(static_cast<int64_t>(zp) + shift));
    return offsets;
}

QParamsEntry aimetEntry(const std::string& name, TensorKind kind, int64_t bits, bool symmetric,
                        std::vector<float> scales, const std::vector<int64_t>& offsets,
                        const std::string& where) {
    if (offsets.size() != scales.size())
        throw Error(where, "has " + std::to_string(scales.size()) + " scales but " +
                               std::to_string(offsets.size()) + " offsets");
    QParamsEntry entry;
    entry.name = name;
    entry.kind = kind;
    entry.spec = integerSpec(bits, symmetric, symmetric ? Scheme::Symmetric : Scheme::Affine, where);
    const int64_t shift = unsignedShift(entry.spec.format);
    const int64_t levels = int64_t{1} << bits;
    std::vector<int32_t> zeroPoints;
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        if (offsets[i] > 0 || offsets[i] < -(levels - 1))
            throw Error(where, "offset " + std::to_string(offsets[i]) + " (entry " + std::to_string(i) +
                                   ") is outside the grid: an offset is -zero_point, in [-" +
                                   std::to_string(levels - 1) + ", 0] at " + std::to_string(bits) + " bits");
        zeroPoints.push_back(static_cast<int32_t>(-offsets[i] - shift));
    }
    // AIMET's symmetric encodings of all-positive tensors ("unsigned symmetric") put the zero
    // point at the grid's end; that is an affine grid in our terms.
    for (int32_t zp : zeroPoints)
        if (symmetric && zp != symmetricZeroPoint(entry.spec))
            entry.spec.scheme = Scheme::Affine;
    if (scales.size() > 1)
        entry.spec.granularity = Granularity::Channel;
    entry.params = gridParams(entry.spec, std::move(scales), std::move(zeroPoints));
    return entry;
}

bool aimetCanWrite(const QParamsEntry& entry, std::vector<ConversionNote>& notes) {
    const QuantSpec& spec = entry.spec;
    if (!spec.format.isInteger()) {
        dropEntry(notes, entry, spec.format.name() + " is not an integer format AIMET encodings hold");
        return false;
    }
    if (spec.narrowRange)
        noteEntry(notes, entry, "narrow range is not recorded: AIMET's grid has all 2^bits levels");
    if (spec.reduceRange)
        noteEntry(notes, entry, "reduce range is not recorded: AIMET's grid has all 2^bits levels");
    if (spec.scheme == Scheme::Symmetric && !spec.format.isSigned)
        noteEntry(notes, entry, "an unsigned symmetric grid is written as an asymmetric encoding");
    if (spec.scheme == Scheme::Affine && spec.format.isSigned)
        noteEntry(notes, entry,
                  "a signed affine grid is written on AIMET's unsigned grid: it reads back as " +
                      QuantFormat::integer(spec.format.bits, false).name() +
                      " with the zero point shifted by " + std::to_string(unsignedShift(spec.format)));
    return true;
}

} // namespace quantscope::interop
