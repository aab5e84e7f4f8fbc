#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace quantscope::kernels {

// A zero-initialised array aligned to a cache line (64 bytes), for packed kernel operands.
template <class T> class AlignedBuffer {
public:
    AlignedBuffer() = default;
    explicit AlignedBuffer(size_t count) { resize(count); }

    void resize(size_t count) {
        const size_t bytes = ((count * sizeof(T) + 63) / 64) * 64;
        void* memory = bytes ? std::aligned_alloc(64, bytes) : nullptr;
        if (bytes && !memory)
            throw std::bad_alloc();
        if (memory)
            std::memset(memory, 0, bytes);
        m_data.reset(static_cast<T*>(memory));
        m_size = count;
    }
    // Grows without keeping the contents (a scratch area reused between calls).
    void reserveScratch(size_t count) {
        if (count > m_size)
            resize(count);
    }

    T* data() { return m_data.get(); }
    const T* data() const { return m_data.get(); }
    size_t size() const { return m_size; }
    T& operator[](size_t i) { return m_data.get()[i]; }
    const T& operator[](size_t i) const { return m_data.get()[i]; }

private:
    struct Free {
        void operator()(T* p) const { std::free(p); }
    };
    std::unique_ptr<T, Free> m_data;
    size_t m_size = 0;
};

} // namespace quantscope::kernels
