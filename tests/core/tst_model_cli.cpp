// quantscope-cli calibrate and eval as scripts use them: JSON, --params, --out-logits, and bad
// input (unsupported op, wrong input shape, zero samples, labels of the wrong length, truncated or
// non-ONNX model) with exit code 1 and a message naming what is wrong.
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/NpyWriter.h"

#include <QtTest>

#include <cmath>
#include <map>

using namespace quantscope;

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runCli(const QStringList& arguments) {
    QProcess process;
    process.start(QStringLiteral(QUANTSCOPE_CLI_PATH), arguments);
    if (!process.waitForFinished(600000))
        return {};
    return {process.exitCode(), QString::fromUtf8(process.readAllStandardOutput()),
            QString::fromUtf8(process.readAllStandardError())};
}

QString demo(const char* name) {
    return QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/") + QLatin1String(name);
}

QString modelData(const char* name) {
    return QStringLiteral(QUANTSCOPE_TEST_DATA "/model/") + QLatin1String(name);
}

QJsonObject parseJson(const QString& text) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("JSON error: %s", qPrintable(error.errorString()));
    return document.object();
}

QJsonObject resultOf(const QJsonObject& document, const char* mode) {
    for (const auto& value : document.value(QLatin1String("results")).toArray()) {
        if (value.toObject().value(QLatin1String("mode")).toString() == QLatin1String(mode))
            return value.toObject();
    }
    return {};
}

} // namespace

class TestModelCli : public QObject {
    Q_OBJECT

private slots:
    void evalReportsEveryMode() {
        QTemporaryDir dir;
        const QString logits = dir.filePath(QStringLiteral("logits.npy"));
        const Run run =
            runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                    demo("digits_test.npy"), QStringLiteral("--labels"), demo("digits_test_labels.npy"),
                    QStringLiteral("--calib-samples"), demo("digits_calib.npy"),
                    QStringLiteral("--out-logits"), logits, QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject document = parseJson(run.out);
        QCOMPARE(document.value(QLatin1String("results")).toArray().size(), 4);
        const QJsonObject fp32 = resultOf(document, "fp32");
        QCOMPARE(fp32.value(QLatin1String("accuracy")).toDouble(), 526.0 / 539.0);
        QCOMPARE(fp32.value(QLatin1String("output_sqnr_note")).toString(), QStringLiteral("exact"));
        QVERIFY(fp32.value(QLatin1String("output_sqnr_db")).isNull());
        QCOMPARE(fp32.value(QLatin1String("size_bytes")).toInteger(), 4 * (50432 + 394));
        const QJsonObject stat = resultOf(document, "static");
        QVERIFY(std::abs(stat.value(QLatin1String("accuracy")).toDouble() - 526.0 / 539.0) <= 0.01);
        QVERIFY(stat.value(QLatin1String("output_sqnr_db")).toDouble() > 20.0);
        QVERIFY(stat.value(QLatin1String("throughput_sps")).toDouble() > 0.0);
        QVERIFY(stat.value(QLatin1String("latency_ms")).toDouble() > 0.0);
        // The MLP's five nodes (three Gemm, two Relu fused into them) all run on integers.
        const QJsonObject integerOps = stat.value(QLatin1String("integer_ops")).toObject();
        QCOMPARE(integerOps.value(QLatin1String("count")).toInt(), 5);
        QCOMPARE(integerOps.value(QLatin1String("by_op")).toObject().value(QLatin1String("Gemm")).toInt(), 3);
        QCOMPARE(integerOps.value(QLatin1String("by_op")).toObject().value(QLatin1String("Relu")).toInt(), 2);
        const QJsonArray integerNodes = integerOps.value(QLatin1String("nodes")).toArray();
        QCOMPARE(integerNodes[1].toObject().value(QLatin1String("fused_into")).toString(),
                 QStringLiteral("fc1"));
        QCOMPARE(stat.value(QLatin1String("fp32_ops")).toObject().value(QLatin1String("count")).toInt(), 0);
        QVERIFY(!fp32.contains(QLatin1String("integer_ops")));
        QVERIFY(resultOf(document, "dynamic").value(QLatin1String("agreement")).toDouble() >= 0.98);
        QVERIFY(resultOf(document, "weight-only").value(QLatin1String("size_bytes")).toInteger() < 60000);
        const QJsonArray layers = document.value(QLatin1String("layers")).toArray();
        QCOMPARE(layers.size(), 3);
        QCOMPARE(layers[0].toObject().value(QLatin1String("name")).toString(), QStringLiteral("fc1"));
        QVERIFY(layers[2].toObject().value(QLatin1String("cumulative_sqnr_db")).toDouble() > 20.0);

        // --out-logits holds the first mode's (fp32) outputs: the numpy reference.
        const NpyReader written(logits.toStdString());
        const Tensor actual = written.load(written.tensors()[0].name);
        const NpyReader reference(QUANTSCOPE_TEST_DATA "/model/digits_mlp_test_logits.npy");
        const Tensor expected = reference.load(reference.tensors()[0].name);
        QCOMPARE(actual.shape(), expected.shape());
        for (int64_t i = 0; i < expected.size(); ++i)
            QVERIFY(std::abs(actual.values()[i] - expected.values()[i]) <=
                    1e-5 * std::max(1.0f, std::abs(expected.values()[i])));
    }

    void calibrateThenEvalWithParams() {
        QTemporaryDir dir;
        const QString params = dir.filePath(QStringLiteral("cnn.json"));
        const Run calibrate =
            runCli({QStringLiteral("calibrate"), demo("digits_cnn.onnx"), QStringLiteral("--samples"),
                    demo("digits_calib.npy"), QStringLiteral("--calib"), QStringLiteral("percentile"),
                    QStringLiteral("--json"), params});
        QCOMPARE(calibrate.exitCode, 0);
        QFile file(params);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject document = parseJson(QString::fromUtf8(file.readAll()));
        QCOMPARE(document.value(QLatin1String("format")).toString(), QStringLiteral("quantscope-qparams"));
        QCOMPARE(
            document.value(QLatin1String("calibration")).toObject().value(QLatin1String("samples")).toInt(),
            1258);
        int weights = 0, activations = 0;
        for (const auto& value : document.value(QLatin1String("tensors")).toArray()) {
            const QJsonObject entry = value.toObject();
            if (entry.value(QLatin1String("kind")).toString() == QLatin1String("weight")) {
                ++weights;
                QCOMPARE(entry.value(QLatin1String("granularity")).toString(), QStringLiteral("channel"));
            } else {
                ++activations;
                QCOMPARE(
                    entry.value(QLatin1String("calib")).toObject().value(QLatin1String("method")).toString(),
                    QStringLiteral("percentile"));
            }
        }
        QCOMPARE(weights, 3);
        QCOMPARE(activations, 8);

        // eval --params applies the exported scales: calibrating on a different set changes nothing.
        const QStringList common{QStringLiteral("eval"),      demo("digits_cnn.onnx"),
                                 QStringLiteral("--samples"), demo("digits_test.npy"),
                                 QStringLiteral("--labels"),  demo("digits_test_labels.npy"),
                                 QStringLiteral("--mode"),    QStringLiteral("static"),
                                 QStringLiteral("--json"),    QStringLiteral("-")};
        const Run first = runCli(common + QStringList{QStringLiteral("--params"), params});
        const Run second =
            runCli(common + QStringList{QStringLiteral("--params"), params, QStringLiteral("--calib-samples"),
                                        demo("digits_calib.npy")});
        QCOMPARE(first.exitCode, 0);
        QCOMPARE(second.exitCode, 0);
        const QJsonObject a = resultOf(parseJson(first.out), "static");
        const QJsonObject b = resultOf(parseJson(second.out), "static");
        QCOMPARE(a.value(QLatin1String("accuracy")).toDouble(),
                 b.value(QLatin1String("accuracy")).toDouble());
        QCOMPARE(a.value(QLatin1String("output_sqnr_db")).toDouble(),
                 b.value(QLatin1String("output_sqnr_db")).toDouble());
        QVERIFY(a.value(QLatin1String("accuracy")).toDouble() >= 0.96);
    }

    void badInputIsExitCodeOne_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QStringList>("expected");
        const QString test = demo("digits_test.npy");
        QTest::newRow("unsupported op")
            << QStringList{QStringLiteral("eval"), modelData("unsupported_op.onnx"),
                           QStringLiteral("--samples"), test}
            << QStringList{QStringLiteral("Hardmax"), QStringLiteral("suspicious_hardmax")};
        QTest::newRow("truncated model")
            << QStringList{QStringLiteral("eval"), modelData("truncated.onnx"), QStringLiteral("--samples"),
                           test}
            << QStringList{QStringLiteral("truncated.onnx"), QStringLiteral("not a valid ONNX model")};
        QTest::newRow("not onnx") << QStringList{QStringLiteral("calibrate"), modelData("not_onnx.onnx"),
                                                 QStringLiteral("--samples"), test}
                                  << QStringList{QStringLiteral("not_onnx.onnx")};
        QTest::newRow("labels of wrong length")
            << QStringList{QStringLiteral("eval"),      demo("digits_mlp.onnx"),
                           QStringLiteral("--samples"), test,
                           QStringLiteral("--labels"),  demo("digits_calib_labels.npy")}
            << QStringList{QStringLiteral("1258 labels for 539 samples")};
        QTest::newRow("cnn fed 8 values")
            << QStringList{QStringLiteral("eval"),   demo("digits_cnn.onnx"),  QStringLiteral("--samples"),
                           QStringLiteral("@wrong"), QStringLiteral("--mode"), QStringLiteral("fp32")}
            << QStringList{QStringLiteral("input 'input'"), QStringLiteral("[8]")};
        QTest::newRow("zero samples") << QStringList{QStringLiteral("calibrate"), demo("digits_mlp.onnx"),
                                                     QStringLiteral("--samples"), QStringLiteral("@empty")}
                                      << QStringList{QStringLiteral("zero samples")};
        QTest::newRow("missing samples file")
            << QStringList{QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                           QStringLiteral("/nonexistent/s.npy")}
            << QStringList{QStringLiteral("/nonexistent/s.npy")};
        QTest::newRow("per-channel activations")
            << QStringList{QStringLiteral("eval"),          demo("digits_mlp.onnx"),
                           QStringLiteral("--samples"),     test,
                           QStringLiteral("--granularity"), QStringLiteral("channel")}
            << QStringList{QStringLiteral("--granularity")};
    }

    void badInputIsExitCodeOne() {
        QFETCH(QStringList, arguments);
        QFETCH(QStringList, expected);
        QTemporaryDir dir;
        // "@wrong": 3 samples of 8 values; "@empty": a 0 x 64 array.
        const QString wrong = dir.filePath(QStringLiteral("wrong.npy"));
        NpyWriter::writeFloat32(wrong.toStdString(), {3, 8}, std::vector<float>(24, 0.25f));
        const QString empty = dir.filePath(QStringLiteral("empty.npy"));
        NpyWriter::writeFloat32(empty.toStdString(), {0, 64}, std::vector<float>());
        arguments.replaceInStrings(QStringLiteral("@wrong"), wrong);
        arguments.replaceInStrings(QStringLiteral("@empty"), empty);
        const Run run = runCli(arguments);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.startsWith(QLatin1String("quantscope-cli: error: ")), qPrintable(run.err));
        for (const auto& part : expected)
            QVERIFY2(run.err.contains(part), qPrintable(run.err));
        QVERIFY(run.out.isEmpty());
    }

    void opsListsEveryOpWithItsOpsets() {
        const Run run = runCli({QStringLiteral("ops"), QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject document = parseJson(run.out);
        QCOMPARE(document.value(QLatin1String("domain")).toString(), QString());
        std::map<QString, std::pair<int, int>> ranges;
        for (const auto& value : document.value(QLatin1String("ops")).toArray()) {
            const QJsonObject op = value.toObject();
            ranges[op.value(QLatin1String("op")).toString()] = {op.value(QLatin1String("since")).toInt(),
                                                                op.value(QLatin1String("until")).toInt()};
        }
        QVERIFY(ranges.size() >= 100);
        // Opset ranges from the ONNX operator changelog, clipped to the executor's 7..21.
        QCOMPARE(ranges[QStringLiteral("Conv")], std::make_pair(7, 21));
        QCOMPARE(ranges[QStringLiteral("Upsample")], std::make_pair(7, 9)); // deprecated by Resize at 10
        QCOMPARE(ranges[QStringLiteral("Resize")], std::make_pair(10, 21));
        QCOMPARE(ranges[QStringLiteral("Gelu")], std::make_pair(20, 21));
        QCOMPARE(ranges[QStringLiteral("LayerNormalization")], std::make_pair(17, 21));
        QCOMPARE(ranges[QStringLiteral("HardSwish")], std::make_pair(14, 21));
        QVERIFY(!ranges.count(QStringLiteral("Loop")));

        const Run table = runCli({QStringLiteral("ops")});
        QCOMPARE(table.exitCode, 0);
        QVERIFY2(table.out.contains(QLatin1String("opsets 7 to 21")), qPrintable(table.out));
        QCOMPARE(runCli({QStringLiteral("ops"), QStringLiteral("extra")}).exitCode, 2);
    }

    // bench-model --profile times the static integer pipeline's steps too: every op of the
    // ResNet-18 shape under its int8 name (the Conv's kernel shape beside it), the Relu after each
    // Conv folded into the GEMM, the one after each residual Add a table of its own.
    void benchModelProfilesTheStaticPipeline() {
        const Run run =
            runCli({QStringLiteral("bench-model"), QStringLiteral("--model"), QStringLiteral("resnet18"),
                    QStringLiteral("--resolution"), QStringLiteral("32"), QStringLiteral("--batch"),
                    QStringLiteral("1"), QStringLiteral("--min-time"), QStringLiteral("0"),
                    QStringLiteral("--profile"), QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject result = resultOf(parseJson(run.out), "static");
        QStringList calls; // "op: calls per run", sorted, so a failure shows both lists
        for (const auto& op : result.value(QLatin1String("profile")).toArray()) {
            const QJsonObject entry = op.toObject();
            calls.append(entry.value(QLatin1String("op")).toString() + QStringLiteral(": ") +
                         QString::number(entry.value(QLatin1String("calls_per_run")).toInt()));
            QVERIFY(entry.value(QLatin1String("ms_per_run")).toDouble() >= 0.0);
        }
        calls.sort();
        const QStringList expected{QStringLiteral("Add (int8): 8"),
                                   QStringLiteral("Conv 1x1 (int8): 3"),
                                   QStringLiteral("Conv 3x3 (int8): 16"),
                                   QStringLiteral("Conv 7x7 (int8): 1"),
                                   QStringLiteral("Flatten (int8): 1"),
                                   QStringLiteral("Gemm (int8): 1"),
                                   QStringLiteral("GlobalAveragePool (int8): 1"),
                                   QStringLiteral("MaxPool (int8): 1"),
                                   QStringLiteral("Relu (fused): 9"),
                                   QStringLiteral("Relu (int8): 8")};
        QCOMPARE(calls, expected);
    }

    // bench-model's BERT shape takes its sequence length and layer count: --seq 1 (a decoding step)
    // runs every mode and records the shape; values out of range are refused naming the option and
    // the allowed range.
    void benchModelBertShapeOptions() {
        const Run run = runCli({QStringLiteral("bench-model"), QStringLiteral("--model"),
                                QStringLiteral("bert"), QStringLiteral("--seq"), QStringLiteral("1"),
                                QStringLiteral("--layers"), QStringLiteral("1"), QStringLiteral("--batch"),
                                QStringLiteral("1"), QStringLiteral("--min-time"), QStringLiteral("0"),
                                QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject document = parseJson(run.out);
        QStringList modes;
        for (const auto& value : document.value(QLatin1String("results")).toArray()) {
            const QJsonObject entry = value.toObject();
            modes.append(entry.value(QLatin1String("mode")).toString());
            QCOMPARE(entry.value(QLatin1String("sequence")).toInt(), 1);
            QCOMPARE(entry.value(QLatin1String("layers")).toInt(), 1);
            QVERIFY(entry.value(QLatin1String("throughput_sps")).toDouble() > 0.0);
        }
        QCOMPARE(modes, (QStringList{QStringLiteral("fp32"), QStringLiteral("static"),
                                     QStringLiteral("dynamic"), QStringLiteral("weight-only-int4")}));

        const struct {
            const char* option;
            const char* value;
            const char* message;
        } refused[] = {{"--seq", "0", "--seq: 0 is out of range (allowed: 1..512)"},
                       {"--seq", "513", "--seq: 513 is out of range (allowed: 1..512)"},
                       {"--seq", "8x", "--seq: '8x' is not a whole number (allowed: 1..512)"},
                       {"--layers", "0", "--layers: 0 is out of range (allowed: 1..24)"},
                       {"--layers", "25", "--layers: 25 is out of range (allowed: 1..24)"}};
        for (const auto& bad : refused) {
            const Run error =
                runCli({QStringLiteral("bench-model"), QStringLiteral("--model"), QStringLiteral("bert"),
                        QLatin1String(bad.option), QLatin1String(bad.value)});
            QCOMPARE(error.exitCode, 1);
            QVERIFY2(error.err.contains(QLatin1String(bad.message)), qPrintable(error.err));
        }
        const Run help = runCli({QStringLiteral("bench-model"), QStringLiteral("--help")});
        QVERIFY2(help.out.contains(QLatin1String("--seq")) && help.out.contains(QLatin1String("--layers")),
                 qPrintable(help.out));
    }

    void usageErrorsAreExitCodeTwo() {
        QCOMPARE(runCli({QStringLiteral("eval"), demo("digits_mlp.onnx")}).exitCode, 2); // no --samples
        QCOMPARE(runCli({QStringLiteral("eval")}).exitCode, 2);
        // A setting out of range is refused like every bad setting: exit 1, the option named.
        const Run zeroBatch =
            runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                    demo("digits_test.npy"), QStringLiteral("--batch-size"), QStringLiteral("0")});
        QCOMPARE(zeroBatch.exitCode, 1);
        QVERIFY(zeroBatch.err.contains(QLatin1String("--batch-size")));
    }
};

QTEST_GUILESS_MAIN(TestModelCli)
#include "tst_model_cli.moc"
