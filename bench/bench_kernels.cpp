// Google Benchmark view of the same kernels as `quantscope-cli bench` (which holds the fp32
// baselines and the GEMV weight rotation). Reports wall and CPU time; the CPU time stays meaningful
// on a busy machine. The path is the dispatched one (QUANTSCOPE_ISA forces another).
#include "quantscope/kernels/Bf16Gemm.h"
#include "quantscope/kernels/ElementwiseKernels.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/KernelRegistry.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

std::vector<float> randomFloats(size_t count) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(count);
    for (auto& x : v)
        x = dist(rng);
    return v;
}

void setOps(benchmark::State& state, double m, double n, double k) {
    state.counters["GOPS"] = benchmark::Counter(
        2.0 * m * n * k * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void openblasSgemm(benchmark::State& state) {
    const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)),
              k = static_cast<int>(state.range(2));
    const auto a = randomFloats(static_cast<size_t>(m) * k), w = randomFloats(static_cast<size_t>(n) * k);
    std::vector<float> c(static_cast<size_t>(m) * n);
    openblas_set_num_threads(1); // single thread, like our kernels here
    for (auto _ : state)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a.data(), k, w.data(), k, 0.0f,
                    c.data(), n);
    setOps(state, m, n, k);
}

void int8Gemm(benchmark::State& state) {
    const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)),
              k = static_cast<int>(state.range(2));
    const KernelTable& path = KernelRegistry::active();
    std::vector<uint8_t> a(static_cast<size_t>(m) * k, 100);
    std::vector<int8_t> w(static_cast<size_t>(n) * k, -3);
    const PackedInt8Weights packed(path, w.data(), n, k, 0);
    std::vector<float> scales(static_cast<size_t>(n), 0.01f), c(static_cast<size_t>(m) * n);
    for (auto _ : state)
        int8GemmFloat(path, QuantizedActivations{a.data(), m, k, 128, 0.02f}, packed, scales.data(), true,
                      nullptr, c.data());
    setOps(state, m, n, k);
    state.SetLabel(isaName(path.path));
}

void bf16GemmBench(benchmark::State& state) {
    const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)),
              k = static_cast<int>(state.range(2));
    const KernelTable& path = KernelRegistry::active();
    const auto a = randomFloats(static_cast<size_t>(m) * k), w = randomFloats(static_cast<size_t>(n) * k);
    const PackedBf16Weights packed(w.data(), n, k);
    std::vector<float> c(static_cast<size_t>(m) * n);
    for (auto _ : state)
        bf16Gemm(path, a.data(), m, packed, nullptr, c.data());
    setOps(state, m, n, k);
    state.SetLabel(isaName(bf16GemmPath(path)));
}

void int4Gemv(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0)), k = static_cast<int>(state.range(1));
    const auto activations = state.range(2) ? Int4Activations::Int8 : Int4Activations::Float32;
    const KernelTable& path = KernelRegistry::active();
    const auto x = randomFloats(static_cast<size_t>(k)), w = randomFloats(static_cast<size_t>(n) * k);
    const PackedInt4Weights packed = PackedInt4Weights::quantize(w.data(), n, k, 128);
    std::vector<float> y(static_cast<size_t>(n));
    for (auto _ : state)
        int4Gemm(path, x.data(), 1, packed, y.data(), activations);
    setOps(state, 1, n, k);
    state.SetLabel(isaName(int4GemmPath(path, activations)));
}

// Quantize 64M floats to int8 (per tensor, and per channel of 4096 values): bytes read per second.
void quantizeInt8(benchmark::State& state) {
    const size_t count = size_t{64} << 20;
    const bool perChannel = state.range(0) != 0;
    const KernelTable& path = KernelRegistry::active();
    const auto x = randomFloats(count);
    const size_t channels = perChannel ? count / 4096 : 1;
    std::vector<float> scales(channels, 0.01f);
    std::vector<int32_t> zeroPoints(channels, 0);
    std::vector<int8_t> q(count);
    const ParamRuns runs{count / channels, channels, scales.data(), zeroPoints.data()};
    for (auto _ : state)
        quantize(path, x.data(), count, runs, IntegerType::Int8, q.data());
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(count * sizeof(float)));
    state.SetLabel(isaName(path.path));
}

} // namespace

BENCHMARK(quantizeInt8)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(openblasSgemm)->Args({1024, 1024, 1024})->Args({128, 4096, 4096})->Unit(benchmark::kMillisecond);
BENCHMARK(int8Gemm)
    ->Args({1024, 1024, 1024})
    ->Args({128, 4096, 4096})
    ->Args({16, 4096, 4096})
    ->Args({1, 4096, 4096})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bf16GemmBench)->Args({1024, 1024, 1024})->Args({128, 4096, 4096})->Unit(benchmark::kMillisecond);
// Weights of 4096 x 4096 int4 (8 MB) fit in L3 here: this measures the kernel's compute rate; the
// CLI's GEMV figures rotate copies so the weights come from memory.
BENCHMARK(int4Gemv)->Args({4096, 4096, 0})->Args({4096, 4096, 1})->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
