#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace quantscope::kernels {

// The instruction-set paths a kernel can run on (ruy-style bit flags, so a set of paths is a mask).
enum class IsaPath : uint32_t {
    Scalar = 1u << 0, // plain C++, always built and always supported
    Avx2 = 1u << 1,   // AVX2 + FMA + F16C
    Avx512 = 1u << 2, // AVX-512 F/BW/VL/DQ + VNNI + BF16
};

using IsaMask = uint32_t;

constexpr IsaMask maskOf(IsaPath path) {
    return static_cast<IsaMask>(path);
}
constexpr bool contains(IsaMask mask, IsaPath path) {
    return (mask & maskOf(path)) != 0;
}

// "scalar", "avx2", "avx512".
const char* isaName(IsaPath path);
// Parses one of the names above; throws Error(subject, ...) listing the allowed names otherwise.
IsaPath parseIsa(std::string_view name, const std::string& subject);

} // namespace quantscope::kernels
