#pragma once
// A copy of a few bytes without a library call: the depthwise convolution copies rows of 7 to 112
// bytes thousands of times per layer, where a call to memcpy costs more than the copy. Fixed-size
// memcpy compiles to plain loads and stores; overlapping pieces cover any length without touching
// a byte past the end.

#include <cstddef>
#include <cstring>

namespace quantscope::kernels {

inline void copyBytes(void* destination, const void* source, size_t count) {
    auto* dst = static_cast<unsigned char*>(destination);
    const auto* src = static_cast<const unsigned char*>(source);
    if (count >= 16) {
        for (size_t i = 0; i + 16 <= count; i += 16)
            std::memcpy(dst + i, src + i, 16);
        std::memcpy(dst + count - 16, src + count - 16, 16);
    } else if (count >= 8) {
        std::memcpy(dst, src, 8);
        std::memcpy(dst + count - 8, src + count - 8, 8);
    } else if (count >= 4) {
        std::memcpy(dst, src, 4);
        std::memcpy(dst + count - 4, src + count - 4, 4);
    } else {
        for (size_t i = 0; i < count; ++i)
            dst[i] = src[i];
    }
}

} // namespace quantscope::kernels
