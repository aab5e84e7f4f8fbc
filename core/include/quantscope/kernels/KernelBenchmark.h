#pragma once

#include "quantscope/kernels/KernelTable.h"

#include <functional>
#include <string>
#include <vector>

namespace quantscope::kernels {

struct BenchShape {
    int m = 0, n = 0, k = 0;
};

struct BenchResult {
    int m = 0, n = 0, k = 0;
    std::string kernel;   // openblas_sgemm, openblas_sgemv, eigen_sgemm, int8_gemm, int8_gemv, ...
    double gops = 0.0;    // 2 * M * N * K operations per second / 1e9
    std::string baseline; // the OpenBLAS kernel of the same shape
    double ratioToBaseline = 0.0;
    std::string path;         // scalar, avx2, avx512, or "openblas" / "eigen"
    double weightBytes = 0.0; // bytes of weights read per call
    double weightGBs = 0.0;   // weightBytes / seconds per call / 1e9
    double secondsPerCall = 0.0;
    // Operations per CPU-second of the whole process (all threads): with one thread this is the
    // kernel's rate while it actually ran, a steadier figure than wall time on a busy machine.
    double cpuGops = 0.0;
};

// Throughput of our kernels and the fp32 baselines (OpenBLAS cblas_sgemm / cblas_sgemv, Eigen) on
// one shape, all measured in the same run with the same thread count. Every timing is the best of
// five batches, each batch long enough (minSeconds / 5) to swamp the timer. For M = 1 the weights
// are rotated through enough copies (>= 128 MB in all) that each call reads them from memory,
// not from the caches, as a decoder's GEMV does.
class KernelBenchmark {
public:
    KernelBenchmark(const KernelTable& path, int threads, double minSeconds = 0.5);

    std::vector<BenchResult> run(const BenchShape& shape);
    // Single-thread memory read bandwidth in GB/s (sum of a 256 MB buffer), for the GEMV figures.
    double readBandwidthGBs();
    // The same bytes per CPU-second (set by readBandwidthGBs), to compare with BenchResult::cpuGops.
    double cpuReadBandwidthGBs() const { return m_cpuBandwidthGBs; }

    // Called before each measurement with its kernel name (for a progress display).
    std::function<void(const std::string&)> onKernel;

private:
    const KernelTable& m_path;
    int m_threads;
    double m_minSeconds;
    double m_cpuBandwidthGBs = 0.0;
};

} // namespace quantscope::kernels
