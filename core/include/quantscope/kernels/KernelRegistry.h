#pragma once

#include "quantscope/kernels/CpuFeatures.h"
#include "quantscope/kernels/KernelTable.h"

#include <vector>

namespace quantscope::kernels {

// The one list of kernel paths. Dispatch (active()), the tests (every usable path against the
// reference) and the benchmarks all read it. A path is usable when it was built (its table
// exists: the compiler accepted its ISA flags) and the processor supports it.
class KernelRegistry {
public:
    struct Entry {
        IsaPath path;
        const KernelTable* table; // null when the path was not built
    };

    // Every path in order scalar, avx2, avx512, built or not.
    static const std::vector<Entry>& entries();
    static const KernelTable* table(IsaPath path); // null when not built
    static bool isBuilt(IsaPath path);
    static bool isSupported(IsaPath path); // by this processor
    static bool isUsable(IsaPath path) { return isBuilt(path) && isSupported(path); }
    // Why a path cannot be used ("not built", "the processor lacks avx512vnni ..."), "" if it can.
    static std::string unusableReason(IsaPath path);

    // The path chosen for this process: QUANTSCOPE_ISA when set (an unknown or unusable value is
    // an Error naming QUANTSCOPE_ISA), otherwise the best usable one.
    static const KernelTable& active();
    static IsaPath choose(const char* environmentValue);

    // The table whose version of a kernel runs: `table` itself, or the scalar table when the
    // path has no specialised version of that kernel.
    template <class F> static const KernelTable& provider(const KernelTable& table, F KernelTable::*member) {
        return table.*member ? table : scalarTable();
    }
    static const KernelTable& scalarTable();
};

} // namespace quantscope::kernels
