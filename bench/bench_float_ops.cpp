// The fp32 ops between the GEMMs (FloatKernels.h) on every usable path, on one BERT-base layer's
// shapes at batch 1 (sequence 128, hidden 768, FFN 3072, 12 heads): values per second, so the
// SIMD path reads as a ratio to the scalar reference measured in the same run.
//   bench_float_ops [--benchmark_filter=gelu]
#include "quantscope/kernels/FloatKernels.h"
#include "quantscope/kernels/KernelRegistry.h"

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

using namespace quantscope::kernels;

namespace {

constexpr size_t kSequence = 128, kHidden = 768, kFfn = 3072, kHeads = 12;

std::vector<float> normals(size_t count, float spread) {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, spread);
    std::vector<float> values(count);
    for (auto& v : values)
        v = normal(rng);
    return values;
}

void registerPath(IsaPath path) {
    const KernelTable* table = KernelRegistry::table(path);
    if (table == nullptr || !KernelRegistry::isUsable(path))
        return;
    const std::string suffix = std::string("/") + isaName(path);
    benchmark::RegisterBenchmark(("gelu" + suffix).c_str(), [table](benchmark::State& state) {
        std::vector<float> x = normals(kSequence * kFfn, 2.0f), y(x.size());
        for (auto _ : state) {
            gelu(*table, x.data(), x.size(), y.data());
            benchmark::DoNotOptimize(y.data());
        }
        state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
    });
    benchmark::RegisterBenchmark(("softmax" + suffix).c_str(), [table](benchmark::State& state) {
        std::vector<float> x = normals(kHeads * kSequence * kSequence, 3.0f), y(x.size());
        for (auto _ : state) {
            softmaxRows(*table, x.data(), kHeads * kSequence, kSequence, y.data());
            benchmark::DoNotOptimize(y.data());
        }
        state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
    });
    benchmark::RegisterBenchmark(("layernorm" + suffix).c_str(), [table](benchmark::State& state) {
        std::vector<float> x = normals(kSequence * kHidden, 1.0f), y(x.size());
        const std::vector<float> scale = normals(kHidden, 1.0f), bias = normals(kHidden, 0.1f);
        for (auto _ : state) {
            layerNormRows(*table, x.data(), kSequence, kHidden, scale.data(), bias.data(), 1e-5f, y.data(),
                          nullptr, nullptr);
            benchmark::DoNotOptimize(y.data());
        }
        state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
    });
    benchmark::RegisterBenchmark(("bias_add" + suffix).c_str(), [table](benchmark::State& state) {
        std::vector<float> x = normals(kSequence * kFfn, 1.0f), y(x.size());
        const std::vector<float> bias = normals(kFfn, 0.1f);
        for (auto _ : state) {
            for (size_t row = 0; row < kSequence; ++row)
                binary(*table, FloatBinaryOp::Add, x.data() + row * kFfn, 1, bias.data(), 1, kFfn,
                       y.data() + row * kFfn);
            benchmark::DoNotOptimize(y.data());
        }
        state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
    });
}

} // namespace

int main(int argc, char** argv) {
    for (const auto& entry : KernelRegistry::entries())
        registerPath(entry.path);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
