#pragma once

#include "quantscope/kernels/IsaPath.h"

namespace quantscope::kernels {

// What the processor and the operating system support, read once with cpuid and xgetbv.
// An instruction set counts only when the OS also saves its register state (XCR0), so a kernel
// that uses zmm registers is never chosen on a system that would not preserve them.
struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vnni = false;
    bool avx512bf16 = false;
    bool osSavesYmm = false;
    bool osSavesZmm = false;

    static const CpuFeatures& host();
    static CpuFeatures detect();

    // The paths whose instructions this processor can run (Scalar always).
    IsaMask supportedPaths() const;
    // e.g. "avx2 fma f16c avx512f avx512bw avx512vl avx512dq avx512vnni avx512bf16".
    std::string description() const;
};

} // namespace quantscope::kernels
