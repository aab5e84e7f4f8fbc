// Resize (opset 10+) and Upsample (opsets 7-9): nearest, linear and cubic interpolation, done
// separably: every output coordinate of every axis gets its input taps and weights once, and an
// output element sums the product of its axes' taps. Coordinates map back through the ONNX
// coordinate_transformation_mode; taps past the edge repeat the edge value (ONNX reference).
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ops {
namespace {

struct Tap {
    int64_t index = 0;
    double weight = 0.0;
};

struct ResizeSettings {
    std::string mode = "nearest";
    std::string transform = "half_pixel";
    std::string nearestMode = "round_prefer_floor";
    double cubicA = -0.75;
    bool excludeOutside = false;
    double extrapolation = 0.0;
};

int64_t nearestIndex(double x, const std::string& mode) {
    const double floor = std::floor(x);
    if (mode == "floor")
        return static_cast<int64_t>(floor);
    if (mode == "ceil")
        return static_cast<int64_t>(std::ceil(x));
    if (x - floor == 0.5)
        return static_cast<int64_t>(mode == "round_prefer_ceil" ? floor + 1 : floor);
    return static_cast<int64_t>(std::round(x));
}

// Taps of one output coordinate; false when the coordinate falls outside the crop box
// (tf_crop_and_resize), where the output takes the extrapolation value.
bool tapsFor(const Node& n, const ResizeSettings& s, int64_t out, double scale, int64_t inLength,
             int64_t outLength, double roiStart, double roiEnd, std::vector<Tap>& taps) {
    const double x = static_cast<double>(out);
    const double resized = scale * static_cast<double>(inLength); // the reference's (float) output length
    double original = 0.0;
    const std::string& t = s.transform;
    if (t == "half_pixel") {
        original = (x + 0.5) / scale - 0.5;
    } else if (t == "pytorch_half_pixel") {
        original = outLength > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    } else if (t == "align_corners") {
        original = resized == 1.0 ? 0.0 : x * static_cast<double>(inLength - 1) / (resized - 1.0);
    } else if (t == "asymmetric") {
        original = x / scale;
    } else if (t == "tf_half_pixel_for_nearest" ||
               t == "tf_half_pixel_for_nn") { // the latter: ONNX 1.12's spelling
        original = (x + 0.5) / scale;
    } else if (t == "half_pixel_symmetric") {
        const double adjustment = static_cast<double>(outLength) / resized;
        const double offset = static_cast<double>(inLength) / 2.0 * (1.0 - adjustment);
        original = offset + (x + 0.5) / scale - 0.5;
    } else if (t == "tf_crop_and_resize") {
        const double span = static_cast<double>(inLength - 1);
        original = outLength > 1
                       ? roiStart * span + x * (roiEnd - roiStart) * span / static_cast<double>(outLength - 1)
                       : 0.5 * (roiStart + roiEnd) * span;
        if (original < 0.0 || original > span)
            return false;
    } else {
        throw Error(nodeSubject(n), "coordinate_transformation_mode '" + t + "' is not supported");
    }
    taps.clear();
    auto clampIndex = [inLength](int64_t i) { return std::clamp<int64_t>(i, 0, inLength - 1); };
    if (s.mode == "nearest") {
        taps.push_back({clampIndex(nearestIndex(original, s.nearestMode)), 1.0});
        return true;
    }
    const double floor = std::floor(original);
    const double r = original - floor;
    const auto base = static_cast<int64_t>(floor);
    if (s.mode == "linear") {
        taps.push_back({base, 1.0 - r});
        taps.push_back({base + 1, r});
    } else if (s.mode == "cubic") {
        const double a = s.cubicA;
        auto far = [a](double d) { return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a; }; // 1 <= d < 2
        auto near = [a](double d) { return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0; };      // d < 1
        taps.push_back({base - 1, far(r + 1.0)});
        taps.push_back({base, near(r)});
        taps.push_back({base + 1, near(1.0 - r)});
        taps.push_back({base + 2, far(2.0 - r)});
    } else {
        throw Error(nodeSubject(n), "mode '" + s.mode + "' is not one of nearest, linear, cubic");
    }
    if (s.excludeOutside) {
        double total = 0.0;
        for (auto& tap : taps) {
            if (tap.index < 0 || tap.index >= inLength)
                tap.weight = 0.0;
            total += tap.weight;
        }
        for (auto& tap : taps)
            tap.weight = total != 0.0 ? tap.weight / total : 0.0;
    }
    for (auto& tap : taps)
        tap.index = clampIndex(tap.index);
    return true;
}

Value interpolate(const Node& n, const Value& x, const std::vector<double>& scales,
                  const std::vector<int64_t>& outShape, const ResizeSettings& s,
                  const std::vector<double>& roi) {
    const int64_t rank = x.rank();
    // taps[d][o]: the taps of output coordinate o along axis d (empty = outside the crop box).
    std::vector<std::vector<std::vector<Tap>>> taps(rank);
    for (int64_t d = 0; d < rank; ++d) {
        taps[d].resize(outShape[d]);
        const double roiStart = roi.size() == static_cast<std::size_t>(2 * rank) ? roi[d] : 0.0;
        const double roiEnd = roi.size() == static_cast<std::size_t>(2 * rank) ? roi[d + rank] : 1.0;
        for (int64_t o = 0; o < outShape[d]; ++o) {
            if (!tapsFor(n, s, o, scales[d], x.shape[d], outShape[d], roiStart, roiEnd, taps[d][o]))
                taps[d][o].clear();
        }
    }
    const auto strides = stridesOf(x.shape);
    Value out = zeros(x.dtype, outShape);
    std::vector<int64_t> at(rank, 0), pick(rank, 0);
    for (int64_t flat = 0; flat < out.size(); ++flat) {
        bool outside = false;
        for (int64_t d = 0; d < rank; ++d)
            outside = outside || taps[d][at[d]].empty();
        double value = s.extrapolation;
        if (!outside) {
            // Sum over the cartesian product of every axis' taps.
            value = 0.0;
            std::fill(pick.begin(), pick.end(), 0);
            while (true) {
                double weight = 1.0;
                int64_t offset = 0;
                for (int64_t d = 0; d < rank; ++d) {
                    const Tap& tap = taps[d][at[d]][pick[d]];
                    weight *= tap.weight;
                    offset += tap.index * strides[d];
                }
                value += weight * x.number(offset);
                int64_t d = rank - 1;
                for (; d >= 0; --d) {
                    if (++pick[d] < static_cast<int64_t>(taps[d][at[d]].size()))
                        break;
                    pick[d] = 0;
                }
                if (d < 0)
                    break;
            }
        }
        storeNumber(out, flat, x.isInteger() ? std::round(value) : value);
        for (int64_t d = rank - 1; d >= 0; --d) {
            if (++at[d] < outShape[d])
                break;
            at[d] = 0;
        }
    }
    return out;
}

std::vector<double> doubles(const Value& v) {
    std::vector<double> result(static_cast<std::size_t>(v.size()));
    for (int64_t i = 0; i < v.size(); ++i)
        result[i] = v.number(i);
    return result;
}

std::vector<Value> resize(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const int64_t rank = x.rank();
    ResizeSettings s;
    s.mode = n.stringAttribute("mode", "nearest");
    std::vector<double> scales, roi;
    std::vector<int64_t> sizes;
    if (opset < 11) {
        s.transform = "asymmetric";
        s.nearestMode = "floor";
        scales = doubles(requireInput(n, in, 1));
    } else {
        s.transform = n.stringAttribute("coordinate_transformation_mode", "half_pixel");
        s.nearestMode = n.stringAttribute("nearest_mode", "round_prefer_floor");
        s.cubicA = n.floatAttribute("cubic_coeff_a", -0.75f);
        s.excludeOutside = n.intAttribute("exclude_outside", 0) != 0;
        s.extrapolation = n.floatAttribute("extrapolation_value", 0.0f);
        if (const Value* r = optionalInput(in, 1))
            roi = doubles(*r);
        if (const Value* sc = optionalInput(in, 2))
            scales = doubles(*sc);
        if (const Value* sz = optionalInput(in, 3))
            sizes = integerValues(n, *sz, "sizes");
    }
    if (n.intAttribute("antialias", 0) != 0)
        throw Error(nodeSubject(n), "antialias is not supported");
    // Opset 18: scales / sizes / roi may name only some axes.
    const auto axes = n.intsAttribute("axes", {});
    if (!axes.empty()) {
        std::vector<double> fullScales(rank, 1.0), fullRoi;
        std::vector<int64_t> fullSizes(x.shape);
        if (!roi.empty()) {
            fullRoi.assign(2 * rank, 0.0);
            for (int64_t d = 0; d < rank; ++d)
                fullRoi[d + rank] = 1.0;
        }
        for (std::size_t k = 0; k < axes.size(); ++k) {
            const int64_t axis = normalizeAxis(n, axes[k], rank);
            if (k < scales.size())
                fullScales[axis] = scales[k];
            if (k < sizes.size())
                fullSizes[axis] = sizes[k];
            if (2 * axes.size() == roi.size()) {
                fullRoi[axis] = roi[k];
                fullRoi[axis + rank] = roi[k + axes.size()];
            }
        }
        if (!scales.empty())
            scales = fullScales;
        if (!sizes.empty())
            sizes = fullSizes;
        roi = fullRoi;
    }
    std::vector<int64_t> outShape(rank);
    if (!sizes.empty()) {
        if (static_cast<int64_t>(sizes.size()) != rank)
            throw Error(nodeSubject(n), "sizes needs " + std::to_string(rank) + " values");
        scales.assign(rank, 1.0);
        const std::string policy = n.stringAttribute("keep_aspect_ratio_policy", "stretch");
        if (policy == "stretch") {
            for (int64_t d = 0; d < rank; ++d) {
                scales[d] =
                    x.shape[d] > 0 ? static_cast<double>(sizes[d]) / static_cast<double>(x.shape[d]) : 1.0;
                outShape[d] = sizes[d];
            }
        } else {
            double scale = policy == "not_larger" ? 1e300 : 0.0;
            for (int64_t d = 0; d < rank; ++d) {
                if (sizes[d] == x.shape[d] &&
                    (axes.empty() || std::find(axes.begin(), axes.end(), d) == axes.end()))
                    continue;
                const double r = static_cast<double>(sizes[d]) / static_cast<double>(x.shape[d]);
                scale = policy == "not_larger" ? std::min(scale, r) : std::max(scale, r);
            }
            for (int64_t d = 0; d < rank; ++d) {
                const bool resized = axes.empty() || std::find(axes.begin(), axes.end(), d) != axes.end();
                scales[d] = resized ? scale : 1.0;
                outShape[d] = resized
                                  ? static_cast<int64_t>(std::round(scale * static_cast<double>(x.shape[d])))
                                  : x.shape[d];
            }
        }
    } else {
        if (static_cast<int64_t>(scales.size()) != rank)
            throw Error(nodeSubject(n), "scales needs " + std::to_string(rank) + " values (or give sizes)");
        for (int64_t d = 0; d < rank; ++d) {
            if (!(scales[d] > 0.0) || scales[d] > 1e6)
                throw Error(nodeSubject(n), "scales must be in (0, 10^6]");
            outShape[d] = static_cast<int64_t>(std::floor(static_cast<double>(x.shape[d]) * scales[d]));
        }
    }
    elementCount(outShape);
    return {interpolate(n, x, scales, outShape, s, roi)};
}

std::vector<Value> upsample(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    ResizeSettings s;
    s.mode = n.stringAttribute("mode", "nearest");
    if (s.mode == "bilinear")
        s.mode = "linear";
    s.transform = "asymmetric";
    s.nearestMode = "floor";
    std::vector<double> scales;
    if (opset < 9) {
        for (float f : n.attribute("scales") ? n.attribute("scales")->floats : std::vector<float>{})
            scales.push_back(f);
    } else {
        scales = doubles(requireInput(n, in, 1));
    }
    if (static_cast<int64_t>(scales.size()) != x.rank())
        throw Error(nodeSubject(n), "scales needs " + std::to_string(x.rank()) + " values");
    std::vector<int64_t> outShape(x.rank());
    for (int64_t d = 0; d < x.rank(); ++d) {
        if (!(scales[d] >= 1.0) || scales[d] > 1e6)
            throw Error(nodeSubject(n), "scales must be in [1, 10^6]");
        outShape[d] = static_cast<int64_t>(std::floor(static_cast<double>(x.shape[d]) * scales[d]));
    }
    elementCount(outShape);
    return {interpolate(n, x, scales, outShape, s, {})};
}

} // namespace

void addResizeOps(OpTable& t) {
    t.push_back({"Resize", 10, 21, resize});
    t.push_back({"Upsample", 7, 9, upsample});
}

} // namespace quantscope::ops
