#include "quantscope/kernels/KernelBenchmark.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Bf16Gemm.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/ThreadPool.h"

#include <Eigen/Core>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>
#include <random>

namespace quantscope::kernels {

namespace {

using Clock = std::chrono::steady_clock;
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double processCpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Timing {
    double wall = 0.0; // seconds per call, best batch
    double cpu = 0.0;  // process CPU seconds per call (all threads) in the batch with the best wall time
};

// Best time per call over five batches; call(i) gets a running index (to rotate weight copies).
template <class F> Timing secondsPerCall(F&& call, double minSeconds) {
    long index = 0;
    call(index++); // warm-up: first-touch page faults, packing scratch, thread start
    const double batchTarget = minSeconds / 5.0;
    long reps = 1;
    Timing best{1e300, 0.0};
    for (int batch = 0; batch < 5;) {
        const double cpuStart = processCpuSeconds();
        const auto start = Clock::now();
        for (long r = 0; r < reps; ++r)
            call(index++);
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const double cpu = processCpuSeconds() - cpuStart;
        if (elapsed < batchTarget && batch == 0 && reps < (1L << 24)) {
            // Calibrating: grow the batch until it is long enough, then count batches.
            reps = std::max(reps * 2, static_cast<long>(reps * batchTarget / std::max(elapsed, 1e-9)));
            continue;
        }
        if (elapsed / static_cast<double>(reps) < best.wall)
            best = {elapsed / static_cast<double>(reps), cpu / static_cast<double>(reps)};
        ++batch;
    }
    return best;
}

// Enough copies of `bytes` of weights that cycling through them defeats a 32 MB L3 several times.
int copiesFor(const BenchShape& shape, double bytes) {
    if (shape.m != 1)
        return 1;
    return std::clamp(static_cast<int>(std::ceil(128e6 / bytes)), 2, 64);
}

} // namespace

KernelBenchmark::KernelBenchmark(const KernelTable& path, int threads, double minSeconds)
    : m_path(path), m_threads(threads), m_minSeconds(minSeconds) {
    if (threads < 1 || threads > 256)
        throw Error("--threads", "must be between 1 and 256, got " + std::to_string(threads));
}

double KernelBenchmark::readBandwidthGBs() {
    const size_t count = (size_t{256} << 20) / sizeof(uint64_t); // 8x the L3 of the machines we target
    std::unique_ptr<uint64_t[]> buffer(new uint64_t[count]);
    for (size_t i = 0; i < count; ++i)
        buffer[i] = i;
    volatile uint64_t sink = 0;
    const Timing timing = secondsPerCall(
        [&](long) {
            // Four independent sums so the loop is bound by the loads, not by the adds.
            uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (size_t i = 0; i < count; i += 4) {
                s0 += buffer[i];
                s1 += buffer[i + 1];
                s2 += buffer[i + 2];
                s3 += buffer[i + 3];
            }
            sink = sink + s0 + s1 + s2 + s3;
        },
        m_minSeconds);
    m_cpuBandwidthGBs = static_cast<double>(count * sizeof(uint64_t)) / timing.cpu / 1e9;
    return static_cast<double>(count * sizeof(uint64_t)) / timing.wall / 1e9;
}

std::vector<BenchResult> KernelBenchmark::run(const BenchShape& shape) {
    const int m = shape.m, n = shape.n, k = shape.k;
    const double limit = double(1 << 26); // elements per matrix (256 MB of fp32)
    if (m < 1 || n < 1 || k < 1 || k > PackedInt8Weights::kMaxK || double(m) * k > limit ||
        double(n) * k > limit || double(m) * n > limit)
        throw Error("--shape", "M, N, K must be >= 1, K <= " + std::to_string(PackedInt8Weights::kMaxK) +
                                   " and each of M*K, N*K, M*N at most 2^26");
    std::mt19937 rng(12345);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127);
    std::vector<float> a(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k),
        c(static_cast<size_t>(m) * n);
    for (auto& v : a)
        v = uniform(rng);
    for (auto& v : w)
        v = uniform(rng);
    const double ops = 2.0 * m * n * k;
    ThreadPool pool(m_threads);
    openblas_set_num_threads(m_threads);

    std::vector<BenchResult> results;
    auto record = [&](const std::string& kernel, const std::string& path, Timing timing, double weightBytes) {
        const double seconds = timing.wall;
        BenchResult r;
        r.m = m;
        r.n = n;
        r.k = k;
        r.kernel = kernel;
        r.path = path;
        r.secondsPerCall = seconds;
        r.gops = ops / seconds / 1e9;
        r.cpuGops = ops / timing.cpu / 1e9;
        r.weightBytes = weightBytes;
        r.weightGBs = weightBytes / seconds / 1e9;
        results.push_back(r);
    };
    auto announce = [&](const std::string& kernel) {
        if (onKernel)
            onKernel(kernel);
    };

    // fp32 baselines: OpenBLAS and Eigen (Eigen is single-threaded in this build).
    {
        const double bytes = 4.0 * n * k;
        const int copies = copiesFor(shape, bytes);
        std::vector<std::vector<float>> weights(static_cast<size_t>(copies), w);
        const std::string blasKernel = m == 1 ? "openblas_sgemv" : "openblas_sgemm";
        announce(blasKernel);
        const Timing blas = secondsPerCall(
            [&](long i) {
                const float* wi = weights[static_cast<size_t>(i % copies)].data();
                if (m == 1)
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, wi, k, a.data(), 1, 0.0f, c.data(),
                                1);
                else
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a.data(), k, wi, k,
                                0.0f, c.data(), n);
            },
            m_minSeconds);
        record(blasKernel, "openblas", blas, bytes);
        const std::string eigenKernel = m == 1 ? "eigen_sgemv" : "eigen_sgemm";
        announce(eigenKernel);
        const Timing eigen = secondsPerCall(
            [&](long i) {
                Eigen::Map<const RowMajor> am(a.data(), m, k);
                Eigen::Map<const RowMajor> wm(weights[static_cast<size_t>(i % copies)].data(), n, k);
                Eigen::Map<RowMajor> cm(c.data(), m, n);
                cm.noalias() = am * wm.transpose();
            },
            m_minSeconds);
        record(eigenKernel, "eigen", eigen, bytes);
    }

    // int8: u8 activations (zero point 128) x s8 weights, per-channel scales, float output.
    {
        std::vector<uint8_t> aq(a.size());
        for (auto& v : aq)
            v = static_cast<uint8_t>(u8(rng));
        std::vector<int8_t> wq(w.size());
        for (auto& v : wq)
            v = static_cast<int8_t>(s8(rng));
        std::vector<float> scales(static_cast<size_t>(n), 0.01f);
        const PackedInt8Weights first(m_path, wq.data(), n, k, 0);
        const int copies = copiesFor(shape, static_cast<double>(first.bytes()));
        std::vector<std::unique_ptr<PackedInt8Weights>> packed;
        for (int i = 0; i < copies; ++i)
            packed.push_back(std::make_unique<PackedInt8Weights>(m_path, wq.data(), n, k, 0));
        const std::string kernel = m == 1 ? "int8_gemv" : "int8_gemm";
        announce(kernel);
        const QuantizedActivations act{aq.data(), m, k, 128, 0.02f};
        const Timing seconds = secondsPerCall(
            [&](long i) {
                int8GemmFloat(m_path, act, *packed[static_cast<size_t>(i % copies)], scales.data(), true,
                              nullptr, c.data(), &pool);
            },
            m_minSeconds);
        record(kernel, isaName(m_path.path), seconds, static_cast<double>(first.bytes()));
    }

    // int4 weight-only, groups of 128, fp32 activations and (int8-quantized activations).
    {
        const int group = k % 128 == 0 ? 128 : k % 64 == 0 ? 64 : k % 32 == 0 ? 32 : 0;
        if (group) {
            const PackedInt4Weights first = PackedInt4Weights::quantize(w.data(), n, k, group);
            const double bytes = static_cast<double>(first.bytes()) + 4.0 * n * (k / group);
            const int copies = copiesFor(shape, bytes);
            std::vector<std::unique_ptr<PackedInt4Weights>> packed;
            for (int i = 0; i < copies; ++i)
                packed.push_back(
                    std::make_unique<PackedInt4Weights>(PackedInt4Weights::quantize(w.data(), n, k, group)));
            for (Int4Activations activations : {Int4Activations::Float32, Int4Activations::Int8}) {
                const std::string kernel = std::string(m == 1 ? "int4_gemv" : "int4_gemm") +
                                           (activations == Int4Activations::Int8 ? "_s8act" : "");
                announce(kernel);
                const Timing seconds = secondsPerCall(
                    [&](long i) {
                        int4Gemm(m_path, a.data(), m, *packed[static_cast<size_t>(i % copies)], c.data(),
                                 activations, &pool);
                    },
                    m_minSeconds);
                record(kernel, isaName(int4GemmPath(m_path, activations)), seconds, bytes);
            }
        }
    }

    // bf16: weights rounded and packed once, activations rounded per call (included in the time).
    {
        const PackedBf16Weights first(w.data(), n, k);
        const double bytes = 2.0 * n * first.kPadded();
        const int copies = copiesFor(shape, bytes);
        std::vector<std::unique_ptr<PackedBf16Weights>> packed;
        for (int i = 0; i < copies; ++i)
            packed.push_back(std::make_unique<PackedBf16Weights>(w.data(), n, k));
        const std::string kernel = m == 1 ? "bf16_gemv" : "bf16_gemm";
        announce(kernel);
        const Timing seconds = secondsPerCall(
            [&](long i) {
                bf16Gemm(m_path, a.data(), m, *packed[static_cast<size_t>(i % copies)], nullptr, c.data(),
                         &pool);
            },
            m_minSeconds);
        record(kernel, isaName(bf16GemmPath(m_path)), seconds, bytes);
    }

    const double baseline = results.front().gops;
    for (BenchResult& r : results) {
        r.baseline = results.front().kernel;
        r.ratioToBaseline = r.gops / baseline;
    }
    return results;
}

} // namespace quantscope::kernels
