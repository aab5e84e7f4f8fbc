#pragma once

#include "quantscope/calib/Observer.h"

#include <vector>

namespace quantscope {

// Percentile clipping (spec.percentile, default 99.99), computed exactly from the order
// statistics rather than from a histogram.
//   symmetric: t = P_p(|x|), range {-t, t};
//   affine:    range {P_(100-p)(x), P_p(x)}: each tail loses (100 - p) % of the values.
// P_q is numpy.percentile's default ("linear"): the value at rank h = (n - 1) q / 100,
// interpolated between the neighbouring order statistics. NVIDIA pytorch-quantization's
// HistogramCalibrator percentile method approximates the same quantity from a 2048-bin
// histogram of |x| (it returns the lower edge of the bin where the CDF reaches p, so p = 100
// does not give max|x|); the exact statistic costs one copy of the values and an O(n)
// selection (std::nth_element) per range() call, no sort.
class PercentileObserver final : public Observer {
public:
    explicit PercentileObserver(const QuantSpec& spec);
    Range range() const override;
    // The kept values are |x| (symmetric) or x (affine): the scheme must stay.
    bool canServe(const QuantSpec& spec) const override;

    // The q-th percentile (0 <= q <= 100) of finite `values` by linear interpolation.
    static double percentile(std::span<const float> values, double q);

protected:
    void observeFinite(std::span<const float> values) override;

private:
    bool m_absolute;
    std::vector<float> m_values; // |x| when symmetric, x when affine
};

} // namespace quantscope
