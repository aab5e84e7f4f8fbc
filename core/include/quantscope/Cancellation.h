#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace quantscope {

// Lets work that takes no progress callback (opening and loading files, building a model) stop
// when the job it runs for is cancelled. The job installs its flag on the thread that runs it for
// the duration of the work; loaders call throwIfCancelled() between chunks, tensors or images.
// Work on a thread without a scope is never cancelled this way.
class CancellationScope {
public:
    explicit CancellationScope(const std::atomic<bool>& cancelRequested);
    ~CancellationScope();
    CancellationScope(const CancellationScope&) = delete;
    CancellationScope& operator=(const CancellationScope&) = delete;

private:
    const std::atomic<bool>* m_previous;
};

// Throws quantscope::Cancelled when the current thread's job was asked to stop.
void throwIfCancelled();

// The flag of the current thread's scope, or null outside any scope: work that fans out to more
// threads installs the same scope on each of them, so their loads stop with the job too.
const std::atomic<bool>* currentCancellationFlag();

// How many times throwIfCancelled() ran under a scope, in the whole process: lets a test see how
// far a load got before it stopped.
uint64_t cancellationCheckpoints();

// Calls `visit` on consecutive slices of `values`, checking between slices whether the job this
// runs for was cancelled: one pass can be over a whole LLM embedding (hundreds of millions of
// values), and the app must be able to stop it part-way. For passes that only accumulate, so that
// slicing leaves the result unchanged.
template <class Value, class Visit> void forEachSlice(std::span<const Value> values, Visit&& visit) {
    constexpr std::size_t kSliceValues = std::size_t{1} << 20;
    for (std::size_t first = 0; first < values.size(); first += kSliceValues) {
        throwIfCancelled();
        visit(values.subspan(first, std::min(kSliceValues, values.size() - first)));
    }
}

} // namespace quantscope
