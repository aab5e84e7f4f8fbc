// The Learn view in the window: every lesson loads the demo (or its ReLU outputs), sets the
// settings in one undoable step, shows its page with the core's numbers, and renders a picture
// with real content. Set QUANTSCOPE_LEARN_SHOTS to a folder to keep the pictures.
#include "ui/UiTestUtils.h"

#include "learn/LearnBitWidthPage.h"
#include "learn/LearnCalibrationPage.h"
#include "learn/LearnDatapathPage.h"
#include "learn/LearnMappingPage.h"
#include "learn/LearnModesPage.h"
#include "learn/LearnPlot.h"
#include "learn/LearnTensorStudy.h"
#include "learn/LearnView.h"
#include "learn/LessonPreset.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "window/MainWindow.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QDir>
#include <QHash>
#include <QImage>
#include <QStandardPaths>
#include <QTest>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

bool settle(MainWindow& window) {
    // A hang guard, not a performance limit: the demo's lessons take a few seconds.
    return QTest::qWaitFor(
        [&] {
            return window.learnView()->isSettled() && window.jobs()->runningCount() == 0 &&
                   !window.comparison()->isBusy();
        },
        300000);
}

} // namespace

class TestLearnView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(QFileInfo::exists(test::demoWeights()));
        qputenv("QUANTSCOPE_DEMO_DIR", QFileInfo(test::demoWeights()).path().toLocal8Bit());
    }

    void everyLessonLoadsAndRenders() {
        MainWindow window;
        window.resize(1600, 1000);
        window.show();
        window.showView(MainWindow::Learn);
        LearnView* learn = window.learnView();
        Session* session = window.session();
        const QString shots = qEnvironmentVariable("QUANTSCOPE_LEARN_SHOTS");
        QVERIFY(LessonPreset::all().size() >= 6);
        for (const LessonPreset& lesson : LessonPreset::all()) {
            learn->applyLesson(lesson.id);
            QVERIFY2(settle(window), qPrintable(lesson.id));
            QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
            QCOMPARE(learn->activeLesson(), lesson.id);
            const int row = session->currentRow();
            QCOMPARE(session->tensorName(row), lesson.tensor);
            QVERIFY(session->settings(row).spec == lesson.spec);
            QCOMPARE(learn->currentPage(), lesson.page);
            QVERIFY(learn->study());
            QCOMPARE(QString::fromStdString(learn->study()->tensorName), lesson.tensor);
            // One undo step takes the lesson's settings back.
            if (!(lesson.spec == session->defaultSettings().spec))
                QVERIFY(session->undoStack()->canUndo());

            QApplication::processEvents();
            const QImage image = window.grab().toImage();
            if (!shots.isEmpty())
                image.save(QDir(shots).filePath(QStringLiteral("learn-%1.png").arg(lesson.id)));
            const auto [colours, share] = quantscope::test::colourStats(image);
            qInfo() << lesson.id << "colours" << colours << "largest share" << share;
            QVERIFY2(colours >= 64, qPrintable(QString::number(colours)));
            QVERIFY(share < 0.85);
        }
    }

    void pagesShowTheCoreNumbers() {
        MainWindow window;
        window.resize(1600, 1000);
        window.show();
        window.showView(MainWindow::Learn);
        LearnView* learn = window.learnView();
        learn->applyLesson(QStringLiteral("relu-symmetric"));
        QVERIFY(settle(window));
        Session* session = window.session();
        const int row = session->currentRow();
        const Tensor tensor = session->file()->load(session->info(row).name);
        // ReLU outputs: nothing negative.
        for (float v : tensor.values())
            QVERIFY(v >= 0.0f);

        // Mapping: the symmetric and affine steps for a picked value are the core's.
        learn->setValue(0.75);
        const auto& symmetric = learn->mappingPage()->symmetricSteps();
        const auto& affine = learn->mappingPage()->affineSteps();
        QVERIFY(symmetric && affine);
        const TensorAnalysis sym = analyzeTensor(tensor, session->settings(row).spec);
        QCOMPARE(symmetric->scale, sym.params.scale.front());
        QCOMPARE(symmetric->quantized,
                 IntegerQuantizer(sym.params.scale.front(), 0, -128, 127).quantize(0.75f));
        QuantSpec affineSpec = session->settings(row).spec;
        affineSpec.scheme = Scheme::Affine;
        const TensorAnalysis aff = analyzeTensor(tensor, affineSpec);
        QCOMPARE(affine->scale, aff.params.scale.front());
        QCOMPARE(affine->zeroPoint, aff.params.zeroPoint.front());
        QCOMPARE(symmetric->wastedLevels, int64_t{128});
        QCOMPARE(affine->wastedLevels, int64_t{0});
        // The levels used tell the same story: symmetric uses at most half of them.
        QVERIFY(sym.metrics.levelsUsed <= 128);
        QVERIFY(aff.metrics.levelsUsed > 128);

        // Bit width: the plotted SQNR at 8 bits is analyzeTensor's.
        const auto study = learn->study();
        QVERIFY(study);
        const auto& eight = study->bitSweep[static_cast<std::size_t>(LearnTensorStudy::kHighestBits - 8)];
        QCOMPARE(eight.bits, 8);
        QCOMPARE(eight.metrics.sqnrDb, sym.metrics.sqnrDb);
        QVERIFY(learn->bitWidthPage()->sqnrPlot()->dataAsText().contains(
            QString::number(sym.metrics.sqnrDb, 'g', 8)));

        // Static vs dynamic: the measured accuracies of the core's evaluator are on the page.
        const auto& report = window.comparison()->report();
        QVERIFY(report);
        for (const ModeResult& r : report->modes)
            if (r.accuracy)
                QVERIFY2(learn->modesPage()->text().contains(QString::number(100.0 * *r.accuracy, 'f', 2)),
                         qPrintable(learn->modesPage()->text()));

        // The datapath page agrees with the kernel.
        const auto datapath = learn->datapathPage()->result();
        QVERIFY(datapath);
        QVERIFY(datapath->matchesKernel());
        QVERIFY(learn->datapathPage()->text().contains(QStringLiteral("Bit for bit equal")));

        // Undo takes the lesson's settings away again.
        const QuantSpec before = session->settings(row).spec;
        session->undoStack()->undo();
        QVERIFY(!(session->settings(row).spec == before));
    }
};

QTEST_MAIN(TestLearnView)
#include "tst_learnview.moc"
