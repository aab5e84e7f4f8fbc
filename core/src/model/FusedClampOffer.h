#pragma once
// Internal to core: how the executor hands a Conv the Clip / Relu that follows it.

#include "quantscope/kernels/FloatDepthwisePlane.h"

#include <optional>

namespace quantscope::ops {

// Offers a clamp to the ops run on this thread while it lives (like DonatedInput): the Conv that
// Executor::run calls next may apply it in its output pass and take it; when nothing took it, the
// executor runs the activation node itself, so an op path that ignores the offer stays correct.
class FusedClampOffer {
public:
    explicit FusedClampOffer(const kernels::FloatClamp& clamp);
    ~FusedClampOffer();
    FusedClampOffer(const FusedClampOffer&) = delete;
    FusedClampOffer& operator=(const FusedClampOffer&) = delete;

    bool taken() const { return m_taken; }

    // The clamp offered on this thread, once; nothing when none was offered or it was taken.
    static std::optional<kernels::FloatClamp> take();

private:
    kernels::FloatClamp m_clamp;
    bool m_taken = false;
    FusedClampOffer* m_previous;
};

} // namespace quantscope::ops
