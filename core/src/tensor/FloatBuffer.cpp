#include "quantscope/tensor/FloatBuffer.h"

#include <algorithm>
#include <new>
#include <utility>

#include <sys/mman.h>

namespace quantscope {
namespace {

// Transparent huge pages: a 2 MB page faults (and is zeroed by the kernel) once instead of 512
// times; release boundaries are rounded to it so that the kept part stays huge.
constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t roundUp(std::size_t bytes, std::size_t to) {
    return (bytes + to - 1) / to * to;
}

} // namespace

FloatBuffer::~FloatBuffer() {
    release();
}

void FloatBuffer::release() noexcept {
    if (m_data)
        ::munmap(m_data, capacityBytes());
    m_data = nullptr;
    m_capacity = 0;
    m_touched = 0;
}

std::span<float> FloatBuffer::prepare(std::size_t count) {
    m_adopted = Tensor();
    if (count > m_capacity) {
        release();
        const std::size_t bytes = roundUp(std::max<std::size_t>(count, 1) * sizeof(float), kHugePage);
        void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mapped == MAP_FAILED)
            throw std::bad_alloc();
        m_data = static_cast<float*>(mapped);
        m_capacity = bytes / sizeof(float);
    }
    // Return the pages past what this tensor and the retained room need (a one-off large tensor).
    const std::size_t keepBytes = roundUp(std::max(count * sizeof(float), kRetainedBytes), kHugePage);
    if (m_touched * sizeof(float) > keepBytes && keepBytes < capacityBytes()) {
        ::madvise(reinterpret_cast<char*>(m_data) + keepBytes, capacityBytes() - keepBytes, MADV_DONTNEED);
        m_touched = keepBytes / sizeof(float);
    }
    m_touched = std::max(m_touched, count);
    return {m_data, count};
}

std::span<const float> FloatBuffer::adopt(Tensor tensor) {
    m_adopted = std::move(tensor);
    return std::as_const(m_adopted).values();
}

} // namespace quantscope
