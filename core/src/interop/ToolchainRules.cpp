#include "quantscope/interop/ToolchainRules.h"

#include "quantscope/Error.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace quantscope {
namespace {

float finiteOrOne(float scale) {
    return std::isfinite(scale) && scale > 0.0f ? scale : 1.0f;
}

// float -> IEEE half -> float with round to nearest even, as GGML_FP32_TO_FP16 stores a block's d.
float roundToHalf(float value) {
    if (!std::isfinite(value) || value == 0.0f)
        return value;
    const float magnitude = std::fabs(value);
    int exponent = 0;
    std::frexp(magnitude, &exponent); // magnitude = m * 2^exponent, m in [0.5, 1)
    // Half has 11 significant bits for normals (exponent >= -13); subnormals are steps of 2^-24.
    const int step = std::max(exponent - 11, -24);
    const float quantum = std::ldexp(1.0f, step);
    const float rounded = std::nearbyint(magnitude / quantum) * quantum;
    return std::copysign(std::min(rounded, 65504.0f), value);
}

// Range of the integer format after --reduce-range / --narrow-range, as PyTorch has it.
Range zeroIncluded(Range range) {
    return {std::min(range.min, 0.0f), std::max(range.max, 0.0f)};
}

} // namespace

std::string_view roundingRuleText(RoundingRule rule) {
    switch (rule) {
    case RoundingRule::ReciprocalHalfEven:
        return "x*(1/S), half to even";
    case RoundingRule::DivideHalfEven:
        return "x/S, half to even";
    case RoundingRule::DivideHalfAway:
        return "x/S, half away from 0";
    case RoundingRule::Q8_0:
        return "x*(1/d), half away from 0";
    case RoundingRule::Q4_0:
        return "trunc(x*(1/d)+8.5)";
    }
    return "";
}

int64_t quantizeWith(const ToolchainParams& p, float x) {
    if (std::isnan(x))
        return p.zeroPoint;
    float level = 0.0f;
    switch (p.rounding) {
    case RoundingRule::ReciprocalHalfEven:
        level = std::nearbyint(x * (1.0f / p.scale)) + static_cast<float>(p.zeroPoint);
        break;
    case RoundingRule::DivideHalfEven:
        level = std::nearbyint(x / p.scale) + static_cast<float>(p.zeroPoint);
        break;
    case RoundingRule::DivideHalfAway:
        level = std::round(x / p.scale) + static_cast<float>(p.zeroPoint);
        break;
    case RoundingRule::Q8_0:
        level = std::round(x * (1.0f / p.scale));
        break;
    case RoundingRule::Q4_0: {
        const float shifted = x * (1.0f / p.scale) + 8.5f;
        // (int8_t) truncates toward zero; values below -128 or above 127 do not occur in a block.
        level = std::trunc(std::clamp(shifted, -128.0f, 127.0f));
        break;
    }
    }
    return static_cast<int64_t>(std::clamp(level, static_cast<float>(p.qmin), static_cast<float>(p.qmax)));
}

// PyTorch 1.13: torch/ao/quantization/observer.py, UniformQuantizationObserverBase._calculate_qparams
// (our own contract, computeBlockParams); quantize: aten's fbgemm::Quantize, x * (1/S) ties to even.
ToolchainParams pytorchParams(Range range, const QuantSpec& spec) {
    ToolchainParams p;
    p.toolchain = "PyTorch";
    p.rule = std::string(spec.scheme == Scheme::Symmetric ? "per_tensor_symmetric " : "per_tensor_affine ") +
             spec.format.name();
    p.source = "torch/ao/quantization/observer.py: _calculate_qparams";
    computeBlockParams(range, spec, p.scale, p.zeroPoint);
    p.qmin = spec.qmin();
    p.qmax = spec.qmax();
    p.rounding = RoundingRule::ReciprocalHalfEven;
    return p;
}

// ONNX Runtime: onnxruntime/python/tools/quantization/quant_utils.py, compute_scale_zp (the scale
// in float64, then cast to float32; symmetric zero point round((qmin + qmax) / 2) with numpy's ties
// to even) and get_qmin_qmax_for_qType (signed symmetric [-(2^(b-1)-1), 2^(b-1)-1]; reduce_range
// [-2^(b-2), 2^(b-2)] signed, [0, 2^(b-1)-1] unsigned). QuantizeLinear: x / S, ties to even.
ToolchainParams onnxRuntimeParams(Range range, const QuantSpec& spec) {
    ToolchainParams p;
    p.toolchain = "ONNX Runtime";
    const bool symmetric = spec.scheme == Scheme::Symmetric;
    p.rule = std::string(symmetric ? "symmetric " : "asymmetric ") + spec.format.name() +
             (spec.reduceRange ? " reduce_range" : "");
    p.source =
        "onnxruntime/python/tools/quantization/quant_utils.py: compute_scale_zp, get_qmin_qmax_for_qType";
    const int bits = spec.format.bits;
    if (spec.format.isSigned) {
        const int64_t half = int64_t{1} << (bits - 1);
        if (spec.reduceRange) {
            p.qmin = -(half / 2);
            p.qmax = half / 2;
        } else {
            p.qmin = symmetric ? -(half - 1) : -half;
            p.qmax = half - 1;
        }
    } else {
        p.qmin = 0;
        p.qmax = spec.reduceRange ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
    }
    double rmin = std::min(static_cast<double>(range.min), 0.0);
    double rmax = std::max(static_cast<double>(range.max), 0.0);
    if (symmetric) {
        const double absmax = std::max(std::fabs(rmin), std::fabs(rmax));
        rmin = -absmax;
        rmax = absmax;
    }
    const double scale = (rmax - rmin) / static_cast<double>(p.qmax - p.qmin);
    if (scale < static_cast<double>(std::numeric_limits<float>::min())) {
        p.scale = 1.0f;
        p.zeroPoint = 0;
    } else {
        const double zp = symmetric ? std::nearbyint(static_cast<double>(p.qmin + p.qmax) / 2.0)
                                    : std::nearbyint(static_cast<double>(p.qmin) - rmin / scale);
        p.zeroPoint = static_cast<int32_t>(zp);
        p.scale = static_cast<float>(scale);
    }
    p.rounding = RoundingRule::DivideHalfEven;
    return p;
}

// TensorRT: symmetric int8 only, scale = amax / 127 on [-127, 127] (the calibration cache stores
// this float's bits); IQuantizeLayer rounds x / S to nearest, ties to even. amax here is the
// tensor's absolute maximum (the max calibrator; entropy calibration picks a smaller one).
ToolchainParams tensorRtParams(Range range) {
    ToolchainParams p;
    p.toolchain = "TensorRT";
    p.rule = "int8 amax/127";
    p.source = "TensorRT IInt8Calibrator / IQuantizeLayer (calibration cache: amax / 127)";
    const float amax = std::max(std::fabs(range.min), std::fabs(range.max));
    p.scale = finiteOrOne(amax / 127.0f);
    p.zeroPoint = 0;
    p.qmin = -127;
    p.qmax = 127;
    p.rounding = RoundingRule::DivideHalfEven;
    return p;
}

std::string tensorRtCacheHex(float scale) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%08x", std::bit_cast<uint32_t>(scale));
    return buffer;
}

// AIMET "TF" encodings: libpymo TfEncodingAnalyzer::computeEncoding (double arithmetic, range at
// least MIN_RANGE = 0.01). Symmetric (when min < 0): delta = absmax / (2^(b-1) - 1), offset
// -2^(b-1); otherwise delta = (max - min) / (2^b - 1), offset = -round(-min / delta) (std::round, ties
// away). Shown in our terms: zero point = -offset on AIMET's unsigned grid, shifted onto the signed
// range for symmetric encodings. Quantize: aimet_torch's torch.round(x / S), ties to even.
ToolchainParams aimetTfParams(Range range, const QuantSpec& spec) {
    ToolchainParams p;
    p.toolchain = "AIMET TF";
    const int bits = spec.format.bits;
    const double steps = std::ldexp(1.0, bits) - 1.0;
    const double newMin = std::min(0.0, static_cast<double>(range.min));
    const double newMax = std::max(std::max(0.0, static_cast<double>(range.max)), newMin + 0.01);
    p.source = "aimet libpymo TfEncodingAnalyzer.cpp: TfEncodingAnalyzer::computeEncoding";
    double offset = 0.0;
    if (spec.scheme == Scheme::Symmetric && newMin < 0.0) {
        const double absmax = std::max(std::fabs(newMax), std::fabs(newMin));
        const double positiveSteps = std::ldexp(1.0, bits - 1) - 1.0;
        p.scale = finiteOrOne(static_cast<float>(absmax / positiveSteps));
        offset = -(positiveSteps + 1.0);
        p.rule = "symmetric, " + std::to_string(bits) + " bit";
        p.qmin = -(int64_t{1} << (bits - 1));
        p.qmax = (int64_t{1} << (bits - 1)) - 1;
        p.zeroPoint = static_cast<int32_t>(-offset + static_cast<double>(p.qmin));
    } else {
        const double delta = (newMax - newMin) / steps;
        if (newMin < 0.0 && newMax > 0.0)
            offset = -std::clamp(std::round(-newMin / delta), 0.0, steps);
        else
            offset = std::round(newMin / delta);
        p.scale = finiteOrOne(static_cast<float>(delta));
        p.rule = "asymmetric, " + std::to_string(bits) + " bit";
        p.qmin = 0;
        p.qmax = static_cast<int64_t>(steps);
        p.zeroPoint = static_cast<int32_t>(-offset);
    }
    p.note = "offset " + std::to_string(static_cast<int64_t>(offset));
    p.rounding = RoundingRule::DivideHalfEven;
    return p;
}

namespace {

// AIMET's histogram of a tensor (libpymo math_functions.cpp: InitializePdf / UpdatePdf, signed
// values): 512 equal buckets over the observed range widened three times around its centre,
// holding each bucket's share of the values.
struct AimetPdf {
    static constexpr int kSize = 512;
    std::vector<double> xLeft;
    std::vector<double> pdf;
};

std::optional<AimetPdf> aimetPdf(std::span<const float> values) {
    double lowest = std::numeric_limits<double>::infinity();
    double highest = -lowest;
    std::size_t count = 0;
    for (float x : values)
        if (std::isfinite(x)) {
            lowest = std::min(lowest, static_cast<double>(x));
            highest = std::max(highest, static_cast<double>(x));
            ++count;
        }
    if (count == 0 || (lowest == 0.0 && highest == 0.0))
        return std::nullopt; // AIMET leaves the histogram empty for an all-zero tensor
    if (lowest == highest)
        highest = std::max(highest, lowest + 0.01);
    const double centre = (highest + lowest) / 2.0;
    const double from = centre - 3.0 * (centre - lowest);
    const double to = centre + 3.0 * (highest - centre);
    const double bucket = (to - from) / AimetPdf::kSize;
    AimetPdf pdf;
    pdf.xLeft.resize(AimetPdf::kSize);
    pdf.pdf.assign(AimetPdf::kSize, 0.0);
    for (int i = 0; i < AimetPdf::kSize; ++i)
        pdf.xLeft[static_cast<std::size_t>(i)] = from + i * bucket;
    const double offset = from / bucket;
    for (float x : values) {
        if (!std::isfinite(x))
            continue;
        const int index =
            std::clamp(static_cast<int>(std::floor(x / bucket - offset)), 0, AimetPdf::kSize - 1);
        pdf.pdf[static_cast<std::size_t>(index)] += 1.0;
    }
    for (double& share : pdf.pdf)
        share /= static_cast<double>(count);
    return pdf;
}

// TfEnhancedEncodingAnalyzer::_quantAndSatCost: the squared error of each bucket's midpoint,
// saturated buckets weighted by GAMMA = 3 (a clipped value costs more than a rounded one).
double aimetQuantAndSatCost(const AimetPdf& pdf, int bits, double delta, int offset) {
    constexpr double kGamma = 3.0;
    const double minVal = delta * offset;
    const double maxVal = delta * (std::ldexp(1.0, bits) - 1.0) + minVal;
    const double start = pdf.xLeft[0];
    const double step = pdf.xLeft[1] - pdf.xLeft[0];
    const int last = AimetPdf::kSize - 1;
    const int minIndex = std::clamp(static_cast<int>(std::floor((minVal - start) / step)), 0, last);
    const int maxIndex = std::clamp(static_cast<int>(std::floor((maxVal - start) / step)), 0, last);
    const auto middle = [&](int i) { return start + i * step + step / 2.0; };
    double saturation = 0.0;
    for (int i = 0; i < minIndex; ++i)
        saturation += pdf.pdf[static_cast<std::size_t>(i)] * std::pow(middle(i) - middle(minIndex), 2);
    for (int i = maxIndex; i < AimetPdf::kSize; ++i)
        saturation += pdf.pdf[static_cast<std::size_t>(i)] * std::pow(middle(i) - middle(maxIndex), 2);
    double rounding = 0.0;
    for (int i = minIndex; i < maxIndex; ++i) {
        const double x = middle(i);
        const double back = delta * (std::round(x / delta - offset) + offset);
        rounding += pdf.pdf[static_cast<std::size_t>(i)] * std::pow(x - back, 2);
    }
    return kGamma * saturation + rounding;
}

} // namespace

// AIMET TF-enhanced: libpymo TfEnhancedEncodingAnalyzer.cpp, TfEnhancedEncodingAnalyzer::
// computeEncoding. The range is that of the histogram's non-empty buckets (left edges, zero
// included, at least MIN_RANGE = 0.01 wide; _findRangeOfAggregateStats). Symmetric
// (_pickTestCandidatesSymmetric): deltas f * 2 * absmax / (2^b - 1) for f = 1/100 ... 101/100, offset
// floor(-(2^b - 1) / 2). Asymmetric (_pickTestCandidatesAsymmetric): deltas f * the observed delta for
// f = 1/16 ... 17/16 and 21 offsets from -(2^b - 1) to 0 each, every candidate clamped to the observed
// range (_clampToObservedMinMax, which also changes the delta the next offsets of that f start from),
// plus the observed (delta, offset). The candidate of least _quantAndSatCost wins (the first on ties).
// Written from the algorithm, in double; the f steps are counted in integers where AIMET adds 1/100.
ToolchainParams aimetTfEnhancedParams(std::span<const float> values, const QuantSpec& spec) {
    const auto pdf = aimetPdf(values);
    if (!pdf) {
        ToolchainParams p = aimetTfParams({0.0f, 0.0f}, spec);
        p.toolchain = "AIMET TF-enhanced";
        p.source =
            "aimet libpymo TfEnhancedEncodingAnalyzer.cpp: TfEnhancedEncodingAnalyzer::computeEncoding";
        return p;
    }
    const int bits = spec.format.bits;
    const double numSteps = std::ldexp(1.0, bits) - 1.0;
    double minVal = pdf->xLeft[0];
    double maxVal = pdf->xLeft[AimetPdf::kSize - 1];
    for (int i = 0; i < AimetPdf::kSize; ++i)
        if (pdf->pdf[static_cast<std::size_t>(i)] > 0.0) {
            minVal = pdf->xLeft[static_cast<std::size_t>(i)];
            break;
        }
    for (int i = AimetPdf::kSize - 1; i > 0; --i)
        if (pdf->pdf[static_cast<std::size_t>(i)] > 0.0) {
            maxVal = pdf->xLeft[static_cast<std::size_t>(i)];
            break;
        }
    minVal = std::min(minVal, 0.0);
    maxVal = std::max(std::max(maxVal, 0.0), minVal + 0.01);

    const bool symmetric = spec.scheme == Scheme::Symmetric;
    std::vector<std::pair<double, int>> candidates;
    if (symmetric) {
        const double deltaMax = 2.0 * std::max(std::fabs(maxVal), std::fabs(minVal)) / numSteps;
        const int offset = static_cast<int>(std::floor(-numSteps / 2.0));
        for (int k = 1; k <= 101; ++k)
            candidates.emplace_back(k / 100.0 * deltaMax, offset);
    } else {
        const double observedDelta = (maxVal - minVal) / numSteps;
        const int observedOffset = static_cast<int>(std::round(minVal / observedDelta));
        const double observedMin = observedDelta * observedOffset;
        const double observedMax = observedMin + observedDelta * numSteps;
        for (int k = 1; k <= 17; ++k) {
            double delta = k / 16.0 * observedDelta;
            for (int i = 0; i <= 20; ++i) {
                int offset = static_cast<int>(-numSteps + numSteps / 20.0 * i);
                const double testMin = delta * offset;
                const double testMax = testMin + delta * numSteps;
                if (testMin < observedMin && testMax > observedMax)
                    continue;
                const double clampedMin = std::max(observedMin, testMin);
                const double clampedMax = std::min(observedMax, testMax);
                delta = (clampedMax - clampedMin) / numSteps;
                offset = static_cast<int>(std::round(clampedMin / delta));
                candidates.emplace_back(delta, offset);
            }
        }
        candidates.emplace_back(observedDelta, observedOffset);
    }
    double bestCost = std::numeric_limits<float>::max();
    std::pair<double, int> best = candidates.back();
    for (const auto& [delta, offset] : candidates)
        if (const double cost = aimetQuantAndSatCost(*pdf, bits, delta, offset); cost < bestCost) {
            bestCost = cost;
            best = {delta, offset};
        }

    ToolchainParams p;
    p.toolchain = "AIMET TF-enhanced";
    p.source = "aimet libpymo TfEnhancedEncodingAnalyzer.cpp: TfEnhancedEncodingAnalyzer::computeEncoding";
    p.rule = std::string(symmetric ? "symmetric" : "asymmetric") + ", SQNR search, " + std::to_string(bits) +
             " bit";
    p.scale = finiteOrOne(static_cast<float>(best.first));
    p.rounding = RoundingRule::DivideHalfEven;
    // In our terms as for AIMET TF: zero point = -offset on the unsigned grid, signed for symmetric.
    if (symmetric) {
        p.qmin = -(int64_t{1} << (bits - 1));
        p.qmax = (int64_t{1} << (bits - 1)) - 1;
        p.zeroPoint = static_cast<int32_t>(-best.second + p.qmin);
    } else {
        p.qmin = 0;
        p.qmax = static_cast<int64_t>(numSteps);
        p.zeroPoint = static_cast<int32_t>(std::clamp<int64_t>(-best.second, p.qmin, p.qmax));
    }
    p.note = "offset " + std::to_string(best.second) + ", range [" +
             std::to_string(best.first * best.second) + ", " +
             std::to_string(best.first * (best.second + numSteps)) + "]";
    return p;
}

// TFLite: tensorflow/lite/tools/optimize/quantization_utils.cc, GetAsymmetricQuantizationParams
// (float32; the zero point "nudged" to round(qmin - min / S) with std::round, ties away) for
// activations, and SymmetricPerChannelQuantization's scale = absmax / (2^(b-1) - 1) on
// [-(2^(b-1)-1), 2^(b-1)-1] for symmetric weights. Kernels: TfLiteRound(x / S) + zp.
ToolchainParams tfliteParams(Range range, const QuantSpec& spec) {
    ToolchainParams p;
    p.toolchain = "TFLite";
    const int bits = spec.format.bits;
    p.rounding = RoundingRule::DivideHalfAway;
    if (spec.scheme == Scheme::Symmetric) {
        p.source = "tensorflow/lite/tools/optimize/quantization_utils.cc: SymmetricPerChannelQuantization";
        p.rule = "symmetric weights";
        const int64_t top = (int64_t{1} << (bits - 1)) - 1;
        const float amax = std::max(std::fabs(range.min), std::fabs(range.max));
        p.scale = finiteOrOne(amax / static_cast<float>(top));
        p.qmin = -top;
        p.qmax = top;
        p.zeroPoint = 0;
        return p;
    }
    p.source = "tensorflow/lite/tools/optimize/quantization_utils.cc: GetAsymmetricQuantizationParams";
    p.rule = "asymmetric, nudged zero point";
    p.qmin = spec.format.isSigned ? -(int64_t{1} << (bits - 1)) : 0;
    p.qmax = spec.format.isSigned ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
    const Range r = zeroIncluded(range);
    const float qminF = static_cast<float>(p.qmin);
    const float qmaxF = static_cast<float>(p.qmax);
    const float scale = (r.max - r.min) / (qmaxF - qminF);
    float zeroFromMin = qminF;
    if (scale != 0.0f)
        zeroFromMin = qminF - r.min / scale;
    p.zeroPoint = static_cast<int32_t>(zeroFromMin < qminF   ? qminF
                                       : zeroFromMin > qmaxF ? qmaxF
                                                             : std::round(zeroFromMin));
    p.scale = finiteOrOne(scale);
    return p;
}

// llama.cpp ggml-quants.c, quantize_row_q8_0_ref: d = amax / 127 (stored as fp16), q = roundf(x / d)
// computed with id = 1 / d of the float d; dequantized with the fp16 d.
ToolchainParams llamaQ8_0Params(std::span<const float> block) {
    ToolchainParams p;
    p.toolchain = "llama.cpp Q8_0";
    p.rule = "blocks of 32, d = amax/127 (fp16)";
    p.source = "ggml/src/ggml-quants.c: quantize_row_q8_0_ref";
    float amax = 0.0f;
    for (float v : block)
        if (std::isfinite(v))
            amax = std::max(amax, std::fabs(v));
    const float d = amax / 127.0f;
    p.scale = d == 0.0f ? 1.0f : d;
    p.zeroPoint = 0;
    p.qmin = -127;
    p.qmax = 127;
    p.rounding = RoundingRule::Q8_0;
    p.note = "d stored as fp16 " + std::to_string(roundToHalf(d));
    return p;
}

// llama.cpp ggml-quants.c, quantize_row_q4_0_ref: max = the value of largest magnitude (sign kept),
// d = max / -8 (stored as fp16), q = min(15, (int8_t)(x / d + 8.5f)) on [0, 15], zero point 8.
ToolchainParams llamaQ4_0Params(std::span<const float> block) {
    ToolchainParams p;
    p.toolchain = "llama.cpp Q4_0";
    p.rule = "blocks of 32, d = max/-8 (fp16)";
    p.source = "ggml/src/ggml-quants.c: quantize_row_q4_0_ref";
    float amax = 0.0f;
    float max = 0.0f;
    for (float v : block)
        if (std::isfinite(v) && std::fabs(v) > amax) {
            amax = std::fabs(v);
            max = v;
        }
    const float d = max / -8.0f;
    // The scale is negative when the largest magnitude is positive: ggml keeps the sign in d.
    p.scale = d == 0.0f ? 1.0f : d;
    p.zeroPoint = 8;
    p.qmin = 0;
    p.qmax = 15;
    p.rounding = RoundingRule::Q4_0;
    p.note = "d stored as fp16 " + std::to_string(roundToHalf(d));
    return p;
}

namespace {

float dequantizeWith(const ToolchainParams& p, int64_t q) {
    if (p.rounding == RoundingRule::Q8_0)
        return static_cast<float>(q) * roundToHalf(p.scale);
    if (p.rounding == RoundingRule::Q4_0)
        return static_cast<float>(q - 8) * roundToHalf(p.scale);
    return static_cast<float>(q - p.zeroPoint) * p.scale;
}

void finishSqnr(double signal, double noise, ToolchainResult& result) {
    if (signal == 0.0) {
        result.sqnrNote = "zero signal";
        result.sqnrDb = std::nan("");
    } else if (noise == 0.0) {
        result.sqnrNote = "exact";
        result.sqnrDb = std::nan("");
    } else {
        result.sqnrDb = 10.0 * std::log10(signal / noise);
    }
}

ToolchainResult perTensorResult(ToolchainParams params, std::span<const float> values, float chosen) {
    ToolchainResult result;
    double signal = 0.0;
    double noise = 0.0;
    for (float x : values) {
        if (!std::isfinite(x))
            continue;
        const double error = static_cast<double>(x) - dequantizeWith(params, quantizeWith(params, x));
        signal += static_cast<double>(x) * x;
        noise += error * error;
    }
    finishSqnr(signal, noise, result);
    result.chosenInteger = quantizeWith(params, chosen);
    result.params = std::move(params);
    return result;
}

ToolchainResult blockResult(ToolchainParams (*rule)(std::span<const float>), std::span<const float> values,
                            float chosen, int64_t shownBlock) {
    const auto count = static_cast<int64_t>(values.size());
    double signal = 0.0;
    double noise = 0.0;
    for (int64_t begin = 0; begin < count; begin += kLlamaBlockSize) {
        const auto block = values.subspan(begin, std::min(kLlamaBlockSize, count - begin));
        const ToolchainParams params = rule(block);
        for (float x : block) {
            if (!std::isfinite(x))
                continue;
            const double error = static_cast<double>(x) - dequantizeWith(params, quantizeWith(params, x));
            signal += static_cast<double>(x) * x;
            noise += error * error;
        }
    }
    ToolchainResult result;
    finishSqnr(signal, noise, result);
    const int64_t first = shownBlock * kLlamaBlockSize;
    result.params = rule(values.subspan(first, std::min(kLlamaBlockSize, count - first)));
    result.params.note = "block " + std::to_string(shownBlock) + "; " + result.params.note;
    result.chosenInteger = quantizeWith(result.params, chosen);
    return result;
}

} // namespace

std::vector<ToolchainResult> compareToolchains(std::span<const float> values, const QuantSpec& spec,
                                               float chosen, int64_t llamaBlock) {
    if (!spec.format.isInteger())
        throw Error("--dtype",
                    "toolchain conventions compare integer formats (got " + spec.format.name() + ")");
    const int64_t blocks = (static_cast<int64_t>(values.size()) + kLlamaBlockSize - 1) / kLlamaBlockSize;
    if (values.empty())
        throw Error("tensor", "is empty");
    if (llamaBlock < 0 || llamaBlock >= blocks)
        throw Error("--block", "must be in [0, " + std::to_string(blocks - 1) + "] (blocks of " +
                                   std::to_string(kLlamaBlockSize) + " values; got " +
                                   std::to_string(llamaBlock) + ")");
    Range range{0.0f, 0.0f};
    bool any = false;
    for (float x : values) {
        if (!std::isfinite(x))
            continue;
        range.min = any ? std::min(range.min, x) : x;
        range.max = any ? std::max(range.max, x) : x;
        any = true;
    }
    std::vector<ToolchainResult> results;
    results.push_back(perTensorResult(pytorchParams(range, spec), values, chosen));
    results.push_back(perTensorResult(onnxRuntimeParams(range, spec), values, chosen));
    results.push_back(perTensorResult(tensorRtParams(range), values, chosen));
    results.push_back(perTensorResult(aimetTfParams(range, spec), values, chosen));
    results.push_back(perTensorResult(aimetTfEnhancedParams(values, spec), values, chosen));
    results.push_back(perTensorResult(tfliteParams(range, spec), values, chosen));
    results.push_back(blockResult(llamaQ8_0Params, values, chosen, llamaBlock));
    results.push_back(blockResult(llamaQ4_0Params, values, chosen, llamaBlock));
    return results;
}

} // namespace quantscope
