// Throughput of analyzeTensor (calibrate + quantize + all metrics) on a 64M-element float32
// tensor, single thread, next to the machine's memory read bandwidth measured in the same run.
//   bench_quantize [--elements N] [--repeat R]
#include "quantscope/analysis/TensorAnalysis.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace quantscope;

namespace {

double seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// Best-of-R time of a streaming read over the buffer (8 independent sums so the loop is bound by
// memory, not by the add latency).
double readBandwidth(const std::vector<float>& data, int repeat) {
    double best = 1e30;
    volatile float sink = 0;
    for (int r = 0; r < repeat; ++r) {
        const auto start = std::chrono::steady_clock::now();
        float s[16] = {};
        const std::size_t n = data.size() / 16 * 16;
        for (std::size_t i = 0; i < n; i += 16)
            for (int j = 0; j < 16; ++j)
                s[j] += data[i + static_cast<std::size_t>(j)];
        float total = 0;
        for (float v : s)
            total += v;
        sink = sink + total;
        best = std::min(best, seconds(std::chrono::steady_clock::now() - start));
    }
    return static_cast<double>(data.size() * sizeof(float)) / best;
}

} // namespace

int main(int argc, char** argv) {
    int64_t elements = int64_t{64} << 20;
    int repeat = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--elements") == 0)
            elements = std::atoll(argv[i + 1]);
        else if (std::strcmp(argv[i], "--repeat") == 0)
            repeat = std::max(1, std::atoi(argv[i + 1]));
    }
    const int64_t rows = 4096;
    const int64_t columns = elements / rows;
    std::vector<float> values(static_cast<std::size_t>(rows * columns));
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (auto& v : values)
        v = normal(rng);
    const Tensor tensor("w", {rows, columns}, std::move(values));
    const double bandwidth =
        readBandwidth(std::vector<float>(tensor.values().begin(), tensor.values().end()), repeat);
    const double bytes = static_cast<double>(tensor.size()) * sizeof(float);

    std::printf("tensor: %lld x %lld float32 (%.0f MiB), single thread\n", static_cast<long long>(rows),
                static_cast<long long>(columns), bytes / (1 << 20));
    std::printf("memory read bandwidth: %.2f GB/s\n\n", bandwidth / 1e9);
    std::printf("%-34s %10s %10s %12s\n", "case", "time s", "GB/s", "of read bw");
    struct Case {
        const char* name;
        Granularity granularity;
        Scheme scheme;
    };
    for (const Case& c :
         {Case{"int8 affine per-tensor + metrics", Granularity::Tensor, Scheme::Affine},
          Case{"int8 symmetric per-channel + metrics", Granularity::Channel, Scheme::Symmetric}}) {
        QuantSpec spec;
        spec.granularity = c.granularity;
        spec.scheme = c.scheme;
        double best = 1e30;
        for (int r = 0; r < repeat; ++r) {
            const auto start = std::chrono::steady_clock::now();
            const TensorAnalysis result = analyzeTensor(tensor, spec);
            best = std::min(best, seconds(std::chrono::steady_clock::now() - start));
            if (result.metrics.count != tensor.size())
                return 1;
        }
        const double throughput = bytes / best;
        std::printf("%-34s %10.3f %10.2f %11.1f%%\n", c.name, best, throughput / 1e9,
                    100.0 * throughput / bandwidth);
    }
    return 0;
}
