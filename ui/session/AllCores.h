#pragma once

#include "quantscope/Cancellation.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

namespace quantscope::ui {

// Runs `work` on this thread and on up to one more thread per further core (never more threads
// than `items`), and returns once every copy has returned. `work` pulls its items itself (an
// atomic counter) and must not throw: callers keep the first failure and rethrow it afterwards.
// The extra threads share this thread's cancellation scope: a cancelled job stops their loads too.
template <class Work> void runOnAllCores(std::size_t items, Work&& work) {
    const std::size_t workers =
        std::min<std::size_t>(items, std::max(1u, std::thread::hardware_concurrency()));
    const std::atomic<bool>* cancelRequested = currentCancellationFlag();
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < workers; ++t)
        threads.emplace_back([&work, cancelRequested] {
            std::optional<CancellationScope> scope;
            if (cancelRequested)
                scope.emplace(*cancelRequested);
            work();
        });
    work();
    for (auto& thread : threads)
        thread.join();
}

} // namespace quantscope::ui
