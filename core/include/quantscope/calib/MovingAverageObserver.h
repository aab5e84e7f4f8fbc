#pragma once

#include "quantscope/calib/Observer.h"

namespace quantscope {

// Exponential moving average of each batch's minimum and maximum: PyTorch 1.13's
// torch.ao.quantization.MovingAverageMinMaxObserver. The first batch sets min/max; each later
// batch moves them by min += c * (batch_min - min) (same for max), with c = spec.emaConstant
// rounded to float32 and every step in float32, as torch evaluates it on float32 tensors.
class MovingAverageObserver final : public Observer {
public:
    explicit MovingAverageObserver(const QuantSpec& spec);
    Range range() const override;
    // The averages were taken with one EMA constant: it must stay.
    bool canServe(const QuantSpec& spec) const override;

protected:
    void observeFinite(std::span<const float> values) override;

private:
    float m_constant;
    bool m_seen = false;
    float m_min = 0.0f;
    float m_max = 0.0f;
};

} // namespace quantscope
