#include "quantscope/kernels/CpuFeatures.h"

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define QUANTSCOPE_X86 1
#endif

namespace quantscope::kernels {

namespace {
#ifdef QUANTSCOPE_X86
// XCR0 through xgetbv (inline assembly: the intrinsic needs -mxsave on the whole file).
uint64_t readXcr0() {
    uint32_t eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif
} // namespace

CpuFeatures CpuFeatures::detect() {
    CpuFeatures f;
#ifdef QUANTSCOPE_X86
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return f;
    const bool osxsave = (ecx >> 27) & 1u;
    f.fma = (ecx >> 12) & 1u;
    f.f16c = (ecx >> 29) & 1u;
    const bool avx = (ecx >> 28) & 1u;
    if (osxsave) {
        const uint64_t xcr0 = readXcr0();
        f.osSavesYmm = (xcr0 & 0x6) == 0x6;                   // SSE and AVX state
        f.osSavesZmm = f.osSavesYmm && (xcr0 & 0xE0) == 0xE0; // opmask, ZMM_Hi256, Hi16_ZMM
    }
    unsigned maxLeaf = __get_cpuid_max(0, nullptr);
    if (maxLeaf >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        f.avx2 = avx && ((ebx >> 5) & 1u) && f.osSavesYmm;
        f.avx512f = ((ebx >> 16) & 1u) && f.osSavesZmm;
        f.avx512dq = ((ebx >> 17) & 1u) && f.osSavesZmm;
        f.avx512bw = ((ebx >> 30) & 1u) && f.osSavesZmm;
        f.avx512vl = ((ebx >> 31) & 1u) && f.osSavesZmm;
        f.avx512vnni = ((ecx >> 11) & 1u) && f.osSavesZmm;
        unsigned eax1 = 0, ebx1 = 0, ecx1 = 0, edx1 = 0;
        __cpuid_count(7, 1, eax1, ebx1, ecx1, edx1);
        f.avx512bf16 = ((eax1 >> 5) & 1u) && f.osSavesZmm;
    }
    f.fma = f.fma && f.osSavesYmm;
    f.f16c = f.f16c && f.osSavesYmm;
#endif
    return f;
}

const CpuFeatures& CpuFeatures::host() {
    static const CpuFeatures features = detect();
    return features;
}

IsaMask CpuFeatures::supportedPaths() const {
    IsaMask mask = maskOf(IsaPath::Scalar);
    if (avx2 && fma && f16c)
        mask |= maskOf(IsaPath::Avx2);
    if ((mask & maskOf(IsaPath::Avx2)) && avx512f && avx512bw && avx512vl && avx512dq && avx512vnni &&
        avx512bf16)
        mask |= maskOf(IsaPath::Avx512);
    return mask;
}

std::string CpuFeatures::description() const {
    std::string text;
    auto add = [&text](bool present, const char* name) {
        if (present) {
            if (!text.empty())
                text += ' ';
            text += name;
        }
    };
    add(avx2, "avx2");
    add(fma, "fma");
    add(f16c, "f16c");
    add(avx512f, "avx512f");
    add(avx512bw, "avx512bw");
    add(avx512vl, "avx512vl");
    add(avx512dq, "avx512dq");
    add(avx512vnni, "avx512vnni");
    add(avx512bf16, "avx512bf16");
    return text.empty() ? "none" : text;
}

} // namespace quantscope::kernels
