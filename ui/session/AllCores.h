#pragma once

#include "quantscope/ParallelItems.h"

#include <algorithm>
#include <cstddef>
#include <thread>

namespace quantscope::ui {

// Runs `work` on this thread and on up to one more thread per further core (never more threads
// than `items`), and returns once every copy has returned. `work` pulls its items itself (an
// atomic counter) and must not throw: callers keep the first failure and rethrow it afterwards.
// The extra threads share this thread's cancellation scope (forEachItemInParallel): a cancelled
// job stops their loads too. A copy that starts after the others took every item returns at once.
template <class Work> void runOnAllCores(std::size_t items, Work&& work) {
    // At least one copy, on this thread, even with no items (as callers expect).
    const std::size_t workers = std::max<std::size_t>(
        1, std::min<std::size_t>(items, std::max(1u, std::thread::hardware_concurrency())));
    forEachItemInParallel(workers, static_cast<int>(workers), [&work](std::size_t) { work(); });
}

} // namespace quantscope::ui
