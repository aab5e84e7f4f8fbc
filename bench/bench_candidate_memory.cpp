// Memory of the Map tab's candidate analysis on a large model. Writes a ~1 GB float32 safetensors
// of Llama-like shapes (22 layers, hidden 1024, MLP 2048, four KV heads of 64, vocabulary 32000:
// 201 tensors, 262 million values; Gaussian values with outlier input channels) at run time, then
// analyses every weight of rank 2 or more in each candidate format through the app's
// CandidateAnalysis (no window) and reports:
//   - the peak resident size of the process (VmHWM) before and after the analysis;
//   - the heap in use once every result is in (glibc's mallinfo2, all arenas, mmapped chunks
//     included) against the same figure before the analysis: what the results keep; and the
//     anonymous resident size (RssAnon) after malloc_trim has returned the free pages;
//   - the time taken and the file's bytes analysed per second.
// Not a Google Benchmark: one analysis is one measurement. The file is removed unless --keep.
// Release, default candidates, 2 shared cores: when the results kept every candidate's
// parameters they held 550.0 MiB of heap and VmHWM reached 926 MiB; keeping the metrics only,
// 0.3 MiB and 427 MiB (the rest is the tensors in flight: the largest is 125 MiB).
//   bench_candidate_memory [--dir /tmp] [--layers 22] [--candidates LIST] [--keep]
#include "GeneratedSafetensors.h"

#include "session/CandidateAnalysis.h"
#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/io/WeightFile.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <malloc.h>
#include <string>
#include <vector>

using namespace quantscope;

namespace {

using bench::Shape;

std::vector<Shape> llamaShapes(int layers) {
    return bench::llamaShapes(layers, {.hidden = 1024, .mlp = 2048, .kvWidth = 256, .vocab = 32000});
}

// Roughly Gaussian values (a sum of four uniforms from a xorshift generator: fast enough for a
// gigabyte) with every 97th input channel scaled up, as real LLM weights have outliers.
void fillValues(std::vector<float>& values, int64_t rowLength, uint64_t seed) {
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    const auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return static_cast<float>(state >> 40) / 16777216.0f;
    };
    for (std::size_t i = 0; i < values.size(); ++i) {
        const float g = (next() + next() + next() + next() - 2.0f) * 1.7320508f;
        const bool outlier = (static_cast<int64_t>(i) % rowLength) % 97 == 0;
        values[i] = 0.02f * g * (outlier ? 8.0f : 1.0f);
    }
}

bool writeFile(const std::string& path, const std::vector<Shape>& shapes, uint64_t& fileBytes) {
    uint64_t dataBytes = 0;
    const std::string header = bench::safetensorsHeader(shapes, "F32", 4, dataBytes);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    unsigned char length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<unsigned char>(static_cast<uint64_t>(header.size()) >> (8 * i));
    out.write(reinterpret_cast<const char*>(length), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::vector<float> values;
    uint64_t seed = 1;
    for (const Shape& shape : shapes) {
        const uint64_t count = shape.elements();
        values.resize(count);
        fillValues(values, shape.dims.back(), ++seed);
        out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(4 * count));
    }
    out.close();
    fileBytes = 8 + header.size() + dataBytes;
    return static_cast<bool>(out);
}

// A field of /proc/self/status in MiB ("VmHWM", "VmRSS", "RssAnon").
double statusMiB(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(status, line))
        if (line.rfind(key, 0) == 0)
            return std::stod(line.substr(key.size())) / 1024.0; // kB
    return -1.0;
}

// Bytes the process has allocated and not freed, over every malloc arena.
double heapInUseMiB() {
    const struct mallinfo2 info = mallinfo2();
    return static_cast<double>(info.uordblks + info.hblkhd) / 1048576.0;
}

// Lets the peak (VmHWM) start again from the current resident size.
void resetPeak() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

} // namespace

int main(int argc, char** argv) {
    std::string dir = "/tmp";
    int layers = 22;
    QString candidates = ui::CandidateAnalysis::defaultCandidates();
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--dir" && i + 1 < argc)
            dir = argv[++i];
        else if (arg == "--layers" && i + 1 < argc)
            layers = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--candidates" && i + 1 < argc)
            candidates = QString::fromLocal8Bit(argv[++i]);
        else if (arg == "--keep")
            keep = true;
        else {
            std::fprintf(stderr, "usage: bench_candidate_memory [--dir DIR] [--layers N] [--candidates LIST] "
                                 "[--keep]\n");
            return 2;
        }
    }
    QCoreApplication app(argc, argv);
    const std::vector<Shape> shapes = llamaShapes(layers);
    const std::string path = dir + "/quantscope_bench_candidate_memory.safetensors";
    uint64_t fileBytes = 0;
    if (!writeFile(path, shapes, fileBytes)) {
        std::fprintf(stderr, "bench_candidate_memory: cannot write %s: %s\n", path.c_str(),
                     std::strerror(errno));
        return 1;
    }
    uint64_t largest = 0;
    for (const Shape& shape : shapes) {
        uint64_t count = 1;
        for (int64_t d : shape.dims)
            count *= static_cast<uint64_t>(d);
        largest = std::max(largest, 4 * count);
    }
    std::printf("file: %s, %.3f GB float32, %zu tensors (largest %.1f MiB)\n", path.c_str(), fileBytes / 1e9,
                shapes.size(), largest / 1048576.0);

    ui::Session session;
    ui::JobRunner jobs;
    ui::CandidateAnalysis analysis(&session, &jobs);
    if (const QString error = analysis.setCandidates(candidates); !error.isEmpty()) {
        std::fprintf(stderr, "bench_candidate_memory: %s\n", qPrintable(error));
        return 2;
    }
    session.setFile(openWeightFile(path));
    QCoreApplication::processEvents();
    malloc_trim(0);
    const double heapBefore = heapInUseMiB();
    const double anonBefore = statusMiB("RssAnon");
    resetPeak();
    const double peakBefore = statusMiB("VmHWM");
    std::printf("candidates: %s on %lld tensors\n", qPrintable(analysis.candidateList()),
                static_cast<long long>(analysis.plannedRows().size()));
    std::printf("before:  VmHWM %8.1f MiB, RssAnon %8.1f MiB, heap in use %8.1f MiB\n", peakBefore,
                anonBefore, heapBefore);
    std::fflush(stdout);

    QElapsedTimer clock;
    clock.start();
    analysis.start();
    while (analysis.isRunning())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    QCoreApplication::processEvents();
    const double seconds = clock.nsecsElapsed() / 1e9;
    if (!analysis.isComplete()) {
        std::fprintf(stderr, "bench_candidate_memory: %d of %lld tensors analysed: %s\n",
                     analysis.doneCount(), static_cast<long long>(analysis.plannedRows().size()),
                     qPrintable(analysis.lastError()));
        return 1;
    }
    const double peakAfter = statusMiB("VmHWM");
    const double heapAfter = heapInUseMiB();
    malloc_trim(0);
    const double anonAfter = statusMiB("RssAnon");
    std::printf("after:   VmHWM %8.1f MiB, RssAnon %8.1f MiB, heap in use %8.1f MiB\n", peakAfter, anonAfter,
                heapAfter);
    std::printf("held by the results (heap in use after - before):  %8.1f MiB\n", heapAfter - heapBefore);
    std::printf("peak during the analysis (VmHWM after - before):   %8.1f MiB\n", peakAfter - peakBefore);
    std::printf("time: %.1f s, %.1f MB/s of file bytes in %d formats\n", seconds, fileBytes / 1e6 / seconds,
                analysis.candidateCount());
    if (!keep)
        std::remove(path.c_str());
    return 0;
}
