// How long the app takes to list a large model's tensors. Writes a sparse 16 GB bf16 safetensors
// of Llama-3-8B shapes (32 layers, hidden 4096, MLP 14336, eight KV heads, vocabulary 128256:
// 291 tensors, 8.03 billion values; the data is a hole, so the file takes no disk space), then
// times, in the same run:
//   - the core's listing (openWeightFile: the header only);
//   - the app: a window opens the file as File ▸ Open does, until the tensor browser lists every
//     tensor;
//   - then, after 3 s of the background work that follows (the first tensor's load, analysis and
//     calibration markers, every tensor's metrics), how long Esc (cancel all) takes until no job
//     runs.
// Not a Google Benchmark: one open is one measurement (the core's listing: the best of --repeat).
//   bench_open_large [--dir /tmp] [--layers 32] [--repeat 3] [--keep]
#include "GeneratedSafetensors.h"

#include "session/JobRunner.h"
#include "session/Session.h"
#include "widgets/TensorBrowser.h"
#include "widgets/TensorTableModel.h"
#include "window/MainWindow.h"

#include "quantscope/io/WeightFile.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace quantscope;

namespace {

using bench::Shape;

std::vector<Shape> llamaShapes(int layers) {
    return bench::llamaShapes(layers, {.hidden = 4096, .mlp = 14336, .kvWidth = 1024, .vocab = 128256});
}

// A safetensors header for the shapes (bf16, packed in order) and the file's total size; the data
// is left as a hole by ftruncate.
bool writeSparseFile(const std::string& path, const std::vector<Shape>& shapes, uint64_t& fileBytes,
                     uint64_t& values) {
    uint64_t dataBytes = 0;
    const std::string header = bench::safetensorsHeader(shapes, "BF16", 2, dataBytes);
    values = dataBytes / 2;
    const uint64_t headerBytes = header.size();
    fileBytes = 8 + headerBytes + dataBytes;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return false;
    unsigned char length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<unsigned char>(headerBytes >> (8 * i));
    const bool ok = ::write(fd, length, 8) == 8 &&
                    ::write(fd, header.data(), header.size()) == static_cast<ssize_t>(header.size()) &&
                    ::ftruncate(fd, static_cast<off_t>(fileBytes)) == 0;
    return ::close(fd) == 0 && ok;
}

template <typename Predicate> void waitUntil(Predicate done) {
    while (!done())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
}

double coreListingSeconds(const std::string& path, std::size_t expected) {
    QElapsedTimer clock;
    clock.start();
    const auto file = openWeightFile(path);
    const double seconds = clock.nsecsElapsed() / 1e9;
    if (file->tensors().size() != expected) {
        std::fprintf(stderr, "bench_open_large: the core listed %zu tensors, expected %zu\n",
                     file->tensors().size(), expected);
        std::exit(1);
    }
    return seconds;
}

struct AppTimes {
    double listing = 0.0;
    double cancelToIdle = -1.0; // < 0: the runner was still busy after a minute
    int jobsWhenCancelled = 0;
};

AppTimes appTimes(const QString& path, int expected) {
    // Never destroyed: the process ends without tearing the window down (std::_Exit in main).
    auto& window = *new ui::MainWindow;
    window.resize(1600, 1000);
    window.show();
    QCoreApplication::processEvents();
    QElapsedTimer clock;
    clock.start();
    window.openFile(path);
    waitUntil([&] {
        return (window.session()->tensorCount() == expected &&
                window.tensorBrowser()->model()->rowCount() == expected) ||
               clock.elapsed() > 120000;
    });
    AppTimes times;
    times.listing = clock.nsecsElapsed() / 1e9;
    if (window.session()->tensorCount() != expected) {
        std::fprintf(stderr, "bench_open_large: the app listed %d tensors after %.1f s, expected %d\n",
                     window.session()->tensorCount(), times.listing, expected);
        std::exit(1);
    }
    // The background work that follows (the first tensor's load, analysis and calibration markers,
    // every tensor's metrics) runs for a while, then Esc: how long until every job has stopped.
    clock.restart();
    waitUntil([&] { return clock.elapsed() > 3000; });
    ui::JobRunner& jobs = *window.jobs();
    times.jobsWhenCancelled = jobs.runningCount();
    clock.restart();
    jobs.cancelAll();
    waitUntil([&] { return jobs.runningCount() == 0 || clock.elapsed() > 60000; });
    if (jobs.runningCount() == 0)
        times.cancelToIdle = clock.nsecsElapsed() / 1e9;
    return times;
}

} // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::string dir = "/tmp";
    int layers = 32, repeat = 3;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--dir" && i + 1 < argc)
            dir = argv[++i];
        else if (arg == "--layers" && i + 1 < argc)
            layers = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--repeat" && i + 1 < argc)
            repeat = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--keep")
            keep = true;
        else {
            std::fprintf(stderr, "usage: bench_open_large [--dir DIR] [--layers N] [--repeat N] [--keep]\n");
            return 2;
        }
    }
    QApplication app(argc, argv);
    const std::vector<Shape> shapes = llamaShapes(layers);
    const std::string path = dir + "/quantscope_bench_open_large.safetensors";
    uint64_t fileBytes = 0, values = 0;
    if (!writeSparseFile(path, shapes, fileBytes, values)) {
        std::fprintf(stderr, "bench_open_large: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
        return 1;
    }
    std::printf("file: %s, %.2f GB (sparse), %zu tensors, %.2f billion bf16 values\n", path.c_str(),
                fileBytes / 1e9, shapes.size(), values / 1e9);
    double core = 1e30;
    for (int r = 0; r < repeat; ++r)
        core = std::min(core, coreListingSeconds(path, shapes.size()));
    std::printf("core listing (openWeightFile):          %8.4f s (best of %d)\n", core, repeat);
    std::fflush(stdout);
    const AppTimes opened = appTimes(QString::fromStdString(path), static_cast<int>(shapes.size()));
    std::printf("app listing (File > Open to all rows):  %8.4f s (target <= 1 s)\n", opened.listing);
    if (opened.cancelToIdle >= 0.0)
        std::printf("app cancel to idle (%d job(s) running):  %8.4f s (target <= 1 s)\n",
                    opened.jobsWhenCancelled, opened.cancelToIdle);
    else
        std::printf("app cancel to idle (%d job(s) running):  still busy after 60 s\n",
                    opened.jobsWhenCancelled);
    std::fflush(stdout);
    if (!keep)
        std::remove(path.c_str());
    std::_Exit(0);
}
