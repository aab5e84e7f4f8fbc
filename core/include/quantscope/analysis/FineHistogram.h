#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace quantscope::ui {

// A fine histogram of a tensor's finite values, built once per tensor on a worker. Redrawing and
// the live metrics preview work from it, so a settings change costs O(bins), not O(elements).
class FineHistogram {
public:
    static constexpr int kDefaultBins = 16384;

    FineHistogram() = default;
    static FineHistogram build(std::span<const float> values, int bins = kDefaultBins);

    bool isEmpty() const { return m_finite == 0; }
    int binCount() const { return static_cast<int>(m_counts.size()); }
    double min() const { return m_min; }
    double max() const { return m_max; }
    double binWidth() const { return m_binWidth; }
    double binLeft(int bin) const { return m_min + bin * m_binWidth; }
    double binCenter(int bin) const { return m_min + (bin + 0.5) * m_binWidth; }
    int64_t count(int bin) const { return m_counts[static_cast<std::size_t>(bin)]; }
    // Mean of the values in a bin (the centre when empty): better than the centre for clipping error.
    double mean(int bin) const;
    int64_t finiteCount() const { return m_finite; }
    int64_t nonfiniteCount() const { return m_nonfinite; }
    double sumSquares() const { return m_sumSquares; }
    // Values strictly below `low` plus strictly above `high` (bins split by linear interpolation).
    double countOutside(double low, double high) const;
    // Sums the fine bins into `bins` display bins over [from, to].
    std::vector<double> rebin(double from, double to, int bins) const;
    // The value below which `percent` of the finite values lie (interpolated within a bin).
    double quantile(double percent) const;

private:
    double m_min = 0.0;
    double m_max = 0.0;
    double m_binWidth = 1.0;
    double m_sumSquares = 0.0;
    int64_t m_finite = 0;
    int64_t m_nonfinite = 0;
    std::vector<int64_t> m_counts;
    std::vector<double> m_sums;
};

} // namespace quantscope::ui
