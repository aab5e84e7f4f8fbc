#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"

namespace quantscope {
namespace {

thread_local const std::atomic<bool>* t_cancelRequested = nullptr;
std::atomic<uint64_t> g_checkpoints{0};

} // namespace

CancellationScope::CancellationScope(const std::atomic<bool>& cancelRequested)
    : m_previous(t_cancelRequested) {
    t_cancelRequested = &cancelRequested;
}

CancellationScope::~CancellationScope() {
    t_cancelRequested = m_previous;
}

void throwIfCancelled() {
    if (!t_cancelRequested)
        return;
    g_checkpoints.fetch_add(1, std::memory_order_relaxed);
    if (t_cancelRequested->load(std::memory_order_relaxed))
        throw Cancelled();
}

const std::atomic<bool>* currentCancellationFlag() {
    return t_cancelRequested;
}

uint64_t cancellationCheckpoints() {
    return g_checkpoints.load(std::memory_order_relaxed);
}

} // namespace quantscope
