// Google Benchmark view of the same kernels as `quantscope-cli bench` (which holds the fp32
// baselines and the GEMV weight rotation). Reports wall and CPU time; the CPU time stays meaningful
// on a busy machine. The path is the dispatched one (QUANTSCOPE_ISA forces another).
#include "quantscope/kernels/Bf16Gemm.h"
#include "quantscope/kernels/ElementwiseKernels.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Int8ConvHelpers.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <memory>
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

// The requantizing epilogue alone: 1M int32 values to u8 with per-channel multipliers (64
// channels repeated, as a GEMM row sees them), on the dispatched path (arg 1) or the scalar one
// (arg 0); the ratio of the two is the epilogue's vector speed-up.
void requantizeEpilogue(benchmark::State& state) {
    const KernelTable& path = state.range(0) ? KernelRegistry::active() : KernelRegistry::scalarTable();
    const size_t count = size_t{1} << 20;
    std::mt19937 rng(3);
    std::uniform_int_distribution<int32_t> dist(-200000, 200000);
    std::vector<int32_t> values(count), bias(count), m0(count), shifts(count);
    for (size_t i = 0; i < count; ++i) {
        values[i] = dist(rng);
        const FixedPointMultiplier m(0.0007 * static_cast<double>(1 + i % 64));
        m0[i] = m.multiplier();
        shifts[i] = m.shift();
        bias[i] = static_cast<int32_t>(i % 64) * 100;
    }
    RequantizeSpec spec;
    spec.bias = bias.data();
    spec.multipliers = m0.data();
    spec.shifts = shifts.data();
    spec.perChannel = true;
    spec.zeroPoint = 100;
    spec.clampMin = 100; // a fused Relu
    spec.clampMax = 255;
    std::vector<uint8_t> out(count);
    for (auto _ : state)
        path.requantizeU8(values.data(), count, spec, out.data());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(count));
    state.SetLabel(isaName(path.path));
}

// ResNet-18-shaped conv GEMMs with the requantized u8 output, on 1 or 2 threads of the kernel pool
// (args M, N, K, threads): the 2-thread / 1-thread ratio is the split's scaling.
void int8GemmRequantizeThreads(benchmark::State& state) {
    const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)),
              k = static_cast<int>(state.range(2)), threads = static_cast<int>(state.range(3));
    const KernelTable& path = KernelRegistry::active();
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
    std::vector<uint8_t> a(static_cast<size_t>(m) * k);
    std::vector<int8_t> w(static_cast<size_t>(n) * k);
    for (auto& v : a)
        v = static_cast<uint8_t>(u8(rng));
    for (auto& v : w)
        v = static_cast<int8_t>(s8(rng));
    const PackedInt8Weights packed(path, w.data(), n, k, 0);
    std::vector<FixedPointMultiplier> multipliers;
    for (int i = 0; i < n; ++i)
        multipliers.emplace_back(0.0001 * (1 + i % 7));
    std::vector<int32_t> bias(static_cast<size_t>(n), 500);
    std::vector<uint8_t> c(static_cast<size_t>(m) * n);
    ThreadPool pool(threads);
    for (auto _ : state)
        int8GemmRequantizeU8(path, QuantizedActivations{a.data(), m, k, 128, 1.0f}, packed,
                             multipliers.data(), true, bias.data(), 0, c.data(), &pool, 0, 255);
    setOps(state, m, n, k);
    state.SetLabel(isaName(path.path));
}

// MobileNetV2-shaped depthwise 3x3 (args C, H = W, stride), u8 in and out, against a plain fp32
// depthwise loop over a padded plane (the inner loop runs along the output width, which GCC
// vectorises for stride 1) on the same shape.
void depthwiseShape(benchmark::State& state, DepthwiseConvShape& s) {
    s.batch = 1;
    s.channels = static_cast<int>(state.range(0));
    s.height = s.width = static_cast<int>(state.range(1));
    s.strideH = s.strideW = static_cast<int>(state.range(2));
    s.padTop = s.padLeft = s.padBottom = s.padRight = 1;
}

void int8Depthwise(benchmark::State& state) {
    DepthwiseConvShape s;
    depthwiseShape(state, s);
    const KernelTable& path = KernelRegistry::active();
    std::vector<uint8_t> x(static_cast<size_t>(s.channels) * s.height * s.width, 90);
    std::vector<int8_t> w(static_cast<size_t>(s.channels) * 9, -3);
    std::vector<FixedPointMultiplier> m(static_cast<size_t>(s.channels), FixedPointMultiplier(0.01));
    std::vector<uint8_t> y(static_cast<size_t>(s.channels) * s.outHeight() * s.outWidth());
    for (auto _ : state)
        int8DepthwiseConv(path, s, x.data(), 128, w.data(), nullptr, m.data(), true, 0, y.data(), nullptr, 0,
                          255);
    setOps(state, 1, static_cast<double>(y.size()), 9);
    state.SetLabel(isaName(int8DepthwiseConvPath(path)));
}

void fp32Depthwise(benchmark::State& state) {
    DepthwiseConvShape s;
    depthwiseShape(state, s);
    const auto x = randomFloats(static_cast<size_t>(s.channels) * s.height * s.width);
    const auto w = randomFloats(static_cast<size_t>(s.channels) * 9);
    const int oh = s.outHeight(), ow = s.outWidth(), pw = s.width + 2, ph = s.height + 2;
    std::vector<float> padded(static_cast<size_t>(ph) * pw), y(static_cast<size_t>(s.channels) * oh * ow);
    for (auto _ : state)
        for (int c = 0; c < s.channels; ++c) {
            for (int h = 0; h < s.height; ++h)
                std::memcpy(padded.data() + static_cast<size_t>(h + 1) * pw + 1,
                            x.data() + (static_cast<size_t>(c) * s.height + h) * s.width,
                            sizeof(float) * s.width);
            float* out = y.data() + static_cast<size_t>(c) * oh * ow;
            const float* k = w.data() + static_cast<size_t>(c) * 9;
            for (int i = 0; i < oh; ++i) {
                float* row = out + static_cast<size_t>(i) * ow;
                std::fill(row, row + ow, 0.0f);
                for (int kh = 0; kh < 3; ++kh)
                    for (int kw = 0; kw < 3; ++kw) {
                        const float* in = padded.data() + static_cast<size_t>(i * s.strideH + kh) * pw + kw;
                        const float weight = k[kh * 3 + kw];
                        for (int j = 0; j < ow; ++j)
                            row[j] += in[j * s.strideW] * weight;
                    }
                for (int j = 0; j < ow; ++j)
                    row[j] = std::max(row[j], 0.0f); // the Relu the int8 kernel fuses
            }
        }
    benchmark::DoNotOptimize(y.data());
    setOps(state, 1, static_cast<double>(y.size()), 9);
}

// im2row of ResNet-18's 56 x 56 x 64 3x3 conv input (M = 3136, K = 576) and the transpose of its
// 3136 x 64 u8 result into NCHW: the data movement around the conv GEMM above.
void im2rowResNet(benchmark::State& state) {
    Conv2dGeometry g;
    g.channels = 64;
    g.height = g.width = 56;
    g.kernelH = g.kernelW = 3;
    g.padTop = g.padLeft = g.padBottom = g.padRight = 1;
    std::vector<uint8_t> x(static_cast<size_t>(64) * 56 * 56, 7),
        rows(static_cast<size_t>(g.rows()) * g.patch());
    for (auto _ : state)
        im2rowU8(g, x.data(), 128, rows.data());
    benchmark::DoNotOptimize(rows.data());
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(rows.size()));
}

void transposeResNet(benchmark::State& state) {
    std::vector<uint8_t> c(static_cast<size_t>(3136) * 64, 3), y(c.size());
    for (auto _ : state)
        transposeU8(c.data(), 3136, 64, y.data());
    benchmark::DoNotOptimize(y.data());
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(c.size()));
}

} // namespace

BENCHMARK(im2rowResNet)->Unit(benchmark::kMicrosecond);
BENCHMARK(transposeResNet)->Unit(benchmark::kMicrosecond);
BENCHMARK(requantizeEpilogue)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(int8GemmRequantizeThreads)
    ->Args({3136, 64, 576, 1})
    ->Args({3136, 64, 576, 2})
    ->Args({784, 128, 1152, 1})
    ->Args({784, 128, 1152, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(int8Depthwise)
    ->Args({96, 112, 2})
    ->Args({144, 56, 1})
    ->Args({384, 14, 1})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(fp32Depthwise)
    ->Args({96, 112, 2})
    ->Args({144, 56, 1})
    ->Args({384, 14, 1})
    ->Unit(benchmark::kMicrosecond);
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
