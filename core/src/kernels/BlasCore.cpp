#include "quantscope/kernels/BlasCore.h"

#include <cblas.h>

#include <array>
#include <cstdlib>
#include <unistd.h>

namespace quantscope::kernels {

std::string BlasCore::name() {
    const char* core = openblas_get_corename();
    return core ? core : "";
}

std::string BlasCore::betterCoreType(std::string_view current, const CpuFeatures& cpu) {
    // OpenBLAS's names for the sets below AVX2 (and its fallback for an unknown CPU).
    static constexpr std::array<std::string_view, 12> kGeneric{
        "Prescott", "Katmai", "Coppermine", "Northwood", "Banias",      "Atom",
        "Core2",    "Penryn", "Dunnington", "Nehalem",   "Sandybridge", "Unknown"};
    bool generic = false;
    for (std::string_view name : kGeneric)
        generic = generic || current == name;
    if (!generic)
        return {};
    if (cpu.avx512f && cpu.avx512bw && cpu.avx512dq && cpu.avx512vl && cpu.osSavesZmm)
        return "SkylakeX";
    if (cpu.avx2 && cpu.fma && cpu.osSavesYmm)
        return "Haswell";
    return {};
}

void BlasCore::restartWithBetterKernels(char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr || argv == nullptr || argv[0] == nullptr)
        return; // the user's choice, or a restart already made
    const std::string better = betterCoreType(name(), CpuFeatures::host());
    if (better.empty())
        return;
    if (setenv("OPENBLAS_CORETYPE", better.c_str(), 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); // exec failed: go on as loaded
}

} // namespace quantscope::kernels
