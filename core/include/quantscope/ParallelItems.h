#pragma once

#include <cstddef>
#include <functional>

namespace quantscope {

// Calls item(i) for every i in [0, count) on this thread and on up to threads - 1 more (never more
// threads than items); the threads take the items in order from a shared counter and the call
// returns once all have returned. The extra threads share this thread's cancellation scope.
// afterItem(done) runs on this thread only, after each item it finished, with the number of items
// finished by all threads so far: the place for progress reports, which may throw to stop.
// The first exception from any thread stops the others taking new items and is rethrown here.
void forEachItemInParallel(std::size_t count, int threads, const std::function<void(std::size_t item)>& item,
                           const std::function<void(std::size_t done)>& afterItem = {});

} // namespace quantscope
