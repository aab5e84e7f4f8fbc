#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace quantscope::ui {

// Runs `work` on this thread and on up to one more thread per further core (never more threads
// than `items`), and returns once every copy has returned. `work` pulls its items itself (an
// atomic counter) and must not throw: callers keep the first failure and rethrow it afterwards.
template <class Work> void runOnAllCores(std::size_t items, Work&& work) {
    const std::size_t workers =
        std::min<std::size_t>(items, std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < workers; ++t)
        threads.emplace_back(work);
    work();
    for (auto& thread : threads)
        thread.join();
}

} // namespace quantscope::ui
