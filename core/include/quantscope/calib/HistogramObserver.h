#pragma once

#include "quantscope/calib/Observer.h"

#include <cstdint>
#include <vector>

namespace quantscope {

// PyTorch 1.13's torch.ao.quantization.HistogramObserver: a 2048-bin histogram over [min, max] of
// everything observed, and range() = _non_linear_param_search, the L2 search of
// caffe2's NormMinimization that moves the lower or upper bin inward while the estimated
// quantization error (_compute_quantization_error, 2^bits destination bins) decreases.
// A later batch that widens the range is combined as torch does (_adjust_min_max: the upper end is
// relaxed so the new width is a whole multiple of the old one / 128; _combine_histograms: the old
// counts are spread evenly over 128 sub-bins each and summed into the new bins).
// Departures, all where torch 1.13 misbehaves:
//  - torch passes int(min), int(max) to torch.histc, so it bins the data correctly only when both
//    truncate to 0 (|x| < 1) or are integers; we bin over the float range as intended.
//  - after a batch whose values were all equal torch drops that batch's counts; we keep them.
//  - the combination is computed from the overlaps directly, without materialising the
//    128 x 2048 x downsample-rate grid, so a far wider later batch cannot exhaust memory.
//  - torch always uses 256 destination bins for its 8-bit dtypes, also with a custom 4-bit
//    quant range; we use 2^bits of the spec's format.
class HistogramObserver final : public Observer {
public:
    static constexpr int kBins = 2048;
    static constexpr int kUpsampleRate = 128;

    using Observer::Observer;
    Range range() const override;

    const std::vector<double>& histogram() const { return m_histogram; }
    float histogramMin() const { return m_min; }
    float histogramMax() const { return m_max; }

protected:
    void observeFinite(std::span<const float> values) override;

private:
    // A fresh histogram over [combinedMin, combinedMax] holding `values` plus the old bins, each
    // moved whole to where its centre falls.
    void rebinWith(std::span<const float> values, float combinedMin, float combinedMax);
    double quantizationError(int64_t startBin, int64_t endBin) const;
    int64_t destinationBins() const;

    bool m_seen = false;
    float m_min = 0.0f;
    float m_max = 0.0f;
    std::vector<double> m_histogram;
};

} // namespace quantscope
