#pragma once
// Shared by the tst_kernels_* tests: one data row per kernel path from the registry, skipped
// with the reason when this build or processor cannot run it, and the random seed.

#include "quantscope/kernels/KernelRegistry.h"

#include <QtTest>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace kerneltest {

inline void addPathRows() {
    QTest::addColumn<int>("path");
    for (const auto& entry : quantscope::kernels::KernelRegistry::entries())
        QTest::newRow(quantscope::kernels::isaName(entry.path)) << static_cast<int>(entry.path);
}

// QUANTSCOPE_TEST_SEED overrides the default so a failure can be replayed; the seed is printed.
inline uint32_t seed(const char* test) {
    const char* forced = std::getenv("QUANTSCOPE_TEST_SEED");
    const uint32_t value = forced ? static_cast<uint32_t>(std::strtoul(forced, nullptr, 10)) : 20261126u;
    qInfo("%s: random seed %u (set QUANTSCOPE_TEST_SEED to change)", test, value);
    return value;
}

} // namespace kerneltest

// Declares `table` for the row's path, or skips the row saying why the path cannot run here.
#define KERNEL_PATH_OR_SKIP(table)                                                                           \
    QFETCH(int, path);                                                                                       \
    const auto isaPath = static_cast<quantscope::kernels::IsaPath>(path);                                    \
    {                                                                                                        \
        const std::string reason = quantscope::kernels::KernelRegistry::unusableReason(isaPath);             \
        if (!reason.empty())                                                                                 \
            QSKIP(reason.c_str());                                                                           \
    }                                                                                                        \
    const quantscope::kernels::KernelTable& table = *quantscope::kernels::KernelRegistry::table(isaPath)
