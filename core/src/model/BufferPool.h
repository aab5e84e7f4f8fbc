#pragma once
// Internal to core: the storage of freed tensors, kept per thread for the next tensors of a size
// that fits.
//
// A model run allocates the same large tensors run after run. glibc maps a fresh block for every
// request above its mmap threshold (which grows to at most 32 MiB) and returns it to the system on
// free, so each run pays a page fault per 4 KiB of such a tensor on its first write. Executor::run
// and IntegerPipeline::run hand the storage of every value they free here, and the ops that create
// large outputs (Conv, Gemm, MatMul, the pools, element-wise ops, the integer pipeline's codes)
// draw from it, so the pages stay mapped from one op and one run to the next.
//
// run() is called concurrently on one model, so the pool is per thread (thread_local): a buffer is
// only ever handed to the thread that holds it. Small blocks are left to malloc, which reuses them
// at no cost, and a thread keeps at most kMaxBytes, so an idle worker holds a bounded amount.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace quantscope {

// Leaves new elements uninitialised: for buffers whose every element the op writes (codes).
template <typename T> struct UninitialisedAllocator : std::allocator<T> {
    template <typename U> struct rebind { using other = UninitialisedAllocator<U>; };
    UninitialisedAllocator() = default;
    template <typename U> UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
    template <typename U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
    template <typename U, typename... Args> void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

template <typename Buffer> class BufferPool {
public:
    using Element = typename Buffer::value_type;
    // Blocks below this are not kept (malloc serves them from its free lists).
    static constexpr std::size_t kMinBytes = std::size_t{256} << 10;
    // What one thread keeps at most.
    static constexpr std::size_t kMaxBytes = std::size_t{512} << 20;

    // A buffer of `count` elements: a kept one when one has room for them without wasting more than
    // the count again, else a new one. Elements are constructed as Buffer's allocator does (zero for
    // std::allocator, left as they are by UninitialisedAllocator).
    static Buffer take(std::size_t count) {
        Buffer buffer;
        std::vector<Buffer>& kept = pool();
        if (count * sizeof(Element) >= kMinBytes) {
            auto best = kept.end();
            for (auto it = kept.begin(); it != kept.end(); ++it) {
                const std::size_t capacity = it->capacity();
                if (capacity >= count && capacity / 2 <= count &&
                    (best == kept.end() || capacity < best->capacity()))
                    best = it;
            }
            if (best != kept.end()) {
                buffer = std::move(*best);
                kept.erase(best);
                bytes() -= buffer.capacity() * sizeof(Element);
            }
        }
        buffer.resize(count);
        return buffer;
    }

    // Keeps the storage of `buffer` for a later take() on this thread (or frees it).
    static void give(Buffer&& buffer) {
        const std::size_t size = buffer.capacity() * sizeof(Element);
        if (size < kMinBytes || bytes() + size > kMaxBytes)
            return; // freed with `buffer`
        buffer.clear();
        try {
            pool().push_back(std::move(buffer));
        } catch (const std::bad_alloc&) {
            return; // not kept: freed like any other
        }
        bytes() += size;
    }

    // What the calling thread keeps (for tests).
    static std::size_t keptBytes() { return bytes(); }

private:
    static std::vector<Buffer>& pool() {
        thread_local std::vector<Buffer> kept;
        return kept;
    }
    static std::size_t& bytes() {
        thread_local std::size_t total = 0;
        return total;
    }
};

using FloatBufferPool = BufferPool<std::vector<float>>;

} // namespace quantscope
