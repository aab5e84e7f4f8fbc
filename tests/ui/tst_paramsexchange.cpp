// File ▸ Import / Export parameters in every format, through the code the menu calls: the file
// dialogs' filters name the formats, an import applies a file's exact scales and zero points (or
// its ranges) and says which entries matched no tensor and what the format could not express, and
// an export in each format reads back to the parameters the core computes.
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/ParamFileFilters.h"
#include "session/ParamsExchange.h"
#include "session/Session.h"
#include "window/MainWindow.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/interop/ParamFileFormat.h"
#include "quantscope/io/WeightFile.h"

#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

bool writeText(const QString& path, const char* text) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(text) == static_cast<qint64>(std::strlen(text));
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

class TestParamsExchange : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_weights;

    // fc1.weight [3, 4] and fc2.weight [2, 4], values far from any round number.
    static std::vector<NamedTensor> tensors() {
        std::vector<float> fc1(12);
        std::vector<float> fc2(8);
        for (std::size_t i = 0; i < fc1.size(); ++i)
            fc1[i] = 0.37f * std::sin(1.3f * static_cast<float>(i) + 0.2f) - 0.05f;
        for (std::size_t i = 0; i < fc2.size(); ++i)
            fc2[i] = 0.81f * std::cos(0.7f * static_cast<float>(i) + 0.4f) + 0.02f;
        return {{"fc1.weight", {3, 4}, fc1}, {"fc2.weight", {2, 4}, fc2}};
    }

    static bool openAndWait(MainWindow& window, const QString& path) {
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(path);
        if (!opened.wait(20000))
            return false;
        return QTest::qWaitFor(
            [&] { return window.session()->result(window.session()->currentRow()) != nullptr; }, 20000);
    }

    // Imports `path` and waits for the confirmation.
    static bool importAndWait(MainWindow& window, const QString& path, const QString& preferred = {}) {
        QSignalSpy imported(window.params(), &ParamsExchange::imported);
        window.params()->importFrom(path, preferred);
        return imported.wait(20000);
    }

    // The analysis the app shows for `row` once it follows the row's current settings.
    static std::shared_ptr<const TensorResult> currentResult(MainWindow& window, int row) {
        Session* session = window.session();
        session->setCurrentRow(row);
        std::shared_ptr<const TensorResult> result;
        const bool current = QTest::qWaitFor(
            [&] {
                result = session->result(row);
                return result && result->settings == session->settings(row);
            },
            20000);
        return current ? result : nullptr;
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_weights = m_dir.filePath(QStringLiteral("two.safetensors"));
        QVERIFY(writeSafetensors(m_weights, tensors()));
    }

    void dialogFiltersNameEveryFormat() {
        const QStringList exportFilters = ParamFileFilters::nameFilters(false);
        const QStringList importFilters = ParamFileFilters::nameFilters(true);
        QCOMPARE(exportFilters.size(), static_cast<qsizetype>(paramFileFormats().size()));
        QCOMPARE(importFilters.size(), exportFilters.size() + 2); // "All parameter files", "All files"
        QVERIFY(ParamFileFilters::formatOfFilter(importFilters.front()).isEmpty());
        QVERIFY(ParamFileFilters::formatOfFilter(importFilters.back()).isEmpty());
        for (const auto& format : paramFileFormats()) {
            const QString name = QString::fromStdString(std::string(format->name()));
            const QString filter = ParamFileFilters::filterOfFormat(name);
            QVERIFY2(exportFilters.contains(filter), qPrintable(filter));
            QCOMPARE(ParamFileFilters::formatOfFilter(filter), name);
        }
        QCOMPARE(ParamFileFilters::filterOfFormat(QStringLiteral("trt-cache")),
                 QStringLiteral("TensorRT calibration cache (*.cache *.txt)"));
        QCOMPARE(ParamFileFilters::suggestedName(QStringLiteral("model"), QStringLiteral("aimet-1")),
                 QStringLiteral("model.encodings"));
        QCOMPARE(ParamFileFilters::withSuffix(QStringLiteral("/tmp/out"), QStringLiteral("trt-cache")),
                 QStringLiteral("/tmp/out.cache"));
        QCOMPARE(ParamFileFilters::withSuffix(QStringLiteral("/tmp/out.txt"), QStringLiteral("trt-cache")),
                 QStringLiteral("/tmp/out.txt"));
    }

    void aimetImportAppliesExactPerChannelScales() {
        MainWindow window(nullptr, false);
        QVERIFY(openAndWait(window, m_weights));
        // AIMET 1.0.0 encodings as its documentation shows them: per-channel symmetric int8 on the
        // unsigned grid (offset -128), and an entry for a layer this file does not have.
        const QString path = m_dir.filePath(QStringLiteral("model.encodings"));
        QVERIFY(writeText(path, R"({
  "version": "1.0.0",
  "activation_encodings": [],
  "param_encodings": [
    {"name": "fc1.weight", "dtype": "INT", "enc_type": "PER_CHANNEL", "is_sym": true, "bw": 8,
     "scale": [0.012, 0.015, 0.011], "offset": [-128, -128, -128]},
    {"name": "ghost.weight", "dtype": "INT", "enc_type": "PER_TENSOR", "is_sym": false, "bw": 8,
     "scale": [0.1], "offset": [-10]}
  ]
})"));
        QVERIFY(importAndWait(window, path));
        const ExchangeReport& report = window.params()->lastReport();
        QCOMPARE(report.format, QStringLiteral("aimet-1"));
        QCOMPARE(report.total, 2);
        QCOMPARE(report.applied, 1);
        QCOMPARE(report.exact, 1);
        QCOMPARE(report.unmatched, QStringList{QStringLiteral("ghost.weight")});
        QVERIFY2(window.lastNotice().contains(QStringLiteral("matched no tensor: ghost.weight")),
                 qPrintable(window.lastNotice()));

        Session* session = window.session();
        const int row = session->rowOf(QStringLiteral("fc1.weight"));
        const TensorSettings& settings = session->settings(row);
        QCOMPARE(settings.spec.granularity, Granularity::Channel);
        QCOMPARE(settings.spec.axis, 0);
        QVERIFY(settings.exactParams.has_value());
        const std::vector<float> scales{0.012f, 0.015f, 0.011f};
        QVERIFY(sameBits(settings.exactParams->scale, scales));
        // Symmetric int8: AIMET's -128 on its unsigned grid is zero on the signed one.
        const int32_t zero = settings.spec.format.isSigned ? 0 : 128;
        QCOMPARE(settings.exactParams->zeroPoint, std::vector<int32_t>(3, zero));

        // The analysis the app shows quantizes with exactly these scales: x_q = round(x / S) + Z.
        const auto result = currentResult(window, row);
        QVERIFY(result);
        QVERIFY(sameBits(result->analysis.params.scale, scales));
        const auto values = tensors()[0].values;
        double signal = 0.0;
        double noise = 0.0;
        for (std::size_t i = 0; i < values.size(); ++i) {
            const float s = scales[i / 4];
            const float q = std::clamp(std::nearbyint(values[i] * (1.0f / s)) + static_cast<float>(zero),
                                       static_cast<float>(settings.spec.qmin()),
                                       static_cast<float>(settings.spec.qmax()));
            const float back = (q - static_cast<float>(zero)) * s;
            signal += double(values[i]) * values[i];
            noise += double(values[i] - back) * (values[i] - back);
        }
        QVERIFY(std::fabs(result->analysis.metrics.sqnrDb - 10.0 * std::log10(signal / noise)) < 1e-6);

        // A setting changed by hand leaves the imported parameters behind; undo brings them back.
        QuantSpec changed = settings.spec;
        changed.format = QuantFormat::integer(6, true);
        session->changeSpec({row}, changed, QStringLiteral("six bits"));
        QVERIFY(!session->settings(row).exactParams);
        session->undoStack()->undo();
        QVERIFY(session->settings(row).exactParams.has_value());
    }

    void tensorRtCacheHasNoZeroPoints() {
        MainWindow window(nullptr, false);
        QVERIFY(openAndWait(window, m_weights));
        // amax 1.0 -> scale 1/127, float32 bits 3c010204 (TensorRT's cache line for it).
        const QString path = m_dir.filePath(QStringLiteral("calibration.cache"));
        QVERIFY(writeText(path, "TRT-8601-EntropyCalibration2\nfc2.weight: 3c010204\n"));
        QVERIFY(importAndWait(window, path));
        const ExchangeReport& report = window.params()->lastReport();
        QCOMPARE(report.format, QStringLiteral("trt-cache"));
        QCOMPARE(report.applied, 1);
        const int row = window.session()->rowOf(QStringLiteral("fc2.weight"));
        const TensorSettings& settings = window.session()->settings(row);
        // amax / 127 on [-127, 127] is also what a symmetric narrow range of [-1, 1] computes, bit
        // for bit: applied as that clipping range (else it would be the exact scale).
        QCOMPARE(report.exact, 0);
        QVERIFY(settings.manualRange.has_value());
        QCOMPARE(settings.manualRange->max, 1.0f);
        const auto applied = settings.fixedParams();
        QVERIFY(applied.has_value());
        QCOMPARE(std::bit_cast<uint32_t>(applied->scale.front()), 0x3c010204u);
        QCOMPARE(applied->zeroPoint.front(), 0);
        QCOMPARE(settings.spec.qmin(), int64_t(-127)); // TensorRT's symmetric [-127, 127]
        // What the format cannot express is in the confirmation.
        QVERIFY2(window.lastNotice().contains(QStringLiteral("no zero points")),
                 qPrintable(window.lastNotice()));
        QVERIFY2(window.lastNotice().contains(QStringLiteral("no per-channel")),
                 qPrintable(window.lastNotice()));
        const auto result = currentResult(window, row);
        QVERIFY(result);
        QCOMPARE(std::bit_cast<uint32_t>(result->analysis.params.scale.front()), 0x3c010204u);
    }

    void onnxRuntimeRangesBecomeManualRanges() {
        MainWindow window(nullptr, false);
        QVERIFY(openAndWait(window, m_weights));
        // calibration.json of ONNX Runtime: ranges only; applied as a clipping range, uint8 affine.
        const QString path = m_dir.filePath(QStringLiteral("calibration.json"));
        QVERIFY(writeText(path, R"({"fc2.weight": [-1.0, 0.5]})"));
        QVERIFY(importAndWait(window, path));
        QCOMPARE(window.params()->lastReport().format, QStringLiteral("ort-table"));
        QCOMPARE(window.params()->lastReport().exact, 0);
        const int row = window.session()->rowOf(QStringLiteral("fc2.weight"));
        const TensorSettings& settings = window.session()->settings(row);
        QVERIFY(!settings.exactParams);
        QVERIFY(settings.manualRange.has_value());
        QCOMPARE(settings.manualRange->min, -1.0f);
        QCOMPARE(settings.manualRange->max, 0.5f);
        QCOMPARE(settings.spec.qmax(), int64_t(255));
        const auto result = currentResult(window, row);
        QVERIFY(result);
        // (0.5 - (-1)) / 255 and zero point 0 - round(-1 / S) = 170.
        QCOMPARE(result->analysis.params.scale.front(), 1.5f / 255.0f);
        QCOMPARE(result->analysis.params.zeroPoint.front(), 170);
    }

    void malformedFileShowsTheCoreMessage() {
        MainWindow window(nullptr, false);
        QVERIFY(openAndWait(window, m_weights));
        const QString path = m_dir.filePath(QStringLiteral("bad.cache"));
        QVERIFY(writeText(path, "TRT-8601-EntropyCalibration2\nfc2.weight: 3c01zz04\n"));
        QSignalSpy failed(window.params(), &ParamsExchange::failed);
        const TensorSettings before = window.session()->settings(1);
        window.params()->importFrom(path);
        QVERIFY(failed.wait(20000));
        const QString message = failed[0][0].toString();
        QVERIFY2(message.contains(QStringLiteral("bad.cache")) &&
                     message.contains(QStringLiteral("fc2.weight")),
                 qPrintable(message));
        QCOMPARE(window.lastError(), message);
        QVERIFY(window.session()->settings(1) == before);
    }

    void exportInEveryFormatReadsBack() {
        MainWindow window(nullptr, false);
        QVERIFY(openAndWait(window, m_weights));
        Session* session = window.session();
        QuantSpec perChannel;
        perChannel.scheme = Scheme::Symmetric;
        perChannel.granularity = Granularity::Channel;
        QuantSpec perTensor;
        perTensor.scheme = Scheme::Symmetric;
        perTensor.narrowRange = true;
        session->changeSpec({0}, perChannel, QStringLiteral("channel"));
        session->changeSpec({1}, perTensor, QStringLiteral("tensor"));
        const auto file = openWeightFile(m_weights.toStdString());
        const std::array expected{analyzeTensor(file->load("fc1.weight"), perChannel, {}).params,
                                  analyzeTensor(file->load("fc2.weight"), perTensor, {}).params};

        for (const auto& format : paramFileFormats()) {
            const QString name = QString::fromStdString(std::string(format->name()));
            const QString path =
                m_dir.filePath(ParamFileFilters::suggestedName(QStringLiteral("out-") + name, name));
            QSignalSpy exported(window.params(), &ParamsExchange::exported);
            window.params()->exportTo(path, name);
            QVERIFY2(exported.wait(20000), qPrintable(name));
            const ExchangeReport& report = window.params()->lastReport();
            std::vector<ConversionNote> notes;
            std::string formatRead;
            const QParamsDocument back =
                readParamFile(path.toStdString(), format->name(), notes, &formatRead);
            QCOMPARE(static_cast<int>(back.tensors.size()), report.applied);
            QCOMPARE(exported[0][1].toInt(), report.applied);
            for (std::size_t i = 0; i < 2; ++i) {
                const std::string tensor = i == 0 ? "fc1.weight" : "fc2.weight";
                const QParamsEntry* entry = back.find(tensor);
                if (!entry) {
                    // Left out: the confirmation says so, naming the tensor.
                    QVERIFY2(window.lastNotice().contains(QString::fromStdString(tensor)),
                             qPrintable(name + QStringLiteral(": ") + window.lastNotice()));
                    continue;
                }
                if (name == QLatin1String("ort-table")) {
                    QCOMPARE(entry->params->min, expected[i].min); // ranges only
                    QCOMPARE(entry->params->max, expected[i].max);
                } else if (entry->params) {
                    QVERIFY2(sameBits(entry->params->scale, expected[i].scale), qPrintable(name));
                    QCOMPARE(entry->params->zeroPoint, expected[i].zeroPoint);
                } else {
                    QCOMPARE(entry->spec.format.bits, 8); // settings only
                }
            }
            if (name == QLatin1String("trt-cache")) {
                // Per-channel weights have no TensorRT cache line: left out, and said so.
                QVERIFY(!back.find("fc1.weight"));
                QVERIFY(back.find("fc2.weight"));
                QVERIFY2(window.lastNotice().contains(QStringLiteral("Not expressed")),
                         qPrintable(window.lastNotice()));
            }
        }
    }
};

QTEST_MAIN(TestParamsExchange)
#include "tst_paramsexchange.moc"
