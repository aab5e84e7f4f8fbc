#pragma once

#include <atomic>
#include <cstdint>

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

// How many times throwIfCancelled() ran under a scope, in the whole process: lets a test see how
// far a load got before it stopped.
uint64_t cancellationCheckpoints();

} // namespace quantscope
