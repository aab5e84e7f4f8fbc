#include "quantscope/quant/StoredParameters.h"

#include <algorithm>
#include <sstream>
#include <string>

namespace quantscope {
namespace {

bool endsWith(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A positive decimal number, or 0 for anything else.
int64_t positiveNumber(const std::string& text) {
    if (text.empty() || text.size() > 9 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return 0;
    return std::stoll(text);
}

// The scheme a set of zero points implies and the range the stored grid covers.
void finishParams(QuantSpec& spec, QParams& params) {
    const bool allZero =
        std::all_of(params.zeroPoint.begin(), params.zeroPoint.end(), [](int32_t z) { return z == 0; });
    spec.scheme = allZero && spec.format.isSigned ? Scheme::Symmetric : Scheme::Affine;
    params.qmin = spec.qmin();
    params.qmax = spec.qmax();
    params.min.resize(params.scale.size());
    params.max.resize(params.scale.size());
    for (std::size_t i = 0; i < params.scale.size(); ++i) {
        params.min[i] = static_cast<float>(params.qmin - params.zeroPoint[i]) * params.scale[i];
        params.max[i] = static_cast<float>(params.qmax - params.zeroPoint[i]) * params.scale[i];
    }
}

// An ONNX QDQ weight: its type, per tensor / per axis / blocked, the scale and zero point as written.
bool applyAffine(const StoredQuantization& stored, QuantSpec& spec, QParams& params) {
    const auto& affine = *stored.affine;
    spec.format = QuantFormat::parse(affine.dtype);
    spec.granularity = affine.axis < 0        ? Granularity::Tensor
                       : affine.blockSize > 0 ? Granularity::Group
                                              : Granularity::Channel;
    spec.axis = static_cast<int>(std::max<int64_t>(affine.axis, 0));
    if (affine.blockSize > 0)
        spec.groupSize = affine.blockSize;
    spec.narrowRange = false;
    spec.reduceRange = false;
    const auto scales = stored.parameters[0].values();
    params.scale.assign(scales.begin(), scales.end());
    params.zeroPoint.assign(params.scale.size(), 0);
    if (stored.parameters.size() > 1) {
        const auto zeros = stored.parameters[1].values();
        for (std::size_t i = 0; i < params.zeroPoint.size() && i < zeros.size(); ++i)
            params.zeroPoint[i] = static_cast<int32_t>(zeros[i]);
    }
    finishParams(spec, params);
    return true;
}

// A packed checkpoint's weight [out, in], described by PackedCheckpoint's format text
// ("gptq-v1 int4 g128 (g_idx)", "awq int4 g128", "pack-quantized int4 per-channel symmetric") and
// its parameters: the scales first, then the zero points as the dequantization uses them, then
// GPTQ's g_idx.
bool applyPacked(const StoredQuantization& stored, const std::vector<int64_t>& shape, QuantSpec& spec,
                 QParams& params) {
    std::istringstream words(stored.format);
    std::string packing, width, grouping;
    words >> packing >> width >> grouping;
    const bool gptqOrAwq = packing.starts_with("gptq-") || packing == "awq";
    if ((!gptqOrAwq && packing != "pack-quantized") || !width.starts_with("int") || shape.size() != 2)
        return false; // nvfp4 and fp8 hold float codes: no integer grid
    const auto bits = static_cast<int>(positiveNumber(width.substr(3)));
    const int64_t outFeatures = shape[0];
    const int64_t inFeatures = shape[1];
    int64_t groupSize = inFeatures;
    if (grouping != "per-channel") {
        if (!grouping.starts_with("g"))
            return false;
        groupSize = positiveNumber(grouping.substr(1));
    }
    if (bits < 2 || bits > 16 || groupSize < 1)
        return false;
    const int64_t groups = (inFeatures + groupSize - 1) / groupSize;

    const Tensor* scales = &stored.parameters[0];
    const Tensor* zeros = nullptr;
    const Tensor* groupIndex = nullptr;
    for (std::size_t i = 1; i < stored.parameters.size(); ++i) {
        const std::string& name = stored.parameters[i].name();
        if (endsWith(name, ".g_idx"))
            groupIndex = &stored.parameters[i];
        else if (endsWith(name, ".qzeros") || endsWith(name, ".weight_zero_point"))
            zeros = &stored.parameters[i];
    }
    const auto count = static_cast<std::size_t>(outFeatures * groups);
    if (scales->values().size() != count || (zeros != nullptr && zeros->values().size() != count))
        return false;
    if (groupIndex != nullptr) {
        // GPTQ's desc_act orders the inputs by importance: groups are then no runs of the inputs.
        const auto indices = groupIndex->values();
        if (indices.size() != static_cast<std::size_t>(inFeatures))
            return false;
        for (int64_t i = 0; i < inFeatures; ++i)
            if (indices[static_cast<std::size_t>(i)] != static_cast<float>(i / groupSize))
                return false;
    }

    // GPTQ and AWQ store [groups, out]; compressed-tensors [out, groups], the order of our block
    // grid (row-major over [out, groups]).
    const auto at = [&](const Tensor& tensor, int64_t o, int64_t g) {
        const auto values = tensor.values();
        return values[static_cast<std::size_t>(gptqOrAwq ? g * outFeatures + o : o * groups + g)];
    };
    spec.format = QuantFormat::integer(bits, !gptqOrAwq); // GPTQ / AWQ codes are unsigned
    spec.granularity = groups == 1 ? Granularity::Channel : Granularity::Group;
    spec.axis = groups == 1 ? 0 : 1;
    if (groups > 1)
        spec.groupSize = groupSize;
    spec.narrowRange = false;
    spec.reduceRange = false;
    params.scale.resize(count);
    params.zeroPoint.assign(count, 0);
    for (int64_t o = 0; o < outFeatures; ++o)
        for (int64_t g = 0; g < groups; ++g) {
            const auto block = static_cast<std::size_t>(o * groups + g);
            params.scale[block] = at(*scales, o, g);
            if (zeros != nullptr)
                params.zeroPoint[block] = static_cast<int32_t>(at(*zeros, o, g));
        }
    finishParams(spec, params);
    return true;
}

} // namespace

bool applyStoredParameters(const StoredQuantization& stored, const std::vector<int64_t>& shape,
                           QuantSpec& spec, QParams& params) {
    if (stored.parameters.empty())
        return false;
    if (stored.affine)
        return applyAffine(stored, spec, params);
    QuantSpec storedSpec = spec;
    QParams storedParams;
    if (!applyPacked(stored, shape, storedSpec, storedParams))
        return false;
    spec = storedSpec;
    params = std::move(storedParams);
    return true;
}

} // namespace quantscope
