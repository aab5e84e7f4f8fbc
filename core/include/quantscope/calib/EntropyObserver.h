#pragma once

#include "quantscope/calib/AbsHistogram.h"
#include "quantscope/calib/Observer.h"

#include <cstdint>
#include <vector>

namespace quantscope {

// TensorRT's entropy calibration (KL divergence), as NVIDIA pytorch-quantization implements it in
// calib/histogram.py _compute_amax_entropy, over a histogram of |x| with 2048 bins (AbsHistogram):
// for every candidate i from bin 128 to the last, the reference P is bins[0..i) with the mass of
// bins[i..] added to its last bin; Q merges bins[0..i) into `levels` quantized bins and spreads
// each merged count evenly over its non-empty source bins; the threshold is the upper edge of bin
// i with the least KL(P || Q) (the last such i on ties). bins[0] is replaced by bins[1] first, as
// there. A divergence that is not a number (Q empty) counts as infinite.
// levels is half the format's levels (128 for int8), or all of them (256 for uint8) for an affine
// scheme with no negative value observed, whose range is then {0, t}; otherwise {-t, t}.
class EntropyObserver final : public Observer {
public:
    static constexpr int kStartBin = 128;

    using Observer::Observer;
    Range range() const override;

    // The index i (edge i * binWidth is the threshold) that minimises the divergence.
    static int64_t bestEdge(const std::vector<int64_t>& counts, int64_t levels);
    // The number of quantized bins the divergence is measured with.
    static int64_t quantizedBins(const QuantSpec& spec, bool unsignedData);

protected:
    void observeFinite(std::span<const float> values) override { m_histogram.add(values); }

private:
    AbsHistogram m_histogram;
};

} // namespace quantscope
