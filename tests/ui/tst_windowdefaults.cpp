// What the window does by itself: a welcome page until something is open, the symmetric clipping
// lines moving together (metrics the core's for that range), per-group settings along the inputs,
// exports of large models with their long arrays in a sidecar that imports back exactly, and a
// note confirming each export and import.
#include "ui/ExportThroughWindow.h"
#include "ui/UiTestUtils.h"

#include "plots/PlotTextBoxes.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ParamsExchange.h"
#include "session/Session.h"
#include "views/DistributionPlot.h"
#include "widgets/SettingsPanel.h"
#include "window/MainWindow.h"
#include "window/WelcomePage.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QComboBox>
#include <QListWidget>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <array>
#include <cstring>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

class TestWindowDefaults : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    static bool openAndWait(MainWindow& window, const QString& path) {
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(path);
        if (!opened.wait(20000))
            return false;
        return QTest::qWaitFor(
            [&] { return window.session()->result(window.session()->currentRow()) != nullptr; }, 20000);
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(QFileInfo::exists(demoWeights()));
    }

    void welcomePageUntilSomethingIsOpen() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(window.showsWelcome());
        QVERIFY(window.welcomePage()->isVisible());
        QVERIFY(!window.views()->isVisible());
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        // The welcome page's demo button is the same as File ▸ Open demo.
        emit window.welcomePage()->demoRequested();
        QVERIFY(opened.wait(20000));
        QVERIFY(!window.showsWelcome());
        QVERIFY(window.views()->isVisible());

        // A file that cannot be opened leaves the welcome page in place.
        MainWindow empty(nullptr, false);
        empty.show();
        const QString bad = m_dir.filePath(QStringLiteral("bad.safetensors"));
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a weights file");
        file.close();
        QSignalSpy failed(empty.controller(), &AnalysisController::openFailed);
        empty.openFile(bad);
        QVERIFY(failed.wait(20000));
        QVERIFY(empty.showsWelcome());
    }

    void symmetricLinesMoveTogether() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        Session* session = window.session();
        QuantSpec symmetric;
        symmetric.scheme = Scheme::Symmetric;
        session->changeSpec({0}, symmetric, QStringLiteral("symmetric"));
        QTRY_VERIFY(session->result(0) != nullptr);
        DistributionPlot* plot = window.distributionPlot();
        const auto lines = plot->clipLines();
        QVERIFY(lines.has_value());

        // Dragging the upper line in: the lower one follows, mirrored around zero.
        const float upper = lines->max * 0.4f;
        plot->dragClipTo(true, upper, false);
        plot->dragClipTo(true, upper, true);
        QVERIFY(session->settings(0).manualRange.has_value());
        QCOMPARE(session->settings(0).manualRange->max, upper);
        QCOMPARE(session->settings(0).manualRange->min, -upper);
        QTRY_VERIFY(session->result(0) != nullptr);
        // The metrics are the core's for [-upper, upper] under the symmetric scheme.
        const auto file = openWeightFile(demoWeights().toStdString());
        AnalysisOptions options;
        const std::array<Range, 1> ranges{Range{-upper, upper}};
        options.fixedParams = computeQParams(ranges, symmetric);
        const TensorAnalysis expected = analyzeTensor(file->load(session->info(0).name), symmetric, options);
        QCOMPARE(session->result(0)->analysis.params.scale.front(), expected.params.scale.front());
        QCOMPARE(session->result(0)->analysis.metrics.clippedCount, expected.metrics.clippedCount);
        QCOMPARE(session->result(0)->analysis.metrics.mse, expected.metrics.mse);
        QVERIFY(expected.metrics.clippedCount > 0);

        // The lower line dragged out moves the upper one out as well.
        const float lower = lines->min * 1.5f;
        plot->dragClipTo(false, lower, true);
        QCOMPARE(session->settings(0).manualRange->min, lower);
        QCOMPARE(session->settings(0).manualRange->max, -lower);
    }

    void groupsRunAlongTheInputs() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        Session* session = window.session();
        QCOMPARE(session->info(0).shape.size(), std::size_t{2});
        QComboBox* granularity = window.settingsPanel()->granularityCombo();
        granularity->setCurrentIndex(static_cast<int>(Granularity::Group));
        QCOMPARE(session->settings(0).spec.granularity, Granularity::Group);
        QCOMPARE(session->settings(0).spec.axis, 1); // the inputs, as GPTQ and llama.cpp group
        granularity->setCurrentIndex(static_cast<int>(Granularity::Channel));
        QCOMPARE(session->settings(0).spec.axis, 0); // output channels
        // The distribution view says why there are no clip lines in group mode.
        granularity->setCurrentIndex(static_cast<int>(Granularity::Group));
        QTRY_VERIFY(session->result(0) != nullptr);
        QVERIFY(!window.distributionPlot()->clipLines());
        QTRY_VERIFY2(window.distributionPlot()->clippedText().contains(QStringLiteral("own range")),
                     qPrintable(window.distributionPlot()->clippedText()));
        // The note is longer than the plot is wide: it wraps under the title, never over it.
        DistributionPlot* plot = window.distributionPlot();
        window.resize(1100, 700);
        QTRY_VERIFY(plot->width() < 700);
        plot->replot();
        // Both texts are drawn, the note on lines of its own under the title.
        const QVector<PlotTextBoxes::Box> boxes = PlotTextBoxes::collect(plot);
        const auto boxOf = [&](const QString& start) {
            for (const PlotTextBoxes::Box& box : boxes)
                if (box.what.startsWith(QStringLiteral("text \"") + start))
                    return box.rect;
            return QRectF();
        };
        const QRectF title = boxOf(session->tensorName(0));
        const QRectF note = boxOf(QStringLiteral("No clip lines"));
        QVERIFY(!title.isEmpty() && !note.isEmpty());
        QVERIFY(title.bottom() <= note.top() + 1.0);
        QVERIFY(note.right() <= plot->width());
        const QStringList overprints = PlotTextBoxes::problems(plot, QStringLiteral("distribution"));
        QVERIFY2(overprints.isEmpty(), qPrintable(overprints.join(QLatin1Char('\n'))));
    }

    void ggmlFormatsDrawTheHistogramAndSayWhyThereAreNoClipLines() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        Session* session = window.session();
        QuantSpec q4;
        q4.format = QuantFormat::parse("q4_0");
        q4.fillImplied({});
        session->changeSpec({0}, q4, QStringLiteral("q4_0"));
        QTRY_VERIFY(session->result(0) != nullptr && session->settings(0).spec == q4);
        DistributionPlot* plot = window.distributionPlot();
        QTRY_VERIFY2(plot->clippedText().contains(QStringLiteral("chooses each block's scale")),
                     qPrintable(plot->clippedText()));
        QVERIFY(!plot->clipLines());
        // The histogram is drawn (before, the view stayed at "Loading…" for these formats).
        QVERIFY(plot->dataAsText().count(QLatin1Char('\n')) > 100);
        const QStringList overprints = PlotTextBoxes::problems(plot, QStringLiteral("distribution"));
        QVERIFY2(overprints.isEmpty(), qPrintable(overprints.join(QLatin1Char('\n'))));
    }

    void largeExportUsesASidecarAndImportsExactly() {
        // One 64 × 8320 weight in int4 groups of 128 along the inputs: 64 × 65 = 4160 groups, past
        // the 4096 entries that stay inline.
        const QString weights = m_dir.filePath(QStringLiteral("wide.safetensors"));
        QVERIFY(
            writeSafetensors(weights, {{"wide.weight", {64, 8320}, gaussianWithOutliers(64 * 8320, 0.02f, 7)},
                                       {"small.bias", {64}, gaussianWithOutliers(64, 0.1f, 8, 0)}}));
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openAndWait(window, weights));
        Session* session = window.session();
        QuantSpec int4;
        int4.format = QuantFormat::integer(4, true);
        int4.scheme = Scheme::Symmetric;
        int4.granularity = Granularity::Group;
        int4.axis = 1;
        int4.groupSize = 128;
        session->changeSpec({0}, int4, QStringLiteral("int4"));

        const QString json = m_dir.filePath(QStringLiteral("wide.qparams.json"));
        QSignalSpy exported(window.params(), &ParamsExchange::exported);
        window.params()->exportTo(json);
        QVERIFY(exported.wait(30000));
        const QString sidecar = m_dir.filePath(QStringLiteral("wide.qparams.npz"));
        QCOMPARE(exported[0][2].toString(), sidecar);
        QVERIFY(QFileInfo::exists(sidecar));
        QVERIFY2(window.lastNotice().contains(QStringLiteral("wide.qparams.npz")),
                 qPrintable(window.lastNotice()));

        // Every scale as the core computes it, bit for bit, through the sidecar.
        const QParamsDocument document = QParamsDocument::readFile(json.toStdString());
        const auto file = openWeightFile(weights.toStdString());
        const TensorAnalysis expected = analyzeTensor(file->load("wide.weight"), int4, {});
        const QParams& params = *document.find("wide.weight")->params;
        QCOMPARE(params.scale.size(), std::size_t{64 * 65});
        QVERIFY(std::memcmp(params.scale.data(), expected.params.scale.data(),
                            params.scale.size() * sizeof(float)) == 0);
        QCOMPARE(params.zeroPoint, expected.params.zeroPoint);

        // Import restores the settings and says so.
        session->changeSpec({0, 1}, QuantSpec(), QStringLiteral("reset"));
        QSignalSpy imported(window.params(), &ParamsExchange::imported);
        window.params()->importFrom(json);
        QVERIFY(imported.wait(30000));
        QCOMPARE(session->settings(0).spec, int4);
        QVERIFY2(window.lastNotice().contains(QStringLiteral("Imported the settings of 2 tensor(s)")),
                 qPrintable(window.lastNotice()));
    }
};

QTEST_MAIN(TestWindowDefaults)
#include "tst_windowdefaults.moc"
