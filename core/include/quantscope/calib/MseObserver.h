#pragma once

#include "quantscope/calib/AbsHistogram.h"
#include "quantscope/calib/Observer.h"

#include <cstdint>
#include <vector>

namespace quantscope {

// Clipping threshold with the least quantization MSE: NVIDIA pytorch-quantization's
// calib/histogram.py _compute_amax_mse. Over a histogram of |x| (AbsHistogram), every bin centre
// c_i from bin 128 on is a candidate threshold t; each centre c_j, weighted by its count, is
// quantized with the parameters the threshold gives and the candidate with the least
// sum count_j * (q(c_j) - c_j)^2 wins (the first one on ties). The centres are quantized with this
// spec's own format and parameters (computeBlockParams of the candidate range), not with
// pytorch-quantization's narrow 2^(bits-1) - 1 levels.
// The range is {-t, t}; for an affine scheme with no negative value observed it is {0, t}, so
// that all levels cover the data (pytorch-quantization's "unsigned").
class MseObserver final : public Observer {
public:
    static constexpr int kStartBin = 128;

    using Observer::Observer;
    Range range() const override;

    // The threshold t chosen from a histogram of |x| with bins of `binWidth`; the candidate
    // ranges are {0, t} when `unsignedData`, else {-t, t}.
    static float thresholdFromHistogram(const std::vector<int64_t>& counts, double binWidth,
                                        const QuantSpec& spec, bool unsignedData);

protected:
    void observeFinite(std::span<const float> values) override { m_histogram.add(values); }

private:
    AbsHistogram m_histogram;
};

} // namespace quantscope
