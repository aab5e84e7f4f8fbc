#include "model/FusedClampOffer.h"

namespace quantscope::ops {
namespace {
thread_local FusedClampOffer* t_offer = nullptr; // the open offer on this thread
} // namespace

FusedClampOffer::FusedClampOffer(const kernels::FloatClamp& clamp) : m_clamp(clamp), m_previous(t_offer) {
    t_offer = this;
}

FusedClampOffer::~FusedClampOffer() {
    t_offer = m_previous;
}

std::optional<kernels::FloatClamp> FusedClampOffer::take() {
    if (t_offer == nullptr || t_offer->m_taken)
        return std::nullopt;
    t_offer->m_taken = true;
    return t_offer->m_clamp;
}

} // namespace quantscope::ops
