// File ▸ Export ▸ Quantized ONNX model through the code the menu calls: the demo model with the
// app's current settings (a weight changed by hand, imported-style exact parameters) written in QDQ
// form, read back by Quantscope, runs in fp32 to the static mode's float simulation.
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/ModelComparison.h"
#include "session/ParamsExchange.h"
#include "session/Session.h"
#include "window/MainWindow.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

class TestQdqExport : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        QVERIFY(QFileInfo::exists(demoWeights()));
    }

    void exportedModelReproducesStaticMode() {
        MainWindow window(nullptr, false);
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openDemo();
        QVERIFY(opened.wait(20000));
        QVERIFY(window.comparison()->setup().has_value());
        const ModelSetup setup = *window.comparison()->setup();
        Session* session = window.session();

        // The app's settings: fc2.weight per tensor symmetric, fc3.weight with exact parameters as
        // an import leaves them (a scale chosen by hand).
        const int fc2 = session->rowOf(QStringLiteral("fc2.weight"));
        const int fc3 = session->rowOf(QStringLiteral("fc3.weight"));
        QVERIFY(fc2 >= 0 && fc3 >= 0);
        QuantSpec perTensor;
        perTensor.scheme = Scheme::Symmetric;
        session->changeSpec({fc2}, perTensor, QStringLiteral("fc2"));
        QParams exact;
        exact.scale = {0.0123f};
        exact.zeroPoint = {0};
        exact.qmin = -128;
        exact.qmax = 127;
        session->changeSettingsEach({fc3}, {TensorSettings{perTensor, std::nullopt, exact}},
                                    QStringLiteral("fc3"));

        const QString path = m_dir.filePath(QStringLiteral("digits_mlp.qdq.onnx"));
        QSignalSpy exported(window.params(), &ParamsExchange::qdqExported);
        window.params()->exportQdq(path, setup.model, setup.calibration);
        QVERIFY(exported.wait(60000));
        QVERIFY2(window.lastNotice().contains(QStringLiteral("digits_mlp.qdq.onnx")),
                 qPrintable(window.lastNotice()));

        // The weights' scales are the app's: fc2's per-tensor minmax scale, fc3's as set.
        const auto written = openWeightFile(path.toStdString());
        const auto demo = openWeightFile(demoWeights().toStdString());
        const float fc2Scale = analyzeTensor(demo->load("fc2.weight"), perTensor, {}).params.scale.front();
        QCOMPARE(written->load("fc2.weight_scale").values().front(), fc2Scale);
        QCOMPARE(written->load("fc3.weight_scale").values().front(), 0.0123f);

        // Quantscope's static simulation of the same settings, calibrated on the same samples.
        QParamsDocument settings;
        for (int row = 0; row < session->tensorCount(); ++row) {
            QParamsEntry entry;
            entry.name = session->info(row).name;
            entry.kind = session->kind(row);
            entry.shape = session->info(row).shape;
            entry.spec = session->settings(row).spec;
            entry.params = session->settings(row).fixedParams();
            settings.tensors.push_back(entry);
        }
        const Executor executor(loadOnnxGraph(setup.model.toStdString()));
        ModelQuantConfig config;
        config.params = settings;
        QuantizedModel model(executor, config);
        model.calibrate(SampleSet::load(setup.calibration.toStdString()), 256);
        const Executor qdq(loadOnnxGraph(path.toStdString()));
        const SampleSet test = SampleSet::load(setup.samples.toStdString());
        const auto& inputs = executor.graph().inputs;
        const std::string output = executor.graph().outputs.front().name;
        double largest = 0.0;
        int beyond = 0;
        for (int64_t first = 0; first < test.count(); first += 64) {
            const int64_t n = std::min<int64_t>(64, test.count() - first);
            const auto feed = test.feed(inputs, first, n, n);
            const Value expected = model.runStaticSimulation(feed).at(output);
            const Value actual = qdq.run(feed).at(output);
            QCOMPARE(actual.data.size(), expected.data.size());
            for (std::size_t i = 0; i < actual.data.size(); ++i) {
                const double d = std::fabs(static_cast<double>(actual.data[i]) - expected.data[i]);
                largest = std::max(largest, d);
                beyond += d > 1e-5 ? 1 : 0;
            }
        }
        qInfo("largest difference %.3g, %d outputs beyond 1e-5", largest, beyond);
        // Gemm on dequantized weights and QDQ activations in both: equal within float32 rounding.
        QVERIFY2(largest <= 1e-5, qPrintable(QString::number(largest)));
        QCOMPARE(beyond, 0);
    }
};

QTEST_MAIN(TestQdqExport)
#include "tst_qdqexport.moc"
