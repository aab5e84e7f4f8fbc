#include "quantscope/kernels/ThreadPool.h"

#include "quantscope/Error.h"

#include <string>

namespace quantscope::kernels {

ThreadPool::ThreadPool(int threads) {
    if (threads < 1 || threads > 256)
        throw Error("--threads", "must be between 1 and 256, got " + std::to_string(threads));
    for (int i = 1; i < threads; ++i)
        m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    for (std::thread& worker : m_workers)
        worker.join();
}

namespace {

// The pool whose range the current thread is running, so that a nested parallelFor on the same
// pool runs inline instead of waiting for workers that are busy with the outer call.
thread_local const ThreadPool* t_runningPool = nullptr;

class RunningScope {
public:
    explicit RunningScope(const ThreadPool* pool) : m_previous(t_runningPool) { t_runningPool = pool; }
    ~RunningScope() { t_runningPool = m_previous; }
    RunningScope(const RunningScope&) = delete;
    RunningScope& operator=(const RunningScope&) = delete;

private:
    const ThreadPool* m_previous;
};

void rangeOf(int count, int parts, int index, int& begin, int& end) {
    begin = static_cast<int>(static_cast<long long>(count) * index / parts);
    end = static_cast<int>(static_cast<long long>(count) * (index + 1) / parts);
}
} // namespace

void ThreadPool::parallelFor(int count, const std::function<void(int, int)>& work) {
    if (count <= 0)
        return;
    if (m_workers.empty() || count == 1 || t_runningPool == this) {
        const RunningScope running(this);
        work(0, count);
        return;
    }
    const std::lock_guard<std::mutex> turn(m_callMutex);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_work = &work;
        m_count = count;
        m_pending = static_cast<int>(m_workers.size());
        m_error = nullptr;
        ++m_generation;
    }
    m_wake.notify_all();
    std::exception_ptr ownError;
    try {
        int begin = 0, end = 0;
        rangeOf(count, threadCount(), 0, begin, end);
        const RunningScope running(this);
        if (begin < end)
            work(begin, end);
    } catch (...) {
        ownError = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(m_mutex);
    m_done.wait(lock, [this] { return m_pending == 0; });
    m_work = nullptr;
    if (ownError)
        std::rethrow_exception(ownError);
    if (m_error)
        std::rethrow_exception(m_error);
}

void ThreadPool::workerLoop(int index) {
    long seen = 0;
    for (;;) {
        const std::function<void(int, int)>* work = nullptr;
        int count = 0;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stopping || m_generation != seen; });
            if (m_stopping)
                return;
            seen = m_generation;
            work = m_work;
            count = m_count;
        }
        std::exception_ptr error;
        try {
            int begin = 0, end = 0;
            rangeOf(count, threadCount(), index, begin, end);
            const RunningScope running(this);
            if (begin < end)
                (*work)(begin, end);
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (error && !m_error)
                m_error = error;
            if (--m_pending == 0)
                m_done.notify_one();
        }
    }
}

} // namespace quantscope::kernels
