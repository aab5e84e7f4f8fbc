#include "quantscope/kernels/KernelRegistry.h"

#include "PathTables.h"
#include "quantscope/Error.h"

#include <cstdlib>

namespace quantscope::kernels {

const std::vector<KernelRegistry::Entry>& KernelRegistry::entries() {
    static const std::vector<Entry> list = {
        {IsaPath::Scalar, scalarKernelTable()},
        {IsaPath::Avx2, avx2KernelTable()},
        {IsaPath::Avx512, avx512KernelTable()},
    };
    return list;
}

const KernelTable* KernelRegistry::table(IsaPath path) {
    for (const Entry& entry : entries())
        if (entry.path == path)
            return entry.table;
    return nullptr;
}

const KernelTable& KernelRegistry::scalarTable() {
    return *scalarKernelTable();
}

bool KernelRegistry::isBuilt(IsaPath path) {
    return table(path) != nullptr;
}

bool KernelRegistry::isSupported(IsaPath path) {
    return contains(CpuFeatures::host().supportedPaths(), path);
}

std::string KernelRegistry::unusableReason(IsaPath path) {
    if (!isBuilt(path))
        return std::string("the ") + isaName(path) + " path was not built (the compiler lacks its flags)";
    if (!isSupported(path)) {
        const char* needs = path == IsaPath::Avx2
                                ? "avx2, fma and f16c"
                                : "avx2, fma, f16c, avx512f/bw/vl/dq, avx512vnni and avx512bf16";
        return std::string("this processor cannot run the ") + isaName(path) + " path (it needs " + needs +
               "; it has: " + CpuFeatures::host().description() + ")";
    }
    return {};
}

IsaPath KernelRegistry::choose(const char* environmentValue) {
    if (environmentValue && *environmentValue) {
        const IsaPath forced = parseIsa(environmentValue, "QUANTSCOPE_ISA");
        const std::string reason = unusableReason(forced);
        if (!reason.empty())
            throw Error("QUANTSCOPE_ISA", reason);
        return forced;
    }
    for (IsaPath path : {IsaPath::Avx512, IsaPath::Avx2})
        if (isUsable(path))
            return path;
    return IsaPath::Scalar;
}

const KernelTable& KernelRegistry::active() {
    // Chosen once (thread-safe static). When QUANTSCOPE_ISA is bad the initialisation throws and
    // is retried on the next call, so every caller reports the error.
    static const IsaPath chosen = choose(std::getenv("QUANTSCOPE_ISA"));
    return *table(chosen);
}

} // namespace quantscope::kernels
