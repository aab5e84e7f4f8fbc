#include "quantscope/quant/QuantSpec.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <array>
#include <cmath>
#include <utility>

namespace quantscope {
namespace {

template <class Enum, std::size_t N>
Enum parseName(std::string_view text, std::string_view option,
               const std::array<std::pair<Enum, std::string_view>, N>& names) {
    std::string allowed;
    for (const auto& [value, name] : names) {
        if (name == text)
            return value;
        allowed += (allowed.empty() ? "" : ", ") + std::string(name);
    }
    throw Error(std::string(option), "unknown value '" + std::string(text) + "' (allowed: " + allowed + ")");
}

template <class Enum, std::size_t N>
std::string_view nameOf(Enum value, const std::array<std::pair<Enum, std::string_view>, N>& names) {
    for (const auto& [v, name] : names)
        if (v == value)
            return name;
    return names[0].second;
}

constexpr std::array<std::pair<Scheme, std::string_view>, 2> kSchemes{{
    {Scheme::Affine, "affine"},
    {Scheme::Symmetric, "symmetric"},
}};
constexpr std::array<std::pair<Granularity, std::string_view>, 3> kGranularities{{
    {Granularity::Tensor, "tensor"},
    {Granularity::Channel, "channel"},
    {Granularity::Group, "group"},
}};
constexpr std::array<std::pair<CalibMethod, std::string_view>, 6> kCalibMethods{{
    {CalibMethod::MinMax, "minmax"},
    {CalibMethod::MovingAverage, "moving-average"},
    {CalibMethod::Percentile, "percentile"},
    {CalibMethod::Mse, "mse"},
    {CalibMethod::Entropy, "entropy"},
    {CalibMethod::Histogram, "histogram"},
}};
constexpr std::array<std::pair<TensorKind, std::string_view>, 2> kKinds{{
    {TensorKind::Weight, "weight"},
    {TensorKind::Activation, "activation"},
}};

std::string formatNumber(double value) {
    std::string text = std::to_string(value);
    while (text.find('.') != std::string::npos && (text.back() == '0' || text.back() == '.')) {
        const bool dot = text.back() == '.';
        text.pop_back();
        if (dot)
            break;
    }
    return text;
}

} // namespace

std::string_view schemeName(Scheme scheme) {
    return nameOf(scheme, kSchemes);
}
std::string_view granularityName(Granularity granularity) {
    return nameOf(granularity, kGranularities);
}
std::string_view calibMethodName(CalibMethod method) {
    return nameOf(method, kCalibMethods);
}
std::string_view tensorKindName(TensorKind kind) {
    return nameOf(kind, kKinds);
}
Scheme parseScheme(std::string_view text, std::string_view option) {
    return parseName(text, option, kSchemes);
}
Granularity parseGranularity(std::string_view text, std::string_view option) {
    return parseName(text, option, kGranularities);
}
CalibMethod parseCalibMethod(std::string_view text, std::string_view option) {
    return parseName(text, option, kCalibMethods);
}
TensorKind parseTensorKind(std::string_view text, std::string_view option) {
    return parseName(text, option, kKinds);
}

void QuantSpec::fillImplied(GivenOptions given) {
    if (format.isBlockScaled()) {
        if (!given.granularity)
            granularity = Granularity::Group;
        if (!given.groupSize)
            groupSize = format.blockSize();
    }
    if (!given.axis)
        axis = granularity == Granularity::Group ? 1 : 0;
}

void QuantSpec::validate() const {
    if (format.kind == FormatKind::Integer && (format.bits < 2 || format.bits > 16))
        throw Error("--dtype",
                    "bit width " + std::to_string(format.bits) + " is out of range (allowed: 2..16)");
    if (granularity == Granularity::Group && groupSize < 1)
        throw Error("--group-size",
                    "group size " + std::to_string(groupSize) + " is out of range (allowed: 1 or more)");
    if (format.isBlockScaled() && (granularity != Granularity::Group || groupSize != format.blockSize()))
        throw Error("--granularity", format.name() + " shares one scale per block of " +
                                         std::to_string(format.blockSize()) +
                                         " values: it needs --granularity group --group-size " +
                                         std::to_string(format.blockSize()) + " (along --axis)");
    if (axis < 0)
        throw Error("--axis", "axis " + std::to_string(axis) + " is out of range (allowed: 0 or more)");
    if (!(percentile > 0.0 && percentile <= 100.0))
        throw Error("--percentile", "percentile " + formatNumber(percentile) +
                                        " is out of range (allowed: above 0, at most 100)");
    if (!(emaConstant > 0.0 && emaConstant <= 1.0))
        throw Error("--ema", "averaging constant " + formatNumber(emaConstant) +
                                 " is out of range (allowed: above 0, at most 1)");
    if (narrowRange && !(format.isInteger() && format.isSigned))
        throw Error("--narrow-range", "applies to signed integer formats only (got " + format.name() + ")");
    if (reduceRange && !format.isInteger())
        throw Error("--reduce-range", "applies to integer formats only (got " + format.name() + ")");
}

void QuantSpec::validateFor(const std::vector<int64_t>& shape) const {
    validate();
    if (granularity == Granularity::Tensor)
        return;
    const int rank = static_cast<int>(shape.size());
    if (axis >= rank)
        throw Error("--axis", "axis " + std::to_string(axis) + " is past the rank of a tensor of shape " +
                                  shapeToString(shape) + " (allowed: 0.." + std::to_string(rank - 1) + ")");
    // ggml's formats split whole rows into blocks: a partial block has no layout in a GGUF file.
    if (format.isGgml() && shape[static_cast<std::size_t>(axis)] % format.blockSize() != 0)
        throw Error("--dtype", format.name() + " needs whole blocks of " +
                                   std::to_string(format.blockSize()) + " values along axis " +
                                   std::to_string(axis) + ", but the tensor of shape " +
                                   shapeToString(shape) + " has " +
                                   std::to_string(shape[static_cast<std::size_t>(axis)]) +
                                   " (allowed: a multiple of " + std::to_string(format.blockSize()) + ")");
}

int64_t QuantSpec::qmin() const {
    if (!format.isInteger())
        return 0;
    const int bits = format.bits - (reduceRange ? 1 : 0);
    if (!format.isSigned)
        return 0;
    const int64_t lowest = -(int64_t{1} << (bits - 1));
    return narrowRange ? lowest + 1 : lowest;
}

int64_t QuantSpec::qmax() const {
    if (!format.isInteger())
        return 0;
    const int bits = format.bits - (reduceRange ? 1 : 0);
    return format.isSigned ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
}

} // namespace quantscope
