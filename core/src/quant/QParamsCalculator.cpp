#include "quantscope/quant/QParamsCalculator.h"

#include "quantscope/Error.h"
#include "quantscope/quant/FloatCodes.h"

#include <algorithm>
#include <cmath>

namespace quantscope {
namespace {

// PyTorch 1.13, torch/ao/quantization/observer.py, UniformQuantizationObserverBase._calculate_qparams.
// Every step is float32 arithmetic, as in torch, so that the scales agree bit for bit.
void integerParams(Range range, const QuantSpec& spec, float& scale, int32_t& zeroPoint) {
    const auto qmin = static_cast<int32_t>(spec.qmin());
    const auto qmax = static_cast<int32_t>(spec.qmax());
    float minNeg = std::min(range.min, 0.0f);
    float maxPos = std::max(range.max, 0.0f);
    if (!std::isfinite(minNeg))
        minNeg = 0.0f;
    if (!std::isfinite(maxPos))
        maxPos = 0.0f;

    if (spec.scheme == Scheme::Symmetric) {
        const float amax = std::max(-minNeg, maxPos);
        scale = amax / (static_cast<float>(qmax - qmin) / 2.0f);
        scale = std::max(scale, kScaleEpsilon);
        if (spec.format.isSigned) {
            zeroPoint = 0;
        } else if (spec.format.bits == 8) {
            // quint8 with torch's default range. torch keeps 128 with reduce_range too, although the
            // range is then [0, 127]; we follow it so that exported parameters match.
            zeroPoint = 128;
        } else {
            zeroPoint = (qmin + qmax) / 2; // torch's customised-range rule: (quant_min + quant_max) // 2
        }
        return;
    }
    scale = (maxPos - minNeg) / static_cast<float>(qmax - qmin);
    scale = std::max(scale, kScaleEpsilon);
    const float shifted = static_cast<float>(qmin) - std::nearbyint(minNeg / scale);
    zeroPoint = static_cast<int32_t>(std::clamp(shifted, static_cast<float>(qmin), static_cast<float>(qmax)));
}

} // namespace

void computeBlockParams(Range range, const QuantSpec& spec, float& scale, int32_t& zeroPoint) {
    if (spec.format.isInteger()) {
        integerParams(range, spec, scale, zeroPoint);
        return;
    }
    zeroPoint = 0;
    if (spec.format.isGgml())
        throw Error(spec.format.name(), "ggml's quantizer chooses every block's parameters from the block's "
                                        "values; a calibrated or given range cannot set them");
    if (spec.format.kind == FormatKind::Fp16 || spec.format.kind == FormatKind::Bf16) {
        scale = 1.0f; // a plain cast: the format's own range is the clipping range
        return;
    }
    // fp8 and nf4 scale the block's absolute maximum onto the largest code.
    float amax = std::max(std::fabs(range.min), std::fabs(range.max));
    if (!std::isfinite(amax))
        amax = 0.0f;
    switch (spec.format.kind) {
    case FormatKind::Mxfp4:
    case FormatKind::Mxfp8E4M3:
    case FormatKind::Mxfp8E5M2:
        scale = mxBlockScale(amax, spec.format);
        return;
    case FormatKind::Nvfp4:
        // A block on its own: its amax is the tensor's (computeQParams passes the real tensor scale).
        scale = nvfp4BlockScale(amax, nvfp4TensorScale(amax));
        return;
    default:
        scale = std::max(amax / spec.format.floatMax(), kScaleEpsilon);
    }
}

QParams computeQParams(std::span<const Range> ranges, const QuantSpec& spec) {
    QParams params;
    params.qmin = spec.qmin();
    params.qmax = spec.qmax();
    params.min.reserve(ranges.size());
    params.max.reserve(ranges.size());
    params.scale.resize(ranges.size());
    params.zeroPoint.resize(ranges.size());
    // NVFP4's block scales are relative to one float32 scale from the whole tensor's amax.
    float tensorAmax = 0.0f;
    for (const Range& range : ranges) {
        const float amax = std::max(std::fabs(range.min), std::fabs(range.max));
        if (std::isfinite(amax))
            tensorAmax = std::max(tensorAmax, amax);
    }
    const float nvfp4Tensor = nvfp4TensorScale(tensorAmax);
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        params.min.push_back(ranges[i].min);
        params.max.push_back(ranges[i].max);
        if (spec.format.kind == FormatKind::Nvfp4) {
            float amax = std::max(std::fabs(ranges[i].min), std::fabs(ranges[i].max));
            params.scale[i] = nvfp4BlockScale(std::isfinite(amax) ? amax : 0.0f, nvfp4Tensor);
            params.zeroPoint[i] = 0;
            continue;
        }
        computeBlockParams(ranges[i], spec, params.scale[i], params.zeroPoint[i]);
    }
    return params;
}

} // namespace quantscope
