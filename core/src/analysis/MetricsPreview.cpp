#include "quantscope/analysis/MetricsPreview.h"

#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/FloatCodes.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ui {
namespace {

constexpr int kPointsPerBin = 8;

} // namespace

double MetricsPreview::fakeQuantize(double x, const QuantSpec& spec, float scale, int32_t zeroPoint,
                                    bool& clipped, uint32_t& code) {
    const auto xf = static_cast<float>(x);
    if (spec.format.isInteger()) {
        const IntegerQuantizer q(scale, zeroPoint, static_cast<int32_t>(spec.qmin()),
                                 static_cast<int32_t>(spec.qmax()));
        const float level = q.unclamped(xf);
        clipped = level < static_cast<float>(q.qmin) || level > static_cast<float>(q.qmax);
        const int32_t integer = q.quantize(xf);
        code = static_cast<uint32_t>(integer - q.qmin);
        return q.dequantize(integer);
    }
    bool wasClipped = false;
    const float value = fakeQuantizeFloat(xf, scale, spec.format, code, wasClipped);
    clipped = wasClipped;
    return value;
}

PreviewResult MetricsPreview::estimate(const FineHistogram& histogram, const QuantSpec& spec, Range clip) {
    PreviewResult result;
    computeBlockParams(clip, spec, result.scale, result.zeroPoint);
    const int64_t qmin = spec.format.isInteger() ? spec.qmin() : 0;
    const int64_t qmax = spec.format.isInteger() ? spec.qmax() : 0;
    const uint32_t codes = codeCount(spec.format, qmin, qmax);
    MetricsAccumulator accumulator(codes);
    // Accumulate weighted sums by hand: the accumulator counts one value per add(), so it is
    // used only for the set of levels; the sums below weight each point by its share of the bin.
    double sumX2 = 0, sumXhat2 = 0, sumXXhat = 0, sumAbs = 0, maxAbs = 0, clip2 = 0, round2 = 0,
           clippedCount = 0;
    const double width = histogram.binWidth();
    // An all-zero tensor is known exactly (its histogram is given a small width around 0 only to
    // keep bin arithmetic finite): one point at 0, so "zero signal" and the cosine agree with the
    // exact metrics.
    const bool allZero = histogram.finiteCount() > 0 && histogram.sumSquares() == 0.0;
    const int points = allZero ? 1 : kPointsPerBin;
    for (int b = 0; b < histogram.binCount(); ++b) {
        const auto c = static_cast<double>(histogram.count(b));
        if (c == 0)
            continue;
        const double weight = c / points;
        for (int k = 0; k < points; ++k) {
            const double x = allZero ? 0.0 : histogram.binLeft(b) + (k + 0.5) / kPointsPerBin * width;
            bool clipped = false;
            uint32_t code = 0;
            const double xhat = fakeQuantize(x, spec, result.scale, result.zeroPoint, clipped, code);
            const double e = x - xhat;
            sumX2 += weight * x * x;
            sumXhat2 += weight * xhat * xhat;
            sumXXhat += weight * x * xhat;
            sumAbs += weight * std::abs(e);
            maxAbs = std::max(maxAbs, std::abs(e));
            if (clipped) {
                clip2 += weight * e * e;
                clippedCount += weight;
            } else {
                round2 += weight * e * e;
            }
            if (code < codes)
                accumulator.add(static_cast<float>(x), static_cast<float>(xhat), clipped, code);
        }
    }
    ErrorMetrics& m = result.metrics;
    const auto n = static_cast<double>(histogram.finiteCount());
    m.count = histogram.finiteCount();
    m.nonfinite = histogram.nonfiniteCount();
    if (n == 0)
        return result;
    m.levelsUsed = accumulator.finish().levelsUsed;
    m.clippedCount = static_cast<int64_t>(std::llround(clippedCount));
    m.clippedFraction = clippedCount / n;
    m.clipMse = clip2 / n;
    m.roundMse = round2 / n;
    m.mse = m.clipMse + m.roundMse;
    m.rmse = std::sqrt(m.mse);
    m.meanAbsError = sumAbs / n;
    m.maxAbsError = maxAbs;
    const double signal = histogram.sumSquares();
    if (signal == 0.0) {
        m.sqnrNote = "zero signal";
    } else if (m.mse == 0.0) {
        m.sqnrNote = "exact";
    } else {
        m.sqnrDb = 10.0 * std::log10(sumX2 / (m.mse * n));
    }
    m.cosine = cosineSimilarity(sumXXhat, sumX2, sumXhat2);
    return result;
}

std::vector<double> MetricsPreview::levels(const QuantSpec& spec, float scale, int32_t zeroPoint, double from,
                                           double to, int maxLevels) {
    std::vector<double> out;
    if (spec.format.isInteger()) {
        const double step = scale;
        const auto first =
            std::max<double>(static_cast<double>(spec.qmin()), std::ceil(from / step + zeroPoint));
        const auto last =
            std::min<double>(static_cast<double>(spec.qmax()), std::floor(to / step + zeroPoint));
        if (last - first + 1 > maxLevels)
            return {};
        for (double q = first; q <= last; q += 1.0)
            out.push_back((q - zeroPoint) * step);
        return out;
    }
    if (spec.format.kind == FormatKind::Nf4) {
        for (float code : nf4CodeBook()) {
            const double v = static_cast<double>(code) * scale;
            if (v >= from && v <= to)
                out.push_back(v);
        }
        return out;
    }
    // Float codes: walk the representable values by rounding points across the range; the grid is
    // drawn only when few codes fall inside the visible range.
    const int probes = maxLevels * 64;
    double previous = NAN;
    for (int i = 0; i <= probes; ++i) {
        const double x = from + (to - from) * i / probes;
        bool clipped = false;
        uint32_t code = 0;
        const double v = fakeQuantize(x, spec, scale, zeroPoint, clipped, code);
        if (v != previous && v >= from && v <= to) {
            out.push_back(v);
            if (static_cast<int>(out.size()) > maxLevels)
                return {};
        }
        previous = v;
    }
    return out;
}

} // namespace quantscope::ui
