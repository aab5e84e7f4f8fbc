#include "quantscope/calib/HistogramObserver.h"

#include "quantscope/Cancellation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantscope {
namespace {

// torch.histc(x, bins, lo, hi) on the CPU (1.13): equal bins over [lo, hi] (widened by 1 on each
// side when lo == hi), the bin found by float32 linear interpolation, values outside skipped and
// a value equal to hi counted in the last bin.
void addToHistogram(std::span<const float> values, float lo, float hi, std::vector<double>& histogram) {
    if (lo == hi) {
        lo -= 1.0f;
        hi += 1.0f;
    }
    const auto bins = static_cast<int64_t>(histogram.size());
    const float span = hi - lo;
    const auto binsAsFloat = static_cast<float>(bins);
    // A span past the float32 limit (values near -FLT_MAX and FLT_MAX) is taken in double.
    const bool inFloat = std::isfinite(span) && std::isfinite(span * binsAsFloat);
    const double doubleScale =
        static_cast<double>(bins) / (static_cast<double>(hi) - static_cast<double>(lo));
    forEachSlice(values, [&](std::span<const float> slice) {
        for (float v : slice) {
            if (!(v >= lo && v <= hi))
                continue;
            const double position = inFloat
                                        ? static_cast<double>((v - lo) * binsAsFloat / span)
                                        : (static_cast<double>(v) - static_cast<double>(lo)) * doubleScale;
            const auto bin = position < static_cast<double>(bins - 1)
                                 ? std::max<int64_t>(static_cast<int64_t>(position), 0)
                                 : bins - 1;
            histogram[static_cast<std::size_t>(bin)] += 1.0;
        }
    });
}

// Re-bins a histogram over [oldMin, oldMax] onto [newMin, newMax] by putting each old bin's count
// at its centre: the fallback when torch's exact regridding cannot be formed.
void addByCentres(const std::vector<double>& old, float oldMin, float oldMax, float newMin, float newMax,
                  std::vector<double>& histogram) {
    const double width =
        (static_cast<double>(oldMax) - static_cast<double>(oldMin)) / static_cast<double>(old.size());
    std::vector<double> one(histogram.size());
    for (std::size_t j = 0; j < old.size(); ++j) {
        if (old[j] == 0.0)
            continue;
        const auto centre =
            static_cast<float>(static_cast<double>(oldMin) + (static_cast<double>(j) + 0.5) * width);
        std::fill(one.begin(), one.end(), 0.0);
        addToHistogram(std::span<const float>(&centre, 1), newMin, newMax, one);
        for (std::size_t k = 0; k < one.size(); ++k)
            histogram[k] += one[k] * old[j];
    }
}

// Beyond this ratio of widths (2^30) torch's grid of bins x upsample x downsample sub-bins is
// pointless to emulate: every old bin falls inside one new bin.
constexpr double kMaxDownsampleRate = 1073741824.0;

} // namespace

int64_t HistogramObserver::destinationBins() const {
    const int bits = spec().format.isInteger() ? spec().format.bits : spec().format.storageBits();
    return int64_t{1} << std::clamp(bits, 1, 16);
}

void HistogramObserver::rebinWith(std::span<const float> values, float combinedMin, float combinedMax) {
    std::vector<double> combined(kBins, 0.0);
    addToHistogram(values, combinedMin, combinedMax, combined);
    addByCentres(m_histogram, m_min, m_max, combinedMin, combinedMax, combined);
    m_histogram = std::move(combined);
    m_min = combinedMin;
    m_max = combinedMax;
}

void HistogramObserver::observeFinite(std::span<const float> values) {
    const auto [lowest, highest] = std::minmax_element(values.begin(), values.end());
    const float batchMin = *lowest;
    const float batchMax = *highest;
    if (!m_seen) {
        m_seen = true;
        m_min = batchMin;
        m_max = batchMax;
        m_histogram.assign(kBins, 0.0);
        addToHistogram(values, m_min, m_max, m_histogram);
        return;
    }
    const float combinedMin = std::min(batchMin, m_min);
    float combinedMax = std::max(batchMax, m_max);

    if (m_min == m_max) {
        // Everything so far had one value (torch would drop it): re-bin it as a point mass.
        rebinWith(values, combinedMin, combinedMax);
        return;
    }

    // _adjust_min_max, in float32 as torch computes it on 0-dim float tensors.
    const float fineWidth = (m_max - m_min) / static_cast<float>(kBins * kUpsampleRate);
    const float coarseSpan = static_cast<float>(kBins) * fineWidth;
    const double rate = std::ceil(static_cast<double>((combinedMax - combinedMin) / coarseSpan));
    if (!(fineWidth > 0.0f) || !std::isfinite(coarseSpan) || !(rate <= kMaxDownsampleRate)) {
        rebinWith(values, combinedMin, combinedMax);
        return;
    }
    const auto downsampleRate = static_cast<int64_t>(std::max(rate, 1.0));
    const float relax = static_cast<float>(downsampleRate) * coarseSpan - (combinedMax - combinedMin);
    if (std::isfinite(combinedMax + relax))
        combinedMax = combinedMax + relax;
    const int64_t fineTotal = kBins * downsampleRate;
    // torch.round: half to even, as std::nearbyint in the default rounding mode.
    const double start = std::nearbyint(static_cast<double>((m_min - combinedMin) / fineWidth));
    const auto startIndex = static_cast<int64_t>(std::clamp(start, 0.0, static_cast<double>(fineTotal)));

    std::vector<double> combined(kBins, 0.0);
    addToHistogram(values, combinedMin, combinedMax, combined);
    if (combinedMin == m_min && combinedMax == m_max) {
        for (std::size_t k = 0; k < combined.size(); ++k)
            combined[k] += m_histogram[k];
    } else {
        // _combine_histograms: old bin j covers fine positions [start + j U, start + (j+1) U),
        // new bin k covers [k D, (k+1) D); each old count is spread evenly over its U positions.
        for (int64_t j = 0; j < kBins; ++j) {
            const double count = m_histogram[static_cast<std::size_t>(j)];
            if (count == 0.0)
                continue;
            const int64_t begin = startIndex + j * kUpsampleRate;
            const int64_t end = begin + kUpsampleRate;
            for (int64_t position = begin; position < end;) {
                // Sub-bins that rounding pushed past the grid's end count in the last bin.
                const int64_t k = std::min<int64_t>(position / downsampleRate, kBins - 1);
                const int64_t stop = k == kBins - 1 ? end : std::min(end, (k + 1) * downsampleRate);
                combined[static_cast<std::size_t>(k)] +=
                    count * static_cast<double>(stop - position) / static_cast<double>(kUpsampleRate);
                position = stop;
            }
        }
    }
    m_histogram = std::move(combined);
    m_min = combinedMin;
    m_max = combinedMax;
}

// _compute_quantization_error: the L2 error of quantizing the histogram's bins between startBin
// and endBin (inclusive) onto destinationBins() equal bins, each source bin's values taken as
// uniformly spread; the integral of x^2 over each piece is (end^3 - begin^3) / 3.
double HistogramObserver::quantizationError(int64_t startBin, int64_t endBin) const {
    const double binWidth = (static_cast<double>(m_max) - static_cast<double>(m_min)) / kBins;
    const int64_t dstBins = destinationBins();
    const double dstBinWidth =
        binWidth * static_cast<double>(endBin - startBin + 1) / static_cast<double>(dstBins);
    if (dstBinWidth == 0.0)
        return 0.0;
    // torch evaluates these element-wise on float32 tensors.
    const auto width = static_cast<float>(binWidth);
    const auto dstWidth = static_cast<float>(dstBinWidth);
    const float halfDst = dstWidth / 2.0f;
    const auto norm = [](float begin, float end, float density) {
        return density * ((end * end * end - begin * begin * begin) / 3.0f);
    };
    const float fullBinNorm = (halfDst * halfDst * halfDst - (-halfDst) * (-halfDst) * (-halfDst)) / 3.0f;
    const auto lastDst = static_cast<float>(dstBins - 1);
    double error = 0.0;
    for (int64_t bin = 0; bin < kBins; ++bin) {
        const float density = static_cast<float>(m_histogram[static_cast<std::size_t>(bin)]) / width;
        if (density == 0.0f)
            continue;
        const float srcBegin = static_cast<float>(bin - startBin) * width;
        const float srcEnd = srcBegin + width;
        const float dstOfBegin = std::clamp(std::floor(srcBegin / dstWidth), 0.0f, lastDst);
        const float dstOfEnd = std::clamp(std::floor(srcEnd / dstWidth), 0.0f, lastDst);
        const float dstOfBeginCentre = (dstOfBegin + 0.5f) * dstWidth;
        const float dstOfEndCentre = dstOfEnd * dstWidth + halfDst;
        float binError = norm(srcBegin - dstOfBeginCentre, halfDst, density);
        binError += (dstOfEnd - dstOfBegin - 1.0f) * (density * fullBinNorm);
        binError += norm(-halfDst, srcEnd - dstOfEndCentre, density);
        error += static_cast<double>(binError);
    }
    return error;
}

// _non_linear_param_search.
Range HistogramObserver::range() const {
    if (!m_seen)
        return {};
    if (m_min == m_max || !std::isfinite(m_max - m_min))
        return {m_min, m_max}; // nothing to search (or a span past the float32 limit)
    double total = 0.0;
    std::vector<float> cumulative(m_histogram.size());
    for (std::size_t k = 0; k < m_histogram.size(); ++k) {
        total += m_histogram[k];
        cumulative[k] = static_cast<float>(total); // torch.cumsum: double accumulator, float32 result
    }
    const double stepSize = 1e-5;
    double alpha = 0.0;
    double beta = 1.0;
    int64_t startBin = 0;
    int64_t endBin = kBins - 1;
    double normMin = std::numeric_limits<double>::infinity();
    while (alpha < beta) {
        const double nextAlpha = alpha + stepSize;
        const double nextBeta = beta - stepSize;
        // torch compares the float32 cumulative sums with the bound rounded to float32.
        const auto lowBound = static_cast<float>(nextAlpha * total);
        const auto highBound = static_cast<float>(nextBeta * total);
        int64_t l = startBin;
        int64_t r = endBin;
        while (l < endBin && cumulative[static_cast<std::size_t>(l)] < lowBound)
            ++l;
        while (r > startBin && cumulative[static_cast<std::size_t>(r)] > highBound)
            --r;
        int64_t nextStart = startBin;
        int64_t nextEnd = endBin;
        if ((l - startBin) > (endBin - r)) {
            nextStart = l;
            alpha = nextAlpha;
        } else {
            nextEnd = r;
            beta = nextBeta;
        }
        if (nextStart == startBin && nextEnd == endBin)
            continue;
        const double norm = quantizationError(nextStart, nextEnd);
        if (norm > normMin)
            break;
        normMin = norm;
        startBin = nextStart;
        endBin = nextEnd;
    }
    const float binWidth = (m_max - m_min) / static_cast<float>(kBins);
    return {m_min + binWidth * static_cast<float>(startBin),
            m_min + binWidth * static_cast<float>(endBin + 1)};
}

} // namespace quantscope
