// A weight its file stores quantized (an ONNX QDQ weight, a GPTQ checkpoint's packed weight) is
// analysed with the file's own scale and zero point by default: the settings panel names the stored
// scheme, the table marks the tensor, the histogram's clip and grid are the stored grid's, and the
// user switches each tensor to their own settings and back. The expected parameters are read from
// the files directly (the ONNX reader's stored description, the raw safetensors tensors).
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ParamsExchange.h"
#include "session/Session.h"
#include "views/DistributionPlot.h"
#include "widgets/SettingsPanel.h"
#include "widgets/TensorBrowser.h"
#include "widgets/TensorTableModel.h"
#include "window/MainWindow.h"

#include "quantscope/io/SafetensorsReader.h"
#include "quantscope/io/WeightFile.h"

#include <QCheckBox>
#include <QComboBox>
#include <QIcon>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

const QString kQdqModel = QStringLiteral(QUANTSCOPE_TEST_DATA "/model/qdq_weights.onnx");
const QString kGptq = QStringLiteral(QUANTSCOPE_TEST_DATA "/io/packed/gptq_v1/model.safetensors");
const QString kGptqWeight = QStringLiteral("model.layers.0.mlp.down_proj.weight");

// Opens a file in the window and selects one of its tensors, waiting for its exact result.
int openAndSelect(MainWindow& window, const QString& path, const QString& tensor) {
    window.openFile(path);
    if (!QTest::qWaitFor([&] { return window.session()->filePath() == path; }, 60000))
        return -1;
    Session* session = window.session();
    const int row = session->rowOf(tensor);
    session->setCurrentRow(row);
    session->setSelectedRows({row});
    return row;
}

bool waitForResult(MainWindow& window, int row) {
    return QTest::qWaitFor(
        [&] { return window.session()->result(row) != nullptr && window.jobs()->runningCount() == 0; },
        60000);
}

std::vector<float> valuesOf(const Tensor& tensor) {
    const auto values = tensor.values();
    return {values.begin(), values.end()};
}

QString formatCell(MainWindow& window, int row) {
    TensorTableModel* model = window.tensorBrowser()->model();
    return model->data(model->index(row, TensorTableModel::Format)).toString();
}

// The name cell carries an icon only while the row uses its stored parameters.
bool nameMarked(MainWindow& window, int row) {
    TensorTableModel* model = window.tensorBrowser()->model();
    return !model->data(model->index(row, TensorTableModel::Name), Qt::DecorationRole)
                .value<QIcon>()
                .isNull();
}

} // namespace

class TestStoredParameters : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void qdqWeightIsAnalysedWithItsStoredParameters() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        const int row = openAndSelect(window, kQdqModel, QStringLiteral("fc.weight_quantized"));
        QVERIFY(row >= 0);
        QVERIFY(waitForResult(window, row));
        Session* session = window.session();

        // The stored scale and zero point, read independently with the core reader.
        const auto file = openWeightFile(kQdqModel.toStdString());
        const auto stored = file->storedQuantization("fc.weight_quantized");
        QVERIFY(stored.has_value());
        const std::vector<float> scales = valuesOf(stored->parameters[0]);
        std::vector<int32_t> zeros;
        for (float z : valuesOf(stored->parameters[1]))
            zeros.push_back(static_cast<int32_t>(z));
        QCOMPARE(scales.size(), std::size_t{4});

        QVERIFY(session->usesStoredSettings(row));
        const auto result = session->result(row);
        QCOMPARE(result->analysis.params.scale, scales);
        QCOMPARE(result->analysis.params.zeroPoint, zeros);
        QCOMPARE(result->analysis.spec.granularity, Granularity::Channel);
        // The dequantized weight lies on its own stored grid: no error at all.
        QCOMPARE(QString::fromStdString(result->analysis.metrics.sqnrNote), QStringLiteral("exact"));

        // The panel shows the stored scheme and says where it comes from.
        SettingsPanel* panel = window.settingsPanel();
        QVERIFY(panel->storedLabel()->isVisible());
        QVERIFY2(panel->storedLabel()->text().contains(
                     QStringLiteral("Stored in the file: int8 per-channel, axis 0")),
                 qPrintable(panel->storedLabel()->text()));
        QVERIFY(panel->useStoredBox()->isChecked());
        // Nothing is calibrated: the calibration choice is off while the stored parameters are used.
        QVERIFY(!panel->calibCombo()->isEnabled());
        QCOMPARE(panel->familyCombo()->currentText(), QStringLiteral("intN"));
        QCOMPARE(panel->bitsSlider()->value(), 8);
        QCOMPARE(panel->granularityCombo()->currentIndex(), static_cast<int>(Granularity::Channel));
        QCOMPARE(panel->schemeCombo()->currentIndex(), 0); // affine: zero points 0, 3, -2, 0
        QCOMPARE(formatCell(window, row), QStringLiteral("int8 · stored"));
        QVERIFY(nameMarked(window, row));
        // A tensor no DequantizeLinear reads has no stored parameters.
        const int plain = session->rowOf(QStringLiteral("plain_int8"));
        QVERIFY(plain >= 0 && !session->storedSettings(plain));
        QCOMPARE(formatCell(window, plain), QStringLiteral("int8"));
        QVERIFY(!nameMarked(window, plain));

        // Own settings: the user's defaults (int8 affine per tensor, min/max), calibrated.
        panel->useStoredBox()->click();
        QVERIFY(!session->usesStoredSettings(row));
        QVERIFY(!panel->useStoredBox()->isChecked());
        QVERIFY(panel->storedLabel()->text().contains(QStringLiteral("Analysed with your settings")));
        QVERIFY(panel->calibCombo()->isEnabled());
        QCOMPARE(formatCell(window, row), QStringLiteral("int8"));
        QVERIFY(!nameMarked(window, row));
        QVERIFY(waitForResult(window, row));
        const auto own = session->result(row);
        QCOMPARE(own->analysis.spec.granularity, Granularity::Tensor);
        QCOMPARE(own->analysis.params.scale.size(), std::size_t{1});
        QVERIFY(own->analysis.params.scale != scales);
        QVERIFY(own->analysis.metrics.sqnrNote != "exact");

        // An edit of the own settings is remembered when switching back and forth.
        panel->bitsSlider()->setValue(6);
        QCOMPARE(session->settings(row).spec.format.bits, 6);
        panel->useStoredBox()->click();
        QVERIFY(session->usesStoredSettings(row));
        QVERIFY(waitForResult(window, row));
        QCOMPARE(session->result(row)->analysis.params.scale, scales);
        QCOMPARE(session->result(row)->analysis.params.zeroPoint, zeros);
        QCOMPARE(panel->bitsSlider()->value(), 8);
        panel->useStoredBox()->click();
        QCOMPARE(session->settings(row).spec.format.bits, 6);
        // Each switch is one undo step.
        session->undoStack()->undo();
        QVERIFY(session->usesStoredSettings(row));
        QVERIFY(!panel->calibCombo()->isEnabled());
        // A tensor without stored parameters calibrates as usual.
        session->setCurrentRow(plain);
        QVERIFY(panel->calibCombo()->isEnabled());
    }

    void perTensorClipAndGridAreTheStoredOnes() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        // uint8 per tensor, scale 0.5, zero point 128: the grid spans [-64, 63.5].
        const int row = openAndSelect(window, kQdqModel, QStringLiteral("bias_quantized"));
        QVERIFY(row >= 0);
        QVERIFY(waitForResult(window, row));
        const Preview& preview = window.controller()->preview();
        QVERIFY(preview.valid);
        QCOMPARE(preview.estimate.scale, 0.5f);
        QCOMPARE(preview.estimate.zeroPoint, 128);
        const auto clip = window.distributionPlot()->clipLines();
        QVERIFY(clip.has_value());
        QCOMPARE(clip->min, -64.0f);
        QCOMPARE(clip->max, 63.5f);
        // The four stored values -64, 0, 36, 63.5 lie on that grid: none is clipped.
        QVERIFY2(window.distributionPlot()->clippedText().startsWith(QStringLiteral("clipped 0 of 4")),
                 qPrintable(window.distributionPlot()->clippedText()));
        QVERIFY(window.settingsPanel()->storedLabel()->text().contains(QStringLiteral("uint8 per-tensor")));
        // Own settings, int8 affine min/max over [-64, 63.5]: S = 127.5 / 255 = 0.5 and
        // Z = -128 - round(-64 / 0.5) = 0, the same steps on a signed grid.
        window.settingsPanel()->useStoredBox()->click();
        QVERIFY(waitForResult(window, row));
        QCOMPARE(window.session()->result(row)->analysis.spec.format.name(), std::string("int8"));
        QCOMPARE(window.controller()->preview().estimate.zeroPoint, 0);
        QCOMPARE(window.session()->result(row)->analysis.params.zeroPoint, std::vector<int32_t>{0});
    }

    void packedCheckpointShowsItsStoredGroups() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        const int row = openAndSelect(window, kGptq, kGptqWeight);
        QVERIFY(row >= 0);
        QVERIFY(waitForResult(window, row));
        Session* session = window.session();
        QVERIFY(session->usesStoredSettings(row));
        // GPTQ stores [groups, out] scales; the analysis has one block per (output, group of 8).
        const SafetensorsReader raw(kGptq.toStdString());
        const std::vector<float> scales = valuesOf(raw.load("model.layers.0.mlp.down_proj.scales"));
        const auto result = session->result(row);
        QCOMPARE(result->analysis.spec.format.name(), std::string("uint4"));
        QCOMPARE(result->analysis.spec.granularity, Granularity::Group);
        QCOMPARE(result->analysis.spec.groupSize, int64_t{8});
        QCOMPARE(result->analysis.params.scale.size(), std::size_t{64});
        for (std::size_t o = 0; o < 16; ++o)
            for (std::size_t g = 0; g < 4; ++g)
                QCOMPARE(result->analysis.params.scale[o * 4 + g], scales[g * 16 + o]);
        // v1 stores zero − 1: the symmetric zero 8 is stored as 7.
        QCOMPARE(result->analysis.params.zeroPoint, std::vector<int32_t>(64, 8));
        QCOMPARE(QString::fromStdString(result->analysis.metrics.sqnrNote), QStringLiteral("exact"));
        SettingsPanel* panel = window.settingsPanel();
        QVERIFY2(panel->storedLabel()->text().contains(QStringLiteral("uint4 per-group of 8, axis 1")),
                 qPrintable(panel->storedLabel()->text()));
        QVERIFY(panel->storedLabel()->text().contains(QStringLiteral("gptq-v1 int4 g8")));
        QCOMPARE(panel->familyCombo()->currentText(), QStringLiteral("uintN"));
        QCOMPARE(panel->bitsSlider()->value(), 4);
        QCOMPARE(panel->granularityCombo()->currentIndex(), static_cast<int>(Granularity::Group));
        QCOMPARE(formatCell(window, row), QStringLiteral("uint4 · stored"));
        // A plain tensor of the checkpoint starts from the user's settings.
        QVERIFY(!session->storedSettings(session->rowOf(QStringLiteral("model.norm.weight"))));

        panel->useStoredBox()->click();
        QVERIFY(waitForResult(window, row));
        QCOMPARE(session->result(row)->analysis.params.scale.size(), std::size_t{1});
        panel->useStoredBox()->click();
        QVERIFY(waitForResult(window, row));
        QCOMPARE(session->result(row)->analysis.params.zeroPoint, std::vector<int32_t>(64, 8));
        QCOMPARE(session->result(row)->analysis.params.scale[1], scales[16]);
    }

    void exportRecordsWhichParametersWereStored() {
        MainWindow window(nullptr, false);
        const int row = openAndSelect(window, kQdqModel, QStringLiteral("fc.weight_quantized"));
        QVERIFY(row >= 0);
        Session* session = window.session();
        const int bias = session->rowOf(QStringLiteral("bias_quantized"));
        session->useStoredSettings({bias}, false);
        const QString path = m_dir.filePath(QStringLiteral("stored.qparams.json"));
        QSignalSpy exported(window.params(), &ParamsExchange::exported);
        window.params()->exportTo(path);
        QVERIFY(exported.wait(60000));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QJsonObject weight, biasEntry;
        for (const auto& entry :
             QJsonDocument::fromJson(file.readAll()).object().value(QLatin1String("tensors")).toArray()) {
            if (entry.toObject().value(QLatin1String("name")).toString() ==
                QStringLiteral("fc.weight_quantized"))
                weight = entry.toObject();
            if (entry.toObject().value(QLatin1String("name")).toString() == QStringLiteral("bias_quantized"))
                biasEntry = entry.toObject();
        }
        QCOMPARE(weight.value(QLatin1String("stored")).toBool(), true);
        QCOMPARE(weight.value(QLatin1String("granularity")).toString(), QStringLiteral("channel"));
        QCOMPARE(weight.value(QLatin1String("zero_point")).toArray(), (QJsonArray{0, 3, -2, 0}));
        QVERIFY(!biasEntry.isEmpty());
        QVERIFY(!biasEntry.contains(QLatin1String("stored"))); // switched to own settings
    }

    void screenshots() {
        // QUANTSCOPE_SCREENSHOT_DIR keeps the pictures for a person to look at.
        const QString directory = qEnvironmentVariableIsSet("QUANTSCOPE_SCREENSHOT_DIR")
                                      ? qEnvironmentVariable("QUANTSCOPE_SCREENSHOT_DIR")
                                      : m_dir.path();
        for (const QSize size : {QSize(1280, 720), QSize(1600, 1000)}) {
            MainWindow window(nullptr, false);
            window.resize(size);
            window.show();
            const int row = openAndSelect(window, kGptq, kGptqWeight);
            QVERIFY(row >= 0);
            QVERIFY(waitForResult(window, row));
            QTest::qWait(50);
            const QImage image = window.grab().toImage();
            QVERIFY(image.save(QStringLiteral("%1/stored-gptq-%2x%3.png")
                                   .arg(directory)
                                   .arg(size.width())
                                   .arg(size.height())));
            const auto [colours, largestShare] = test::colourStats(image);
            QVERIFY(colours > 20);
            QVERIFY(largestShare < 0.9);
            const int bias = openAndSelect(window, kQdqModel, QStringLiteral("bias_quantized"));
            QVERIFY(waitForResult(window, bias));
            QTest::qWait(50);
            QVERIFY(window.grab().toImage().save(QStringLiteral("%1/stored-qdq-%2x%3.png")
                                                     .arg(directory)
                                                     .arg(size.width())
                                                     .arg(size.height())));
        }
    }

private:
    QTemporaryDir m_dir;
};

QTEST_MAIN(TestStoredParameters)
#include "tst_storedparameters.moc"
