#pragma once

#include "quantscope/tensor/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace quantscope {

// Float32 storage reused from tensor to tensor by one thread (whole-file analysis): it only grows,
// is never zeroed, and keeps its pages between tensors, so loading a tensor into it costs neither
// a memset nor a page fault per 4 KB, the two largest costs of a fresh std::vector per tensor.
// Pages past max(the current tensor, kRetainedBytes) are returned to the system (madvise) when a
// smaller tensor follows, so a one-off huge tensor (an embedding) does not stay resident.
// A reader that cannot decode into it hands over a whole Tensor instead (adopt()).
class FloatBuffer {
public:
    // Pages kept for the next tensors even when the current one is smaller.
    static constexpr std::size_t kRetainedBytes = std::size_t{64} << 20;

    FloatBuffer() = default;
    ~FloatBuffer();
    FloatBuffer(const FloatBuffer&) = delete;
    FloatBuffer& operator=(const FloatBuffer&) = delete;

    // Room for `count` values, contents undefined (those of an earlier tensor). Drops an adopted
    // Tensor. Throws std::bad_alloc when the memory cannot be had.
    std::span<float> prepare(std::size_t count);
    // Keeps `tensor` as the buffer's contents (for readers that build a Tensor anyway).
    std::span<const float> adopt(Tensor tensor);

    // Bytes this buffer has reserved (its mapping), and bytes it may hold resident.
    std::size_t capacityBytes() const { return m_capacity * sizeof(float); }
    std::size_t residentBytes() const { return m_touched * sizeof(float); }

private:
    void release() noexcept;

    float* m_data = nullptr;
    std::size_t m_capacity = 0; // floats mapped
    std::size_t m_touched = 0;  // floats handed out since the pages were last returned
    Tensor m_adopted;
};

} // namespace quantscope
