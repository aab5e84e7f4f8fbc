#include "quantscope/ParallelItems.h"

#include "quantscope/Cancellation.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace quantscope {

void forEachItemInParallel(std::size_t count, int threads, const std::function<void(std::size_t)>& item,
                           const std::function<void(std::size_t)>& afterItem) {
    const std::size_t workers = std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, threads)));
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> finished{0};
    std::atomic<bool> failed{false};
    std::mutex errorMutex;
    std::exception_ptr firstError;
    const auto work = [&](bool callingThread) {
        while (!failed.load()) {
            const std::size_t index = next.fetch_add(1);
            if (index >= count)
                return;
            try {
                item(index);
                const std::size_t done = finished.fetch_add(1) + 1;
                if (callingThread && afterItem)
                    afterItem(done);
            } catch (...) {
                const std::lock_guard lock(errorMutex);
                if (!firstError)
                    firstError = std::current_exception();
                failed = true;
            }
        }
    };
    const std::atomic<bool>* cancelRequested = currentCancellationFlag();
    std::vector<std::thread> extra;
    for (std::size_t t = 1; t < workers; ++t)
        extra.emplace_back([&work, cancelRequested] {
            std::optional<CancellationScope> scope;
            if (cancelRequested)
                scope.emplace(*cancelRequested);
            work(false);
        });
    work(true);
    for (auto& thread : extra)
        thread.join();
    if (firstError)
        std::rethrow_exception(firstError);
}

} // namespace quantscope
