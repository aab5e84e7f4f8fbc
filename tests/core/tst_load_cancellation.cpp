// Loading and model construction stop when their job is cancelled: every loader passes through
// throwIfCancelled() (between read slices, conversion slices, initializers, images), so a closed
// window or a superseded job does not wait for a large file. Without a scope nothing changes.
// Also: an .npz opened directly gets the regular-file check every other input gets.
#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"
#include "quantscope/analysis/FineHistogram.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/GgufReader.h"
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/NpzReader.h"
#include "quantscope/io/SafetensorsReader.h"
#include "quantscope/io/Sha256.h"
#include "quantscope/io/TorchReader.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/SampleSet.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <sys/stat.h>

using namespace quantscope;

Q_DECLARE_METATYPE(std::function<void()>)

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";
const std::string kData = QUANTSCOPE_TEST_DATA "/";
const std::string kSeeds = QUANTSCOPE_SOURCE_DIR "/fuzz/corpus/";

enum class Outcome { Loaded, Cancelled, Failed };

Outcome run(const std::function<void()>& load) {
    try {
        load();
        return Outcome::Loaded;
    } catch (const Cancelled&) {
        return Outcome::Cancelled;
    } catch (const std::exception& e) {
        qWarning("%s", e.what());
        return Outcome::Failed;
    }
}

} // namespace

class TestLoadCancellation : public QObject {
    Q_OBJECT
private slots:
    void loaders_data() {
        QTest::addColumn<std::function<void()>>("load");
        QTest::newRow("safetensors") << std::function<void()>([] {
            const SafetensorsReader reader(kDemo + "digits_mlp.safetensors");
            reader.load("fc1.weight");
        });
        QTest::newRow("npy") << std::function<void()>([] {
            const NpyReader reader(kDemo + "digits_test.npy");
            reader.load(reader.tensors().front().name);
        });
        QTest::newRow("npz") << std::function<void()>([] {
            const NpzReader reader(kData + "real_models/encoder_inputs.npz");
            for (const auto& tensor : reader.tensors())
                reader.load(tensor.name);
        });
        QTest::newRow("pytorch") << std::function<void()>([] {
            const TorchReader reader(kSeeds + "fuzz_torch/state.pt");
            reader.load("fc.weight");
        });
        QTest::newRow("gguf") << std::function<void()>([] {
            const GgufReader reader(kSeeds + "fuzz_gguf/small.gguf");
            reader.load("a.weight");
        });
        QTest::newRow("onnx model") << std::function<void()>(
            [] { loadOnnxGraph(kDemo + "digits_cnn.onnx"); });
        QTest::newRow("samples") << std::function<void()>(
            [] { SampleSet::load(kDemo + "digits_calib.npy"); });
        // An export that records its source hashes the whole file (gigabytes for an LLM).
        QTest::newRow("sha256 of the source")
            << std::function<void()>([] { sha256OfFile(kDemo + "digits_mlp.safetensors"); });
    }

    // The source's SHA-256 asks whether to stop before every 64 KiB it reads, so the app's Stop
    // ends it within one chunk, not after the whole file.
    void sha256StopsWithinAChunk() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("source.bin")).toStdString();
        constexpr uint64_t kBytes = uint64_t{4} << 20;
        {
            QFile file(QString::fromStdString(path));
            QVERIFY(file.open(QIODevice::WriteOnly));
            QVERIFY(file.write(QByteArray(static_cast<qsizetype>(kBytes), 'q')) ==
                    static_cast<qint64>(kBytes));
        }
        std::atomic<bool> cancelRequested{false};
        const CancellationScope scope(cancelRequested);
        const uint64_t before = cancellationCheckpoints();
        const std::string digest = sha256OfFile(path);
        QCOMPARE(QByteArray::fromStdString(digest),
                 QCryptographicHash::hash(QByteArray(static_cast<qsizetype>(kBytes), 'q'),
                                          QCryptographicHash::Sha256)
                     .toHex());
        QVERIFY2(cancellationCheckpoints() - before >= kBytes / (64 << 10),
                 qPrintable(QString::number(cancellationCheckpoints() - before)));
        cancelRequested = true;
        QVERIFY_THROWS_EXCEPTION(Cancelled, sha256OfFile(path));
    }

    void loaders() {
        QFETCH(std::function<void()>, load);
        // No job: loads as before, and no checkpoint is counted.
        const uint64_t before = cancellationCheckpoints();
        QCOMPARE(run(load), Outcome::Loaded);
        QCOMPARE(cancellationCheckpoints(), before);

        std::atomic<bool> cancelRequested{false};
        {
            const CancellationScope scope(cancelRequested);
            QCOMPARE(run(load), Outcome::Loaded);
        }
        QVERIFY(cancellationCheckpoints() > before); // the loader did ask
        cancelRequested = true;
        {
            const CancellationScope scope(cancelRequested);
            QCOMPARE(run(load), Outcome::Cancelled);
        }
        // The scope is gone: the flag no longer applies to this thread.
        QCOMPARE(run(load), Outcome::Loaded);
    }

    void scopesNest() {
        std::atomic<bool> outer{true};
        std::atomic<bool> inner{false};
        const CancellationScope outerScope(outer);
        {
            const CancellationScope innerScope(inner);
            throwIfCancelled(); // the innermost job decides
        }
        QVERIFY_THROWS_EXCEPTION(Cancelled, throwIfCancelled());
    }

    // Samples given as an .npz went to libzip by path: a FIFO named *.npz is refused like any
    // other input, before anything waits for a writer.
    void npzFifoIsRefused() {
        QTemporaryDir dir;
        const std::string fifo = dir.filePath(QStringLiteral("samples.npz")).toStdString();
        QVERIFY(::mkfifo(fifo.c_str(), 0600) == 0);
        try {
            NpzReader reader(fifo);
            QFAIL("a FIFO was opened as an .npz");
        } catch (const Error& e) {
            QCOMPARE(std::string(e.what()), fifo + ": is not a regular file (it is a FIFO)");
        }
    }

    void analysisChecksInsideOneLongRun() {
        // A per-tensor int8 analysis is one run over the whole tensor (an LLM embedding holds
        // hundreds of millions of values): the progress callback, which is where a job is
        // cancelled, must be asked about every million values inside that run, not once per run.
        constexpr int64_t kValues = int64_t{8} << 20;
        std::vector<float> values(static_cast<std::size_t>(kValues));
        for (int64_t i = 0; i < kValues; ++i)
            values[static_cast<std::size_t>(i)] = static_cast<float>((i * 7919) % 2001 - 1000) * 1e-3f;
        const Tensor tensor("embedding", {kValues}, std::move(values));
        QuantSpec spec; // int8 affine per tensor, min-max
        int resultsReports = 0;
        AnalysisOptions options;
        options.progress = [&](Stage stage, double) {
            resultsReports += stage == Stage::Results ? 1 : 0;
            return true;
        };
        const TensorAnalysis full = analyzeTensor(tensor, spec, options);
        // Calibration and quantization each pass 8 Mi values: at least 16 checks.
        QVERIFY2(resultsReports >= 16, qPrintable(QString::number(resultsReports)));
        // Cancelling at the third check stops the analysis in the middle of its run.
        int calls = 0;
        options.progress = [&](Stage stage, double) { return !(stage == Stage::Results && ++calls == 3); };
        QVERIFY_THROWS_EXCEPTION(Cancelled, analyzeTensor(tensor, spec, options));
        QCOMPARE(calls, 3);
        QVERIFY(full.metrics.count == kValues);
    }

    void calibrationChecksInsideOnePass() {
        // The app compares every calibration method on the selected tensor, each in one pass over
        // the whole tensor: each pass must look at the job's flag about every million values.
        constexpr int64_t kValues = int64_t{4} << 20;
        std::vector<float> values(static_cast<std::size_t>(kValues));
        for (int64_t i = 0; i < kValues; ++i)
            values[static_cast<std::size_t>(i)] = static_cast<float>((i * 7919) % 2001 - 1000) * 1e-3f;
        const Tensor tensor("embedding", {kValues}, std::move(values));
        const std::atomic<bool> keepGoing{false};
        const CancellationScope scope(keepGoing);
        for (const CalibMethod method :
             {CalibMethod::MinMax, CalibMethod::MovingAverage, CalibMethod::Percentile, CalibMethod::Mse,
              CalibMethod::Entropy, CalibMethod::Histogram}) {
            QuantSpec spec;
            spec.calib = method;
            const uint64_t before = cancellationCheckpoints();
            const std::vector<Range> ranges = calibrateBlocks(tensor, spec);
            const uint64_t checks = cancellationCheckpoints() - before;
            // Min-max is one vectorised pass (a fraction of a second for 500 M values), checked
            // before it; every other method is checked between slices. Percentile's selection checks
            // again in both of its passes, for each of the two order statistics it interpolates.
            const uint64_t expected = method == CalibMethod::MinMax       ? 1
                                      : method == CalibMethod::Percentile ? 4 + 2 * 2 * 4
                                                                          : 4;
            QVERIFY2(
                checks >= expected,
                qPrintable(QStringLiteral("method %1: %2 checks").arg(static_cast<int>(method)).arg(checks)));
            QCOMPARE(ranges.size(), std::size_t{1});
            // Values run from -1 to 1 in steps of 0.001: every method's range lies inside.
            QVERIFY(ranges.front().min >= -1.0f && ranges.front().max <= 1.0f);
            if (method == CalibMethod::MinMax) {
                QCOMPARE(ranges.front().min, -1.0f);
                QCOMPARE(ranges.front().max, 1.0f);
            }
        }
        // The app's histogram of a loaded tensor: two passes, each checked.
        const uint64_t before = cancellationCheckpoints();
        const auto histogram = ui::FineHistogram::build(tensor.values());
        QVERIFY(cancellationCheckpoints() - before >= 8);
        QCOMPARE(histogram.min(), -1.0);
        QCOMPARE(histogram.max(), 1.0);
    }

    void calibrationStopsWhenCancelled() {
        const std::vector<float> values(std::size_t{3} << 20, 0.5f);
        const Tensor tensor("embedding", {static_cast<int64_t>(values.size())}, std::vector<float>(values));
        const std::atomic<bool> stop{true};
        const CancellationScope scope(stop);
        QuantSpec spec;
        spec.calib = CalibMethod::Histogram;
        QVERIFY_THROWS_EXCEPTION(Cancelled, calibrateBlocks(tensor, spec));
        QVERIFY_THROWS_EXCEPTION(Cancelled, ui::FineHistogram::build(tensor.values()));
    }
};

QTEST_GUILESS_MAIN(TestLoadCancellation)
#include "tst_load_cancellation.moc"
