// How long the Compare view takes to follow a settings change on a real model. Opens MODEL with
// SAMPLES as the app does (the weights in a session, the comparison set up), waits for the first
// complete refresh, then sets the first convolution's (else the first 2-D) weight to 2 bits, then
// 3, 4… (--changes N, default 3), and prints, in seconds since each change, when each stage of
// its refresh arrived. For comparison it then times, in the same run, one refresh as the view
// made it before it kept its state: load the model and samples, quantize, calibrate, evaluate the
// four modes with timing, per-layer SQNR (--no-reload skips it).
// Not a Google Benchmark: one change is one measurement. Each line also gives the CPU time the
// process used since the change (every thread): on a shared, loaded machine the wall time
// stretches, the CPU time much less, and on an otherwise idle machine the wall time lies between
// the CPU time divided by the cores and the CPU time (plus the debounce).
//   bench_live_compare MODEL.onnx SAMPLES.npy [LABELS.npy] [--changes N] [--no-reload]
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"

#include "quantscope/samples/SampleFiles.h"

#include "quantscope/io/WeightFile.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QStringList>

#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

double processCpuSeconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

template <typename Predicate> void waitUntil(Predicate done) {
    while (!done())
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
}

const char* stageName(CompareStage stage) {
    switch (stage) {
    case CompareStage::FirstSamples:
        return "first samples";
    case CompareStage::AllSamples:
        return "all samples";
    case CompareStage::Timing:
        return "timing";
    case CompareStage::Layers:
        return "per-layer SQNR";
    }
    return "?";
}

// One refresh as the Compare view ran it on every change before it kept its state.
double reloadingRefresh(const QString& modelPath, const QString& samplesPath, const QParamsDocument& params) {
    QElapsedTimer clock;
    clock.start();
    Executor::setBlasThreads(1);
    const Executor executor(loadOnnxGraph(modelPath.toStdString()));
    const SampleSet samples = loadSampleFile(samplesPath.toStdString());
    ModelQuantConfig config;
    config.params = params;
    QuantizedModel model(executor, config);
    model.calibrate(samples, 256);
    EvalOptions options;
    options.minSeconds = 0.15;
    ModelEvaluator evaluator(model, samples, std::nullopt, options);
    for (QuantMode mode : {QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly})
        evaluator.evaluate(mode);
    evaluator.layerSqnr(QuantMode::Static);
    return clock.elapsed() / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QStringList arguments;
    int changes = 3;
    bool reload = true;
    for (int i = 1; i < argc; ++i) {
        const QString argument = QString::fromLocal8Bit(argv[i]);
        if (argument == QLatin1String("--no-reload")) {
            reload = false;
        } else if (argument == QLatin1String("--changes") && i + 1 < argc) {
            changes = QString::fromLocal8Bit(argv[++i]).toInt();
        } else {
            arguments << argument;
        }
    }
    if (arguments.size() < 2 || arguments.size() > 3 || changes < 1 || changes > 7) {
        std::fprintf(stderr, "usage: bench_live_compare MODEL.onnx SAMPLES.npy [LABELS.npy] [--changes 1..7] "
                             "[--no-reload]\n");
        return 2;
    }
    const QString modelPath = arguments[0];
    const QString samplesPath = arguments[1];
    Session session;
    session.setDefaultSettings({ModelQuantConfig::defaultWeightSpec(), std::nullopt});
    JobRunner jobs;
    ModelComparison comparison(&session, &jobs);
    session.setFile(openWeightFile(modelPath.toStdString()));

    QElapsedTimer clock;
    clock.start();
    double cpuAtStart = processCpuSeconds();
    QObject::connect(&comparison, &ModelComparison::stageReached, [&](CompareStage stage) {
        std::printf("  %-15s after %6.2f s (CPU %6.2f s)\n", stageName(stage), clock.elapsed() / 1000.0,
                    processCpuSeconds() - cpuAtStart);
        std::fflush(stdout);
    });
    std::printf("open %s on %s:\n", qPrintable(modelPath), qPrintable(samplesPath));
    comparison.setSetup({modelPath, samplesPath, arguments.size() > 2 ? arguments[2] : QString(), QString()});
    const auto done = [&] {
        return !comparison.isBusy() &&
               (!comparison.lastError().isEmpty() ||
                (comparison.report() && comparison.report()->stage == CompareStage::Layers));
    };
    waitUntil(done);
    if (!comparison.lastError().isEmpty()) {
        std::fprintf(stderr, "error: %s\n", qPrintable(comparison.lastError()));
        return 1;
    }

    int row = -1;
    for (std::size_t rank : {std::size_t{4}, std::size_t{2}}) {
        for (int r = 0; r < session.weightCount() && row < 0; ++r)
            if (session.info(r).shape.size() == rank)
                row = r;
    }
    if (row < 0) {
        std::fprintf(stderr, "error: no weight with 2 or 4 dimensions\n");
        return 1;
    }
    for (int change = 0; change < changes; ++change) {
        TensorSettings settings = session.settings(row);
        settings.spec.format.bits = 2 + change;
        std::printf("set %s to %d bits (the 250 ms debounce included):\n",
                    qPrintable(session.tensorName(row)), settings.spec.format.bits);
        clock.restart();
        cpuAtStart = processCpuSeconds();
        session.changeSettings({row}, settings, QStringLiteral("bits"));
        waitUntil(done);
        std::printf("  loads %d, calibration passes %d, weights re-quantized %d\n", comparison.modelLoads(),
                    comparison.calibrationPasses(), comparison.weightsRequantized());
    }
    if (!reload)
        return 0;

    QParamsDocument params;
    for (int r = 0; r < session.weightCount(); ++r) {
        QParamsEntry entry;
        entry.name = session.info(r).name;
        entry.shape = session.info(r).shape;
        entry.spec = session.settings(r).spec;
        params.tensors.push_back(entry);
    }
    std::printf("the same refresh reloading and recalibrating (as before): %.2f s\n",
                reloadingRefresh(modelPath, samplesPath, params));
    return 0;
}
