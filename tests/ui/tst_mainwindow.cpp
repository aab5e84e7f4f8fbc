// The window end to end: opening (menu path, drop, bad file), a settings change reaching the plot
// and the metrics (estimate at once, exact from the worker), undo, manual clipping by dragging,
// and export → import of the parameters restoring the settings exactly.
#include "ui/ExportThroughWindow.h"
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/ParamsExchange.h"
#include "session/Session.h"
#include "views/DistributionPlot.h"
#include "widgets/MetricText.h"
#include "widgets/MetricsPanel.h"
#include "widgets/SettingsPanel.h"
#include "window/MainWindow.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QApplication>
#include <QComboBox>
#include <QDropEvent>
#include <QImage>
#include <QMimeData>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <array>
#include <cmath>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

class TestMainWindow : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    // Opens `path` and waits until the selected tensor's exact result is in.
    static bool openAndWait(MainWindow& window, const QString& path) {
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(path);
        if (!opened.wait(20000))
            return false;
        return QTest::qWaitFor(
            [&] { return window.session()->result(window.session()->currentRow()) != nullptr; }, 20000);
    }

    static bool waitExact(MainWindow& window) {
        return QTest::qWaitFor(
            [&] { return window.session()->result(window.session()->currentRow()) != nullptr; }, 20000);
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(QFileInfo::exists(demoWeights()));
    }

    void settingsChangeReachesPlotAndMetrics() {
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        Session* session = window.session();
        QCOMPARE(session->tensorName(session->currentRow()), QStringLiteral("fc1.weight"));
        QVERIFY(window.metricsPanel()->showsExact());
        QCOMPARE(window.distributionPlot()->gridLevelCount(), 0); // 256 levels: too dense to draw

        // int8 → int3: the preview redraws at once from the histogram ...
        window.settingsPanel()->bitsSlider()->setValue(3);
        QCOMPARE(session->settings(0).spec.format, QuantFormat::integer(3, true));
        QVERIFY(window.distributionPlot()->gridLevelCount() > 0);
        QVERIFY(window.distributionPlot()->gridLevelCount() <= 8);
        QVERIFY(!window.metricsPanel()->showsExact());
        QVERIFY(window.metricsPanel()->valueText(QStringLiteral("sqnr")).startsWith(QStringLiteral("≈")));
        const double estimate = window.controller()->preview().estimate.metrics.sqnrDb;
        // ... and the exact numbers follow from the worker, equal to the core's.
        QVERIFY(waitExact(window));
        QTRY_VERIFY(window.metricsPanel()->showsExact());
        const auto file = openWeightFile(demoWeights().toStdString());
        const Tensor tensor = file->load("fc1.weight");
        const ErrorMetrics expected = analyzeTensor(tensor, session->settings(0).spec).metrics;
        QCOMPARE(window.metricsPanel()->valueText(QStringLiteral("sqnr")), MetricText::sqnr(expected));
        QCOMPARE(window.metricsPanel()->valueText(QStringLiteral("levels")),
                 QStringLiteral("%1 of 8").arg(expected.levelsUsed));
        // The histogram estimate was close to the exact value.
        QVERIFY2(std::abs(estimate - expected.sqnrDb) < 0.5,
                 qPrintable(QStringLiteral("estimate %1 exact %2").arg(estimate).arg(expected.sqnrDb)));
        const ErrorMetrics int8 = analyzeTensor(tensor, QuantSpec()).metrics;
        QVERIFY(expected.sqnrDb < int8.sqnrDb - 20.0);

        // Undo returns to int8 everywhere: settings, slider, grid.
        session->undoStack()->undo();
        QCOMPARE(session->settings(0).spec.format, QuantFormat::integer(8, true));
        QCOMPARE(window.settingsPanel()->bitsSlider()->value(), 8);
        QCOMPARE(window.distributionPlot()->gridLevelCount(), 0);
        QVERIFY(waitExact(window));
        QTRY_COMPARE(window.metricsPanel()->valueText(QStringLiteral("sqnr")), MetricText::sqnr(int8));
        session->undoStack()->redo();
        QCOMPARE(session->settings(0).spec.format, QuantFormat::integer(3, true));
    }

    void draggingAClippingLineIsManualCalibration() {
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        Session* session = window.session();
        DistributionPlot* plot = window.distributionPlot();
        const auto lines = plot->clipLines();
        QVERIFY(lines.has_value());
        QVERIFY(plot->clippedText().contains(QStringLiteral("clipped 0 of")));

        // Drag the upper line to half the maximum: live preview, then one undoable change.
        const float upper = lines->max * 0.5f;
        plot->dragClipTo(true, upper, false);
        QVERIFY(!session->settings(0).manualRange.has_value()); // not committed while dragging
        QVERIFY(window.controller()->preview().estimate.metrics.clippedCount > 0);
        QVERIFY(window.metricsPanel()->valueText(QStringLiteral("clipped")).startsWith(QStringLiteral("≈")));
        plot->dragClipTo(true, upper, true);
        QVERIFY(session->settings(0).manualRange.has_value());
        QCOMPARE(session->settings(0).manualRange->max, upper);
        QCOMPARE(session->settings(0).manualRange->min, lines->min);
        QVERIFY(waitExact(window));

        // The exact result is the core's with these fixed parameters.
        const auto file = openWeightFile(demoWeights().toStdString());
        AnalysisOptions options;
        const std::array<Range, 1> ranges{*session->settings(0).manualRange};
        options.fixedParams = computeQParams(ranges, session->settings(0).spec);
        const ErrorMetrics expected =
            analyzeTensor(file->load("fc1.weight"), session->settings(0).spec, options).metrics;
        QVERIFY(expected.clippedCount > 0);
        QCOMPARE(session->result(0)->analysis.metrics.clippedCount, expected.clippedCount);
        QTRY_VERIFY(plot->clippedText().startsWith(
            QStringLiteral("clipped %1 of")
                .arg(QLocale().toString(static_cast<qlonglong>(expected.clippedCount)))));

        session->undoStack()->undo();
        QVERIFY(!session->settings(0).manualRange.has_value());
    }

    void plotsSaveAsImagesAndCopyAsText() {
        MainWindow window(nullptr, false);
        window.resize(1200, 800);
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        DistributionPlot* plot = window.distributionPlot();
        const QString png = m_dir.filePath(QStringLiteral("plot.png"));
        const QString svg = m_dir.filePath(QStringLiteral("plot.svg"));
        const QString pdf = m_dir.filePath(QStringLiteral("plot.pdf"));
        QCOMPARE(plot->saveTo(png, 800, 500), QString());
        QCOMPARE(plot->saveTo(svg, 800, 500), QString());
        QCOMPARE(plot->saveTo(pdf, 800, 500), QString());
        QVERIFY(plot->saveTo(m_dir.filePath(QStringLiteral("plot.bmp")))
                    .contains(QStringLiteral("unknown image type")));
        const QImage image(png);
        QCOMPARE(image.size(), QSize(1600, 1000)); // written at twice the size for high-DPI screens
        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        QVERIFY(svgFile.readAll().contains("<svg"));
        QFile pdfFile(pdf);
        QVERIFY(pdfFile.open(QIODevice::ReadOnly));
        QVERIFY(pdfFile.read(5) == "%PDF-");
        // The copied text has the histogram: a header, one line per display bin, the clip range.
        const QStringList lines = plot->dataAsText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.front(), QStringLiteral("bin_center\tcount"));
        double total = 0;
        for (int i = 1; i <= DistributionPlot::kDisplayBins; ++i)
            total += lines[i].section(QLatin1Char('\t'), 1, 1).toDouble();
        QCOMPARE(total, 256.0 * 64.0); // every value of fc1.weight is in some bin
        QVERIFY(plot->dataAsText().contains(QStringLiteral("# clip_max")));
    }

    void badFileShowsErrorAndKeepsSession() {
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        const int tensors = window.session()->tensorCount();
        const auto before = window.session()->file();

        const QString bad = m_dir.filePath(QStringLiteral("truncated.safetensors"));
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("\x40\x00\x00\x00\x00\x00\x00\x00{\"w\":", 13); // header length 64, 5 bytes of header
        file.close();
        QSignalSpy errors(&window, &MainWindow::errorShown);
        window.openFile(bad);
        QVERIFY(errors.wait(20000));
        QVERIFY2(errors[0][0].toString().contains(QStringLiteral("truncated.safetensors")),
                 qPrintable(errors[0][0].toString()));
        QCOMPARE(window.session()->file(), before);
        QCOMPARE(window.session()->tensorCount(), tensors);
        QVERIFY(window.session()->result(window.session()->currentRow()) != nullptr);
        QCOMPARE(window.session()->filePath(), demoWeights());
    }

    void droppedFileOpens() {
        MainWindow window;
        window.show();
        const QString path = m_dir.filePath(QStringLiteral("dropped.safetensors"));
        QVERIFY(writeSafetensors(path, {{"layer.weight", {8, 4}, gaussianWithOutliers(32, 0.1f, 7, 0)}}));
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QVERIFY(opened.wait(20000));
        QCOMPARE(window.session()->tensorCount(), 1);
        QCOMPARE(window.session()->tensorName(0), QStringLiteral("layer.weight"));
    }

    void exportThenImportRestoresSettings() {
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, demoWeights()));
        Session* session = window.session();
        QCOMPARE(session->tensorName(2), QStringLiteral("fc2.weight"));

        // Three kinds of settings: per-channel int4 symmetric, a manual range, per-group uint8.
        QuantSpec channel;
        channel.format = QuantFormat::integer(4, true);
        channel.scheme = Scheme::Symmetric;
        channel.granularity = Granularity::Channel;
        session->changeSpec({0}, channel, QStringLiteral("channel"));
        QuantSpec manual;
        session->changeSettings({2}, TensorSettings{manual, Range{-0.2f, 0.25f}}, QStringLiteral("manual"));
        QuantSpec group;
        group.format = QuantFormat::integer(8, false);
        group.granularity = Granularity::Group;
        group.axis = 1;
        group.groupSize = 32;
        session->changeSpec({4}, group, QStringLiteral("group"));
        std::vector<TensorSettings> chosen;
        for (int row = 0; row < session->tensorCount(); ++row)
            chosen.push_back(session->settings(row));

        const QString path = m_dir.filePath(QStringLiteral("params.json"));
        const auto exported = exportThroughWindow(window, path);
        QVERIFY(exported.has_value());
        const QParamsDocument& document = *exported;
        QCOMPARE(static_cast<int>(document.tensors.size()), session->tensorCount());
        QCOMPARE(document.find("fc1.weight")->params->blockCount(), std::size_t{256});
        QCOMPARE(document.find("fc2.weight")->params->max.front(), 0.25f);

        // Wipe the settings, then import: every tensor gets its settings back, one undo step.
        QList<int> all;
        for (int row = 0; row < session->tensorCount(); ++row)
            all.append(row);
        session->changeSpec(all, QuantSpec(), QStringLiteral("reset"));
        QVERIFY(!(session->settings(0) == chosen[0]));
        QSignalSpy imported(window.params(), &ParamsExchange::imported);
        window.params()->importFrom(path);
        QVERIFY(imported.wait(20000));
        QCOMPARE(imported[0][1].toInt(), session->tensorCount());
        for (int row = 0; row < session->tensorCount(); ++row)
            QVERIFY2(session->settings(row) == chosen[static_cast<std::size_t>(row)],
                     qPrintable(session->tensorName(row)));
        QVERIFY(!session->settings(1).manualRange.has_value()); // a calibrated range stays calibrated
        session->undoStack()->undo();
        QCOMPARE(session->settings(0).spec, QuantSpec());
    }

    void demoComparesModesAndFollowsSettings() {
        MainWindow window(nullptr, false);
        window.openDemo();
        ModelComparison* comparison = window.comparison();
        QVERIFY(comparison->setup().has_value());
        QVERIFY(QTest::qWaitFor(
            [&] { return window.session()->hasFile() && !comparison->isBusy() && comparison->report(); },
            120000));
        QVERIFY2(comparison->lastError().isEmpty(), qPrintable(comparison->lastError()));
        const ModelReport first = *comparison->report();
        QCOMPARE(first.modes.size(), std::size_t{4});
        QCOMPARE(first.modes[0].mode, QuantMode::Fp32);
        QCOMPARE(first.modes[0].outputSqnr.note, std::string("exact"));
        QVERIFY(first.modes[0].accuracy.has_value());
        QVERIFY(*first.modes[0].accuracy > 0.9); // the demo MLP is a real classifier
        QCOMPARE(first.layers.size(), std::size_t{3});
        QVERIFY(!first.isaPath.isEmpty());

        // int2 weights everywhere: the model must get visibly worse, and the view re-runs by itself.
        QuantSpec spec;
        spec.format = QuantFormat::integer(2, true);
        QList<int> all;
        for (int row = 0; row < window.session()->tensorCount(); ++row)
            all.append(row);
        window.session()->changeSpec(all, spec, QStringLiteral("int2"));
        QVERIFY(comparison->isBusy());
        QVERIFY(QTest::qWaitFor([&] { return !comparison->isBusy(); }, 120000));
        const ModelReport second = *comparison->report();
        QVERIFY(second.weightSettings.startsWith(QStringLiteral("int2")));
        const double before = first.modes[3].outputSqnr.db; // weight-only
        const double after = second.modes[3].outputSqnr.db;
        QVERIFY2(after < before - 10.0, qPrintable(QStringLiteral("%1 -> %2 dB").arg(before).arg(after)));
    }

    void importOfBadDocumentIsAnError() {
        MainWindow window;
        QVERIFY(openAndWait(window, demoWeights()));
        const QString path = m_dir.filePath(QStringLiteral("broken.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"format\": \"quantscope-qparams\", \"version\": 7, \"tensors\": []}");
        file.close();
        QSignalSpy errors(&window, &MainWindow::errorShown);
        window.params()->importFrom(path);
        QVERIFY(errors.wait(20000));
        QVERIFY2(errors[0][0].toString().contains(QStringLiteral("broken.json")),
                 qPrintable(errors[0][0].toString()));
        QCOMPARE(window.session()->settings(0).spec, QuantSpec());
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
