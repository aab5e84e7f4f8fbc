// quantscope-cli bench: throughput of the SIMD kernels next to the fp32 OpenBLAS / Eigen
// baselines, on the default transformer-like shapes or the ones given with --shape.
#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "ProgressBar.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/BlasCore.h"
#include "quantscope/kernels/CpuFeatures.h"
#include "quantscope/kernels/KernelBenchmark.h"
#include "quantscope/kernels/KernelRegistry.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>

namespace quantscope::cli {

namespace {

kernels::BenchShape parseShape(const std::string& text) {
    int values[3] = {0, 0, 0};
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int i = 0; i < 3; ++i) {
        const auto [next, ec] = std::from_chars(p, end, values[i]);
        const bool separatorOk = i < 2 ? (next < end && *next == 'x') : next == end;
        if (ec != std::errc() || next == p || !separatorOk)
            throw Error("--shape",
                        "expected MxNxK with positive integers (e.g. 1x4096x4096), got '" + text + "'");
        p = next + 1;
    }
    if (values[0] < 1 || values[1] < 1 || values[2] < 1)
        throw Error("--shape", "M, N and K must be at least 1, got '" + text + "'");
    return {values[0], values[1], values[2]};
}

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

} // namespace

int runBench(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--shape", true, true,
         "MxNxK to measure (repeatable); default 1x4096x4096 16x4096x4096 128x4096x4096 1024x1024x1024 "
         "256x1024x1024"},
        {"--threads", true, false, "threads for our kernels and OpenBLAS (default 1)"},
        {"--min-time", true, false, "seconds spent timing each kernel (default 0.5)"},
        {"--json", true, false, "write the results as JSON to FILE ('-' for stdout)"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s", helpText("quantscope-cli bench [--shape MxNxK]... [--threads N] [--json OUT]\n"
                                   "The SIMD path is the best one this processor supports; "
                                   "QUANTSCOPE_ISA=scalar|avx2|avx512 forces one.",
                                   options)
                              .c_str());
        return 0;
    }
    if (!commandLine.positionals().empty())
        throw UsageError("bench takes no positional arguments");
    const int threads = static_cast<int>(commandLine.integer("--threads", 1, 1, 256));
    const double minTime = commandLine.number("--min-time", 0.5);
    if (!(minTime > 0.0 && minTime <= 60.0))
        throw Error("--min-time", "must be in (0, 60] seconds");
    std::vector<kernels::BenchShape> shapes;
    for (const std::string& text : commandLine.values("--shape"))
        shapes.push_back(parseShape(text));
    if (shapes.empty())
        shapes = {
            {1, 4096, 4096}, {16, 4096, 4096}, {128, 4096, 4096}, {1024, 1024, 1024}, {256, 1024, 1024}};

    const kernels::KernelTable& path = kernels::KernelRegistry::active(); // throws on a bad QUANTSCOPE_ISA
    kernels::KernelBenchmark bench(path, threads, minTime);

    ProgressBar progress("bench");
    auto report = progress.callback();
    const double steps = static_cast<double>(shapes.size()) * 8.0 + 1.0;
    double step = 0.0;
    bench.onKernel = [&](const std::string& kernel) {
        progress.setLabel(kernel);
        if (!report(Stage::Results, ++step / steps))
            throw Cancelled();
    };
    progress.setLabel("memory bandwidth");
    if (!report(Stage::Statistics, 0.0))
        throw Cancelled();
    const double bandwidth = bench.readBandwidthGBs();

    std::vector<kernels::BenchResult> results;
    for (const auto& shape : shapes) {
        auto shapeResults = bench.run(shape);
        results.insert(results.end(), shapeResults.begin(), shapeResults.end());
    }

    const std::string isa = kernels::isaName(path.path);
    if (const auto jsonPath = commandLine.value("--json")) {
        nlohmann::ordered_json document;
        document["isa"] = isa;
        document["threads"] = threads;
        document["cpu_features"] = kernels::CpuFeatures::host().description();
        document["openblas_kernels"] = kernels::BlasCore::name();
        document["read_bandwidth_gbs"] = bandwidth;
        document["read_bandwidth_gbs_per_cpu_second"] = bench.cpuReadBandwidthGBs();
        document["results"] = nlohmann::ordered_json::array();
        for (const auto& r : results)
            document["results"].push_back({{"m", r.m},
                                           {"n", r.n},
                                           {"k", r.k},
                                           {"kernel", r.kernel},
                                           {"gops", r.gops},
                                           {"baseline", r.baseline},
                                           {"ratio_to_baseline", r.ratioToBaseline},
                                           {"path", r.path},
                                           {"seconds_per_call", r.secondsPerCall},
                                           {"gops_per_cpu_second", r.cpuGops},
                                           {"weight_gbs", r.weightGBs},
                                           {"fraction_of_read_bandwidth", r.weightGBs / bandwidth}});
        writeOutput(*jsonPath, document.dump(2) + "\n");
        if (*jsonPath == "-")
            return 0;
    }

    std::printf(
        "isa %s, %d thread%s, OpenBLAS kernels %s, memory read bandwidth %.1f GB/s (one thread; %.1f GB "
        "per CPU-second)\n",
        isa.c_str(), threads, threads == 1 ? "" : "s", kernels::BlasCore::name().c_str(), bandwidth,
        bench.cpuReadBandwidthGBs());
    TextTable table({"M", "N", "K", "kernel", "GOP/s", "x baseline", "baseline", "weights GB/s", "% read bw",
                     "path", "GOP/cpu-s"});
    for (const auto& r : results)
        table.addRow({std::to_string(r.m), std::to_string(r.n), std::to_string(r.k), r.kernel,
                      fixed(r.gops, 1), fixed(r.ratioToBaseline, 2), r.baseline, fixed(r.weightGBs, 1),
                      fixed(100.0 * r.weightGBs / bandwidth, 0), r.path, fixed(r.cpuGops, 1)});
    std::printf("%s",
                table.render({true, true, true, false, true, true, false, true, true, false, true}).c_str());
    std::printf(
        "GOP/s and ratios use wall time; GOP/cpu-s divides by the process's CPU time (all threads).\n");
    return 0;
}

} // namespace quantscope::cli
