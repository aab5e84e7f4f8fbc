#pragma once

#include "quantscope/kernels/CpuFeatures.h"

#include <string>
#include <string_view>

namespace quantscope::kernels {

// The kernel set OpenBLAS runs sgemm with. OpenBLAS picks it from the CPU model when the library
// loads; a model its tables do not list (a Xeon newer than the library, say) gets the generic
// Prescott kernels, 3-4x slower than the AVX-512 or AVX2 ones the CPU runs. Every fp32 figure, and
// every ratio to fp32, would then be measured against that slow baseline. OPENBLAS_CORETYPE names
// the set instead, but only when it is in the environment before the library loads.
class BlasCore {
public:
    // The kernel set OpenBLAS uses now: "SkylakeX", "Haswell", "Zen", "Prescott", ...
    static std::string name();

    // The OPENBLAS_CORETYPE that fits `cpu` when `current` is one of OpenBLAS's generic or
    // older-generation sets and the CPU runs a faster one ("SkylakeX" with AVX-512 F/BW/DQ/VL,
    // "Haswell" with AVX2 and FMA); empty when `current` is already right.
    static std::string betterCoreType(std::string_view current, const CpuFeatures& cpu);

    // When OpenBLAS runs generic kernels on a CPU that has better ones and the user has not set
    // OPENBLAS_CORETYPE: sets it and executes the program again with the same arguments (the
    // process keeps its id, open files and environment). Returns when nothing needs to change,
    // or when the program cannot be executed again (then it goes on with the generic kernels).
    static void restartWithBetterKernels(char** argv);
};

} // namespace quantscope::kernels
