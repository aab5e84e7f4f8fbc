// Activations in the app: once the demo model ran on its calibration samples, every activation is
// listed beside the weights, analysed like a weight (with the parameters static quantization
// uses, bit for bit), set one by one or all at once, and followed by the Compare view; an export
// of weights and activations reproduces the app's static accuracy in quantscope-cli.
#include "ui/ExportThroughWindow.h"
#include "ui/UiTestUtils.h"

#include "CliRunner.h"

#include "learn/LearnMappingPage.h"
#include "learn/LearnView.h"
#include "session/AnalysisController.h"
#include "session/ModelComparison.h"
#include "session/ParamsExchange.h"
#include "session/Session.h"
#include "views/CompareView.h"
#include "views/DistributionPlot.h"
#include "views/ModelView.h"
#include "widgets/SettingsPanel.h"
#include "widgets/TensorBrowser.h"
#include "widgets/TensorFilterProxy.h"
#include "widgets/TensorTableModel.h"
#include "window/MainWindow.h"

#include "quantscope/export/QParamsDocument.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QApplication>
#include <QComboBox>
#include <QDropEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <array>
#include <utility>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";

// Opens the demo and waits for the activations and the first comparison.
bool openDemoAndWait(MainWindow& window) {
    window.openDemo();
    return QTest::qWaitFor(
        [&] {
            return window.session()->hasFile() && window.session()->activationCount() > 0 &&
                   !window.comparison()->isBusy() && window.comparison()->report();
        },
        180000);
}

const ModeResult& modeOf(const ModelReport& report, QuantMode mode) {
    for (const auto& result : report.modes)
        if (result.mode == mode)
            return result;
    qFatal("mode missing from the report");
}

} // namespace

class TestActivations : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void listedBesideTheWeights() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openDemoAndWait(window));
        Session* session = window.session();
        // The MLP: 6 weights (3 Gemm weights and biases); activations: the input, 3 Gemm and 2 Relu outputs.
        QCOMPARE(session->weightCount(), 6);
        QCOMPARE(session->activationCount(), 6);
        QCOMPARE(window.comparison()->samplesCaptured(), int64_t(1258));
        const int first = session->weightCount();
        QCOMPARE(session->info(first).shape, (std::vector<int64_t>{1258, 64})); // the model input
        QCOMPARE(session->info(session->tensorCount() - 1).shape,
                 (std::vector<int64_t>{1258, 10})); // the logits
        QVERIFY(session->isActivation(first));
        QVERIFY(!session->isActivation(first - 1));
        QCOMPARE(session->source(first), session->activations());

        TensorBrowser* browser = window.tensorBrowser();
        TensorTableModel* model = browser->model();
        QCOMPARE(model->rowCount(), 12);
        QCOMPARE(model->index(first, TensorTableModel::Kind).data().toString(), QStringLiteral("activation"));
        QCOMPARE(model->index(0, TensorTableModel::Kind).data().toString(), QStringLiteral("weight"));
        // Every activation gets its SQNR and clipped share like a weight.
        QTRY_VERIFY_WITH_TIMEOUT(
            model->index(session->tensorCount() - 1, TensorTableModel::Sqnr).data().isValid(), 60000);
        browser->kindFilter()->setCurrentIndex(2);
        QCOMPARE(browser->proxy()->rowCount(), 6);
        for (int row = 0; row < browser->proxy()->rowCount(); ++row)
            QCOMPARE(browser->proxy()->index(row, TensorTableModel::Kind).data().toString(),
                     QStringLiteral("activation"));
        browser->kindFilter()->setCurrentIndex(1);
        QCOMPARE(browser->proxy()->rowCount(), 6);
        browser->kindFilter()->setCurrentIndex(0);
        QCOMPARE(browser->proxy()->rowCount(), 12);

        // The Model view names each layer's weight and input; a double-click selects them.
        auto* modelView = qobject_cast<ModelView*>(window.views()->widget(MainWindow::Model));
        QVERIFY(modelView);
        QTableWidget* layers = modelView->table();
        QCOMPARE(layers->rowCount(), 3);
        QCOMPARE(layers->item(0, ModelView::Weight)->text(), QStringLiteral("fc1.weight"));
        QCOMPARE(layers->item(0, ModelView::Input)->text(), session->tensorName(first));
        QCOMPARE(layers->item(1, ModelView::Input)->text(), QStringLiteral("fc1_relu"));
        window.showView(MainWindow::Model);
        emit layers->cellDoubleClicked(1, ModelView::Input);
        QCOMPARE(session->currentRow(), session->rowOf(QStringLiteral("fc1_relu"), TensorKind::Activation));
        QCOMPARE(window.views()->currentIndex(), int(MainWindow::Distribution));
        emit layers->cellDoubleClicked(2, ModelView::Local);
        QCOMPARE(session->tensorName(session->currentRow()), QStringLiteral("fc3.weight"));
        QVERIFY(!session->isActivation(session->currentRow()));
    }

    void aValueOfAnActivationWalksThroughQuantizationInLearn() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openDemoAndWait(window));
        Session* session = window.session();
        const int relu = session->rowOf(QStringLiteral("fc1_relu"), TensorKind::Activation);
        session->setCurrentRow(relu);
        QTRY_VERIFY_WITH_TIMEOUT(session->result(relu) != nullptr && window.controller()->preview().valid,
                                 30000);
        // The context menu's "Walk x through quantization" on the histogram.
        emit window.distributionPlot()->valueWalkRequested(1.25);
        QCOMPARE(window.views()->currentIndex(), int(MainWindow::Learn));
        QTRY_VERIFY_WITH_TIMEOUT(window.learnView()->mappingPage()->affineSteps().has_value(), 30000);
        const auto& affine = *window.learnView()->mappingPage()->affineSteps();
        QCOMPARE(affine.x, 1.25f);
        // The activation's own parameters: what the browser shows for it.
        QCOMPARE(affine.scale, session->result(relu)->analysis.params.scale.front());
        QCOMPARE(affine.zeroPoint, session->result(relu)->analysis.params.zeroPoint.front());
    }

    void activationParametersAreTheModels() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openDemoAndWait(window));
        Session* session = window.session();
        // The core, on its own: static calibration of the demo MLP, min/max per tensor.
        const Executor executor(loadOnnxGraph(kDemo + "digits_mlp.onnx"));
        QuantizedModel quantized(executor, ModelQuantConfig{});
        quantized.calibrate(SampleSet::load(kDemo + "digits_calib.npy"), 256);
        for (int row = session->weightCount(); row < session->tensorCount(); ++row) {
            session->setCurrentRow(row);
            QTRY_VERIFY_WITH_TIMEOUT(session->result(row) != nullptr, 30000);
            const QParams& shown = session->result(row)->analysis.params;
            const QParams* used = quantized.activationParams(session->info(row).name);
            QVERIFY2(used, qPrintable(session->tensorName(row)));
            QCOMPARE(shown.scale, used->scale);
            QCOMPARE(shown.zeroPoint, used->zeroPoint);
            QVERIFY(window.controller()->preview().valid); // the histogram is drawn for it
        }
    }

    void applyToAllActivationsAndCompareFollows() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openDemoAndWait(window));
        Session* session = window.session();
        ModelComparison* comparison = window.comparison();
        const ModelReport before = *comparison->report();
        QVERIFY(before.activationSettings.startsWith(QStringLiteral("int8 affine tensor")));
        const std::vector<TensorSettings> weights = [&] {
            std::vector<TensorSettings> settings;
            for (int row = 0; row < session->weightCount(); ++row)
                settings.push_back(session->settings(row));
            return settings;
        }();

        SettingsPanel* panel = window.settingsPanel();
        const int last = session->tensorCount() - 1;
        session->setCurrentRow(last);
        QVERIFY(!panel->granularityCombo()->isEnabled()); // activations are per tensor
        QVERIFY(panel->applyToActivationsButton()->isEnabled());
        panel->bitsSlider()->setValue(3); // the selected activation only
        QCOMPARE(session->settings(last).spec.format.bits, 3);
        QCOMPARE(session->settings(last - 1).spec.format.bits, 8);
        panel->applyToActivationsButton()->click();
        for (int row = session->weightCount(); row < session->tensorCount(); ++row) {
            QCOMPARE(session->settings(row).spec.format.bits, 3);
            QCOMPARE(session->settings(row).spec.granularity, Granularity::Tensor);
        }
        for (int row = 0; row < session->weightCount(); ++row)
            QVERIFY(session->settings(row) == weights[static_cast<std::size_t>(row)]);

        // Static mode gets much worse; weight-only, which keeps activations in float, does not move.
        QVERIFY(comparison->isBusy());
        QVERIFY(QTest::qWaitFor([&] { return !comparison->isBusy(); }, 120000));
        const ModelReport after = *comparison->report();
        QVERIFY(after.activationSettings.startsWith(QStringLiteral("int3")));
        const double staticBefore = modeOf(before, QuantMode::Static).outputSqnr.db;
        const double staticAfter = modeOf(after, QuantMode::Static).outputSqnr.db;
        QVERIFY2(staticAfter < staticBefore - 15.0,
                 qPrintable(QStringLiteral("%1 -> %2 dB").arg(staticBefore).arg(staticAfter)));
        QCOMPARE(modeOf(after, QuantMode::WeightOnly).outputSqnr.db,
                 modeOf(before, QuantMode::WeightOnly).outputSqnr.db);

        // One undo step takes every activation back to int8.
        session->undoStack()->undo();
        for (int row = session->weightCount(); row < last; ++row)
            QCOMPARE(session->settings(row).spec.format.bits, 8);
        QCOMPARE(session->settings(last).spec.format.bits, 3);
    }

    void exportedActivationsReproduceTheAppInTheCli() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(openDemoAndWait(window));
        Session* session = window.session();
        ModelComparison* comparison = window.comparison();
        // Clip the logits by hand and quantize the first hidden activation to 6 bits, percentile.
        const int logits = session->tensorCount() - 1;
        QuantSpec manual;
        session->changeSettings({logits}, TensorSettings{manual, Range{-12.0f, 9.0f}},
                                QStringLiteral("clip logits"));
        QuantSpec hidden;
        hidden.format = QuantFormat::integer(6, false);
        hidden.calib = CalibMethod::Percentile;
        session->changeSpec({session->weightCount() + 1}, hidden, QStringLiteral("hidden"));
        QVERIFY(QTest::qWaitFor([&] { return !comparison->isBusy(); }, 120000));
        const ModelReport report = *comparison->report();

        const QString path = m_dir.filePath(QStringLiteral("demo.qparams.json"));
        const auto exported = exportThroughWindow(window, path);
        QVERIFY(exported.has_value());
        const QParamsDocument& document = *exported;
        QCOMPARE(static_cast<int>(document.tensors.size()), session->tensorCount());
        QVERIFY(document.calibration.has_value());
        QCOMPARE(document.calibration->samples.value_or(0), int64_t(1258));
        const QParamsEntry& logitsEntry = document.tensors.back();
        QCOMPARE(logitsEntry.kind, TensorKind::Activation);
        const std::array<Range, 1> range{Range{-12.0f, 9.0f}};
        QCOMPARE(logitsEntry.params->scale, computeQParams(range, manual).scale);

        // The CLI, given the export, evaluates the static, dynamic and weight-only modes exactly as
        // the app did.
        const CliRun run = runCli({QStringLiteral("eval"),
                                   QString::fromStdString(kDemo + "digits_mlp.onnx"),
                                   QStringLiteral("--samples"),
                                   QString::fromStdString(kDemo + "digits_test.npy"),
                                   QStringLiteral("--labels"),
                                   QString::fromStdString(kDemo + "digits_test_labels.npy"),
                                   QStringLiteral("--calib-samples"),
                                   QString::fromStdString(kDemo + "digits_calib.npy"),
                                   QStringLiteral("--params"),
                                   path,
                                   QStringLiteral("--mode"),
                                   QStringLiteral("static"),
                                   QStringLiteral("--mode"),
                                   QStringLiteral("dynamic"),
                                   QStringLiteral("--mode"),
                                   QStringLiteral("weight-only"),
                                   QStringLiteral("--min-time"),
                                   QStringLiteral("0"),
                                   QStringLiteral("--json"),
                                   QStringLiteral("-")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
        const QJsonArray results = json.value(QStringLiteral("results")).toArray();
        const auto cliResult = [&](const QString& mode) {
            for (const auto& result : results)
                if (result.toObject().value(QStringLiteral("mode")).toString() == mode)
                    return result.toObject();
            return QJsonObject();
        };
        const std::array<std::pair<QString, QuantMode>, 3> modes{
            std::pair{QStringLiteral("static"), QuantMode::Static},
            std::pair{QStringLiteral("dynamic"), QuantMode::Dynamic},
            std::pair{QStringLiteral("weight-only"), QuantMode::WeightOnly}};
        for (const auto& [name, mode] : modes) {
            const QJsonObject cli = cliResult(name);
            QVERIFY2(!cli.isEmpty(), qPrintable(name));
            const ModeResult& app = modeOf(report, mode);
            QCOMPARE(cli.value(QStringLiteral("accuracy")).toDouble(), *app.accuracy);
            QVERIFY2(qAbs(cli.value(QStringLiteral("agreement")).toDouble() - app.agreement) < 1e-12,
                     qPrintable(name));
            QVERIFY2(qAbs(cli.value(QStringLiteral("output_sqnr_db")).toDouble() - app.outputSqnr.db) < 1e-6,
                     qPrintable(name));
        }
        const ModeResult& appStatic = modeOf(report, QuantMode::Static);
        QVERIFY(appStatic.outputSqnr.db < modeOf(report, QuantMode::WeightOnly).outputSqnr.db);

        // Import restores the activations' settings: the hand-set clip and the 6-bit percentile.
        std::vector<TensorSettings> chosen;
        for (int row = 0; row < session->tensorCount(); ++row)
            chosen.push_back(session->settings(row));
        session->changeSpec(session->rowsOf(TensorKind::Activation), QuantSpec(), QStringLiteral("reset"));
        QVERIFY(!session->settings(logits).manualRange.has_value());
        QSignalSpy imported(window.params(), &ParamsExchange::imported);
        window.params()->importFrom(path);
        QVERIFY(imported.wait(30000));
        QCOMPARE(imported[0][1].toInt(), session->tensorCount());
        for (int row = 0; row < session->tensorCount(); ++row)
            QVERIFY2(session->settings(row) == chosen[static_cast<std::size_t>(row)],
                     qPrintable(session->tensorName(row)));
    }

    void budgetKeepsTheFirstSamplesAndStaticCalibratesOnAll() {
        MainWindow full(nullptr, false);
        QVERIFY(openDemoAndWait(full));
        const double fullStatic = modeOf(*full.comparison()->report(), QuantMode::Static).outputSqnr.db;

        MainWindow window(nullptr, false);
        window.comparison()->setCaptureBudget(1); // one batch of 256 samples
        QVERIFY(openDemoAndWait(window));
        QCOMPARE(window.comparison()->samplesCaptured(), int64_t(256));
        QCOMPARE(window.comparison()->samplesTotal(), int64_t(1258));
        Session* session = window.session();
        QCOMPARE(session->info(session->weightCount()).shape, (std::vector<int64_t>{256, 64}));
        auto* compare = qobject_cast<CompareView*>(window.views()->widget(MainWindow::Compare));
        QVERIFY(compare);
        QVERIFY2(compare->statusText().contains(QStringLiteral("first 256 of 1258")),
                 qPrintable(compare->statusText()));
        // Static mode calibrated on all 1258 samples, as with the whole capture (min/max: the same ranges).
        QCOMPARE(modeOf(*window.comparison()->report(), QuantMode::Static).outputSqnr.db, fullStatic);
    }

    void droppedModelThenSamplesRun() {
        MainWindow window(nullptr, false);
        window.show();
        const QString onnx = QString::fromStdString(kDemo + "digits_cnn.onnx");
        const QString samples = QString::fromStdString(kDemo + "digits_test.npy");
        // A dropped model opens its weights and waits for samples.
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(onnx)});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QTRY_VERIFY_WITH_TIMEOUT(window.session()->hasFile(), 20000);
        QCOMPARE(window.session()->filePath(), onnx);
        QCOMPARE(window.session()->tensorName(0), QStringLiteral("conv1.weight"));
        QVERIFY(!window.comparison()->setup().has_value());
        // Samples dropped next run it: the CNN's 8 activations join its 6 weights.
        QMimeData samplesMime;
        samplesMime.setUrls({QUrl::fromLocalFile(samples)});
        QDragEnterEvent samplesEnter(QPoint(10, 10), Qt::CopyAction, &samplesMime, Qt::LeftButton,
                                     Qt::NoModifier);
        QApplication::sendEvent(&window, &samplesEnter);
        QDropEvent samplesDrop(QPointF(10, 10), Qt::CopyAction, &samplesMime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &samplesDrop);
        QVERIFY(window.comparison()->setup().has_value());
        QCOMPARE(window.comparison()->setup()->samples, samples);
        QVERIFY(QTest::qWaitFor(
            [&] { return !window.comparison()->isBusy() && window.comparison()->report(); }, 120000));
        QCOMPARE(window.session()->activationCount(), 8);
        QCOMPARE(window.session()->info(window.session()->weightCount()).shape,
                 (std::vector<int64_t>{539, 1, 8, 8}));
        QCOMPARE(window.session()->filePath(), onnx); // the samples did not replace the weights
        QVERIFY(!window.comparison()->report()->modes.front().accuracy.has_value()); // no labels given
    }

    void modelAndLabelsDroppedTogetherAndBadSamples() {
        MainWindow window(nullptr, false);
        window.show();
        const QString onnx = QString::fromStdString(kDemo + "digits_mlp.onnx");
        window.openPaths({onnx, QString::fromStdString(kDemo + "digits_test.npy"),
                          QString::fromStdString(kDemo + "digits_test_labels.npy")});
        QVERIFY(window.comparison()->setup().has_value());
        QCOMPARE(window.comparison()->setup()->labels,
                 QString::fromStdString(kDemo + "digits_test_labels.npy"));
        QVERIFY(QTest::qWaitFor(
            [&] { return !window.comparison()->isBusy() && window.comparison()->report(); }, 120000));
        QVERIFY(window.comparison()->report()->modes.front().accuracy.has_value());
        QCOMPARE(window.session()->activationCount(), 6);

        // Samples that do not fit the model: an error naming the model's input, the weights stay.
        const QString wrong = m_dir.filePath(QStringLiteral("wrong.csv"));
        QFile file(wrong);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("1,2,3\n4,5,6\n");
        file.close();
        QSignalSpy errors(&window, &MainWindow::errorShown);
        window.openModel(onnx, wrong);
        QVERIFY(errors.wait(60000));
        QVERIFY2(errors[0][0].toString().contains(QStringLiteral("input")),
                 qPrintable(errors[0][0].toString()));
        QCOMPARE(window.session()->activationCount(), 0);
        QCOMPARE(window.session()->weightCount(), 6);
    }
};

QTEST_MAIN(TestActivations)
#include "tst_activations.moc"
