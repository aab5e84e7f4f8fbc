#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace quantscope::kernels {

// A small fixed pool for splitting one kernel call into contiguous ranges (the GEMMs split the
// weight panels, i.e. N, so threads never write the same output). The calling thread takes the
// first range itself, so a pool of 1 thread runs everything inline.
class ThreadPool {
public:
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int threadCount() const { return static_cast<int>(m_workers.size()) + 1; }

    // Calls work(begin, end) on [0, count) cut into threadCount() nearly equal ranges (empty
    // ranges skipped) and returns when all are done. The first exception thrown is rethrown.
    // Re-entrant: a call from inside a range of this pool runs inline on that thread, and calls
    // from several other threads take turns.
    void parallelFor(int count, const std::function<void(int begin, int end)>& work);

private:
    void workerLoop(int index);

    std::vector<std::thread> m_workers;
    std::mutex m_callMutex; // one parallelFor at a time owns the workers
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    const std::function<void(int, int)>* m_work = nullptr;
    int m_count = 0;
    long m_generation = 0;
    int m_pending = 0;
    bool m_stopping = false;
    std::exception_ptr m_error;
};

} // namespace quantscope::kernels
