#pragma once

#include "quantscope/calib/Observer.h"

namespace quantscope {

// Running minimum and maximum over every batch: PyTorch 1.13's
// torch.ao.quantization.MinMaxObserver (min_val = min(min_val, aminmax(x).min), same for max).
class MinMaxObserver final : public Observer {
public:
    using Observer::Observer;
    Range range() const override;

protected:
    void observeFinite(std::span<const float> values) override;
    std::size_t observeAll(std::span<const float> values) override;

private:
    void update(float lo, float hi);

    bool m_seen = false;
    float m_min = 0.0f;
    float m_max = 0.0f;
};

} // namespace quantscope
