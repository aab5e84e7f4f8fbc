// An ONNX model whose weights are stored quantized (integer initializers read by DequantizeLinear,
// as ONNX Runtime's quantizer writes them): the reader lists each such weight as float32, loads it
// dequantized with its stored scale and zero point, and describes them; `analyze` without settings
// shows those stored parameters. The model and numpy's dequantized values come from
// tools/make_qdq_weight_data.py.
#include "quantscope/io/NpzReader.h"
#include "quantscope/io/OnnxReader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <cmath>

using namespace quantscope;

namespace {

const std::string kModel = QUANTSCOPE_TEST_DATA "/model/qdq_weights.onnx";
const std::string kExpected = QUANTSCOPE_TEST_DATA "/model/qdq_weights_expected.npz";

// `analyze` of the model's per-axis weight as JSON, with extra options.
QJsonObject analyzedWeight(const QStringList& options) {
    QProcess cli;
    cli.start(QUANTSCOPE_CLI_PATH, QStringList{"analyze", QString::fromStdString(kModel), "--tensor",
                                               "fc.weight_quantized", "--json", "-"} +
                                       options);
    if (!cli.waitForFinished(60000) || cli.exitCode() != 0)
        qFatal("analyze failed: %s", cli.readAllStandardError().constData());
    return QJsonDocument::fromJson(cli.readAllStandardOutput())
        .object()
        .value("tensors")
        .toArray()
        .at(0)
        .toObject();
}

std::vector<double> numbers(const QJsonValue& array) {
    std::vector<double> result;
    for (const auto& v : array.toArray())
        result.push_back(v.toDouble());
    return result;
}

} // namespace

class TestIoOnnxQdq : public QObject {
    Q_OBJECT

private slots:
    void weightsLoadDequantizedWithTheirStoredParameters() {
        const OnnxReader reader(kModel);
        const NpzReader expected(kExpected);
        for (const char* name : {"fc.weight_quantized", "bias_quantized"}) {
            QCOMPARE(reader.find(name)->dtype, DType::F32);
            const Tensor loaded = reader.load(name);
            const Tensor reference = expected.load(name);
            QCOMPARE(loaded.shape(), reference.shape());
            const auto a = loaded.values(), b = reference.values();
            for (std::size_t i = 0; i < b.size(); ++i)
                QVERIFY2(std::abs(a[i] - b[i]) <= 1e-6f * std::max(1.0f, std::abs(b[i])),
                         qPrintable(QStringLiteral("%1[%2]: %3 vs %4").arg(name).arg(i).arg(a[i]).arg(b[i])));
        }
        // The uint8 bias, per tensor: (q - 128) * 0.5 for q = 0, 128, 200, 255.
        const Tensor biasTensor = reader.load("bias_quantized");
        const auto bias = biasTensor.values();
        QCOMPARE(std::vector<float>(bias.begin(), bias.end()),
                 (std::vector<float>{-64.0f, 0.0f, 36.0f, 63.5f}));
        // An int8 tensor no DequantizeLinear reads stays as stored.
        QCOMPARE(reader.find("plain_int8")->dtype, DType::I8);
        const Tensor plainTensor = reader.load("plain_int8");
        const auto plain = plainTensor.values();
        QCOMPARE(std::vector<float>(plain.begin(), plain.end()), (std::vector<float>{7.0f, -9.0f}));
        QVERIFY(!reader.storedQuantization("plain_int8"));
    }

    void storedQuantizationDescribesTheParameters() {
        const OnnxReader reader(kModel);
        const auto weight = reader.storedQuantization("fc.weight_quantized");
        QVERIFY(weight.has_value());
        QCOMPARE(weight->format, std::string("qdq int8 per-axis 0"));
        QVERIFY2(weight->note.find("fc.weight_DequantizeLinear") != std::string::npos, weight->note.c_str());
        QVERIFY(weight->affine.has_value());
        QCOMPARE(weight->affine->dtype, std::string("int8"));
        QCOMPARE(weight->affine->axis, int64_t{0});
        QCOMPARE(weight->parameters.size(), std::size_t{2});
        QCOMPARE(weight->parameters[0].name(), std::string("fc.weight_scale"));
        const auto zeros = weight->parameters[1].values();
        QCOMPARE(std::vector<float>(zeros.begin(), zeros.end()), (std::vector<float>{0, 3, -2, 0}));
        const auto bias = reader.storedQuantization("bias_quantized");
        QCOMPARE(bias->format, std::string("qdq uint8 per-tensor"));
        QCOMPARE(bias->affine->axis, int64_t{-1});
    }

    void analyzeShowsTheStoredParametersUnlessSettingsAreGiven() {
        const QJsonObject stored = analyzedWeight({});
        QCOMPARE(stored.value("dtype").toString(), QStringLiteral("int8"));
        QCOMPARE(stored.value("granularity").toString(), QStringLiteral("channel"));
        const auto scale = numbers(stored.value("scale"));
        const std::vector<double> expectedScale{0.01, 0.02, 0.005, 0.1};
        QCOMPARE(scale.size(), expectedScale.size());
        for (std::size_t i = 0; i < scale.size(); ++i)
            QVERIFY(std::abs(scale[i] - expectedScale[i]) < 1e-6 * expectedScale[i]);
        QCOMPARE(numbers(stored.value("zero_point")), (std::vector<double>{0, 3, -2, 0}));
        // The dequantized weight lies on its own grid: requantizing it is exact.
        QCOMPARE(stored.value("metrics").toObject().value("sqnr_note").toString(), QStringLiteral("exact"));
        // Explicit settings recompute: per tensor there is one scale.
        const QJsonObject recomputed = analyzedWeight({"--granularity", "tensor"});
        QCOMPARE(numbers(recomputed.value("scale")).size(), std::size_t{1});
    }
};

QTEST_GUILESS_MAIN(TestIoOnnxQdq)
#include "tst_io_onnx_qdq.moc"
