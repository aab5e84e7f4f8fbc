// The live Compare view on a small ResNet (tests/data/real_models): the model, samples and
// calibration are kept across refreshes, so a weight's new bits re-quantize that weight only; the
// results arrive in stages (the first 8 samples, all 10, the timing, the per-layer SQNR); a newer
// change cancels the running refresh; dynamic mode follows a convolution's weight bits; and the
// view says per mode what runs quantized and what stays fp32.
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "views/CompareView.h"

#include "quantscope/io/WeightFile.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>

#include <algorithm>
#include <map>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

const QString kModel = QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/resnet_op13_dyn.onnx");
const QString kImages = QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/images.npy");

// A session with the model's weights, a comparison set up on its 10 images.
struct Live {
    Session session;
    JobRunner jobs;
    ModelComparison comparison{&session, &jobs};

    Live() {
        // The weights as the CLI's eval quantizes them by default: int8 symmetric per channel.
        session.setDefaultSettings({ModelQuantConfig::defaultWeightSpec(), std::nullopt});
        session.setFile(openWeightFile(kModel.toStdString()));
    }
    ~Live() { jobs.waitForDone(); }

    bool complete() const {
        return !comparison.isBusy() && comparison.report() &&
               comparison.report()->stage == CompareStage::Layers;
    }
    bool waitComplete() {
        return QTest::qWaitFor([this] { return complete(); }, 120000);
    }
    // The weight row of the first convolution.
    int firstConv() const {
        const Graph graph = loadOnnxGraph(kModel.toStdString());
        for (const auto& node : graph.nodes)
            if (node.opType == "Conv")
                return session.rowOf(QString::fromStdString(node.inputs[1]));
        return -1;
    }
    void setBits(int row, int bits, bool isSigned = true) {
        TensorSettings settings = session.settings(row);
        settings.spec.format = QuantFormat::integer(bits, isSigned);
        if (!isSigned)
            settings.spec.scheme = Scheme::Affine;
        session.changeSettings({row}, settings, QStringLiteral("bits"));
    }
    const ModeResult& mode(QuantMode m) const {
        for (const auto& result : comparison.report()->modes)
            if (result.mode == m)
                return result;
        qFatal("mode missing");
    }
};

QList<CompareStage> stagesOf(const QSignalSpy& spy) {
    QList<CompareStage> stages;
    for (const auto& arguments : spy)
        stages << arguments.at(0).value<CompareStage>();
    return stages;
}

const QList<CompareStage> kAllStages{CompareStage::FirstSamples, CompareStage::AllSamples,
                                     CompareStage::Timing, CompareStage::Layers};

} // namespace

class TestLiveCompare : public QObject {
    Q_OBJECT
private slots:
    void keptStateAndStagesInOrder() {
        Live live;
        QSignalSpy stages(&live.comparison, &ModelComparison::stageReached);
        QSignalSpy changed(&live.comparison, &ModelComparison::changed);
        live.comparison.setSetup({kModel, kImages, QString(), QString()});
        QVERIFY(live.waitComplete());
        QCOMPARE(stagesOf(stages), kAllStages);
        QCOMPARE(live.comparison.modelLoads(), 1);
        QCOMPARE(live.comparison.calibrationPasses(), 1);
        const ModelReport first = *live.comparison.report();
        QCOMPARE(first.samplesScored, int64_t(10));
        QCOMPARE(first.samplesTotal, int64_t(10));
        QVERIFY(!first.layers.empty());
        QVERIFY(live.mode(QuantMode::Static).latencyMs > 0.0);

        // A weight's new bits: the refresh re-quantizes that weight only, loads and calibrates nothing.
        stages.clear();
        const int conv = live.firstConv();
        QVERIFY(conv >= 0);
        live.setBits(conv, 2);
        QVERIFY(live.comparison.isBusy());
        // The first stage scores the first 8 samples.
        QVERIFY(QTest::qWaitFor([&] { return !stages.isEmpty(); }, 60000));
        QCOMPARE(stages.first().at(0).value<CompareStage>(), CompareStage::FirstSamples);
        QCOMPARE(live.comparison.report()->samplesScored, int64_t(8));
        QCOMPARE(live.comparison.report()->modes.front().outputShape.front(), int64_t(8));
        QVERIFY(live.waitComplete());
        QCOMPARE(stagesOf(stages), kAllStages);
        QCOMPARE(live.comparison.modelLoads(), 1);
        QCOMPARE(live.comparison.calibrationPasses(), 1);
        QCOMPARE(live.comparison.weightsRequantized(), 1);
        QCOMPARE(live.comparison.report()->samplesScored, int64_t(10));
        // 2-bit weights run on the same kernels as 8-bit ones: the first refresh's timing holds.
        QVERIFY(first.timingKept.empty());
        QCOMPARE(live.comparison.report()->timingKept,
                 (std::vector<QuantMode>{QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly}));
        QCOMPARE(live.mode(QuantMode::Static).latencyMs, first.modes[1].latencyMs);

        // Dynamic mode runs that convolution on the int8 core: its 2-bit weights cost accuracy.
        const double dynamicBefore = [&] {
            for (const auto& r : first.modes)
                if (r.mode == QuantMode::Dynamic)
                    return r.outputSqnr.db;
            return 0.0;
        }();
        const double dynamicAfter = live.mode(QuantMode::Dynamic).outputSqnr.db;
        QVERIFY2(dynamicAfter < dynamicBefore - 3.0,
                 qPrintable(QStringLiteral("%1 -> %2 dB").arg(dynamicBefore).arg(dynamicAfter)));

        // The same settings from scratch (a new load and calibration) give the same figures.
        Live fresh;
        fresh.setBits(conv, 2);
        fresh.comparison.setSetup({kModel, kImages, QString(), QString()});
        QVERIFY(fresh.waitComplete());
        for (QuantMode m : {QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly}) {
            QCOMPARE(live.mode(m).agreement, fresh.mode(m).agreement);
            QCOMPARE(live.mode(m).outputSqnr.db, fresh.mode(m).outputSqnr.db);
        }

        // Every activation to 4 bits with another method: the kept statistics serve it, no new pass.
        QuantSpec activations;
        activations.format = QuantFormat::integer(4, false);
        activations.calib = CalibMethod::Histogram;
        live.session.changeSpec(live.session.rowsOf(TensorKind::Activation), activations,
                                QStringLiteral("act"));
        QVERIFY(live.waitComplete());
        QCOMPARE(live.comparison.modelLoads(), 1);
        QCOMPARE(live.comparison.calibrationPasses(), 1);
        QCOMPARE(live.comparison.weightsRequantized(), 0);
        QVERIFY(live.mode(QuantMode::Static).outputSqnr.db < fresh.mode(QuantMode::Static).outputSqnr.db);
    }

    void aNewerChangeCancelsTheRunningRefresh() {
        Live live;
        live.comparison.setSetup({kModel, kImages, QString(), QString()});
        QVERIFY(live.waitComplete());
        const int conv = live.firstConv();
        QSignalSpy cancelled(&live.jobs, &JobRunner::cancelled);
        QSignalSpy stages(&live.comparison, &ModelComparison::stageReached);
        // As soon as the first stage of the 2-bit change arrives (the next stage has just started),
        // the user moves on to 5 bits.
        bool movedOn = false;
        connect(&live.comparison, &ModelComparison::stageReached, this, [&](CompareStage stage) {
            if (!movedOn && stage == CompareStage::FirstSamples) {
                movedOn = true;
                live.setBits(conv, 5);
            }
        });
        live.setBits(conv, 2);
        QVERIFY(QTest::qWaitFor([&] { return movedOn && live.complete(); }, 120000));
        QCOMPARE(cancelled.count(), 1); // the 2-bit refresh's second stage
        QList<CompareStage> expected{CompareStage::FirstSamples};
        expected << kAllStages;
        QCOMPARE(stagesOf(stages), expected);

        Live fresh;
        fresh.setBits(conv, 5);
        fresh.comparison.setSetup({kModel, kImages, QString(), QString()});
        QVERIFY(fresh.waitComplete());
        QCOMPARE(live.mode(QuantMode::Static).outputSqnr.db, fresh.mode(QuantMode::Static).outputSqnr.db);
        QCOMPARE(live.mode(QuantMode::Dynamic).outputSqnr.db, fresh.mode(QuantMode::Dynamic).outputSqnr.db);
        QVERIFY(live.comparison.lastError().isEmpty());
    }

    void eachModeSaysWhatRunsQuantized() {
        Live live;
        CompareView view(&live.comparison);
        live.comparison.setSetup({kModel, kImages, QString(), QString()});
        QVERIFY(live.waitComplete());
        // The op types of the graph in order of first appearance, counted independently.
        const Graph graph = loadOnnxGraph(kModel.toStdString());
        std::map<std::string, int> counts;
        QStringList layerOps, otherOps;
        for (const auto& node : graph.nodes) {
            const bool layer = node.opType == "Conv" || node.opType == "Gemm";
            if (counts[node.opType]++ == 0)
                (layer ? layerOps : otherOps) << QString::fromStdString(node.opType);
        }
        const auto listed = [&](const QStringList& ops) {
            QStringList parts;
            for (const QString& op : ops) {
                const int n = counts[op.toStdString()];
                parts << (n == 1 ? op : QStringLiteral("%1 ×%2").arg(op).arg(n));
            }
            return parts.join(QStringLiteral(", "));
        };
        QCOMPARE(listed({QStringLiteral("Conv")}), QStringLiteral("Conv ×%1").arg(counts["Conv"]));
        QVERIFY(counts["Conv"] >= 5);
        const QString text = view.modesText();
        QVERIFY2(text.contains(QStringLiteral("<b>dynamic</b>: weights int8 symmetric channel")),
                 qPrintable(text));
        QVERIFY2(
            text.contains(QStringLiteral("quantized: %1 · fp32: %2").arg(listed(layerOps), listed(otherOps))),
            qPrintable(text));
        QVERIFY2(
            text.contains(
                QStringLiteral("quantized weights: %1 · fp32: %2").arg(listed(layerOps), listed(otherOps))),
            qPrintable(text));
        QVERIFY2(
            text.contains(QStringLiteral("<b>static</b>: weights int8 symmetric channel minmax · activations "
                                         "int8 affine tensor minmax, ranges calibrated on 10 samples")),
            qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("on integer codes: Conv ×%1").arg(counts["Conv"])),
                 qPrintable(text));
        QVERIFY(!text.contains(QStringLiteral("Conv stays fp32")));
        QVERIFY2(view.statusText().contains(QStringLiteral("complete")), qPrintable(view.statusText()));
        QCOMPARE(view.table()->rowCount(), 4);

        // Unsigned weights for the first convolution: dynamic mode leaves it in fp32 and says so.
        live.setBits(live.firstConv(), 8, false);
        QVERIFY(live.waitComplete());
        const QString after = view.modesText();
        QVERIFY2(after.contains(QStringLiteral("quantized: Conv ×%1, ").arg(counts["Conv"] - 1)),
                 qPrintable(after));
        QVERIFY2(after.contains(QStringLiteral("fp32: Conv, ")), qPrintable(after));
        QVERIFY(after.contains(QStringLiteral("Conv stays fp32 in dynamic mode")));
        // Dynamic mode now runs that convolution in fp32: it is timed again, not kept.
        const auto& kept = live.comparison.report()->timingKept;
        QVERIFY(std::find(kept.begin(), kept.end(), QuantMode::Dynamic) == kept.end());
        QVERIFY2(!view.statusText().contains(QStringLiteral("dynamic timed by an earlier refresh")),
                 qPrintable(view.statusText()));
    }
};

QTEST_MAIN(TestLiveCompare)
#include "tst_livecompare.moc"
