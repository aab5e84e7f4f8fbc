// quantscope-cli as scripts use it: exit codes, messages, JSON, --params round trips, outputs.
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/NpyWriter.h"
#include "quantscope/io/WeightFile.h"

#include "CliRunner.h"

#include <QtTest>

#include <cstring>

using namespace quantscope;

namespace {

using Run = CliRun;

QString demoWeights() {
    return QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_mlp.safetensors");
}

QJsonObject parseJson(const QString& text) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("JSON error: %s", qPrintable(error.errorString()));
    return document.object();
}

QString readText(const QString& path) {
    QFile file(path);
    file.open(QIODevice::ReadOnly);
    return QString::fromUtf8(file.readAll());
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void infoListsTensors() {
        const Run run = runCli({QStringLiteral("info"), demoWeights()});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains(QLatin1String("fc1.weight")));
        QVERIFY(run.out.contains(QLatin1String("[256, 64]")));
        QVERIFY(run.err.isEmpty());

        const Run json =
            runCli({QStringLiteral("info"), demoWeights(), QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(json.exitCode, 0);
        const QJsonObject document = parseJson(json.out);
        QCOMPARE(document[QLatin1String("format")].toString(), QStringLiteral("safetensors"));
        const QJsonArray tensors = document[QLatin1String("tensors")].toArray();
        QCOMPARE(tensors.size(), 6);
        const QJsonObject first = tensors[0].toObject();
        QCOMPARE(first[QLatin1String("name")].toString(), QStringLiteral("fc1.weight"));
        QCOMPARE(first[QLatin1String("dtype")].toString(), QStringLiteral("F32"));
        QCOMPARE(first[QLatin1String("elements")].toInt(), 16384);
        QCOMPARE(first[QLatin1String("bytes")].toInt(), 65536);
        QCOMPARE(first[QLatin1String("shape")].toArray(), (QJsonArray{256, 64}));
    }

    void analyzeMatchesTheCoreAndParamsRoundTrip() {
        QTemporaryDir dir;
        const QString first = dir.filePath(QStringLiteral("first.json"));
        const QString second = dir.filePath(QStringLiteral("second.json"));
        const Run run = runCli({QStringLiteral("analyze"), demoWeights(), QStringLiteral("--scheme"),
                                QStringLiteral("symmetric"), QStringLiteral("--granularity"),
                                QStringLiteral("channel"), QStringLiteral("--json"), first});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject document = parseJson(readText(first));
        QCOMPARE(document[QLatin1String("format")].toString(), QStringLiteral("quantscope-qparams"));
        QCOMPARE(document[QLatin1String("version")].toInt(), 1);
        const QJsonObject fc1 = document[QLatin1String("tensors")].toArray()[0].toObject();
        QCOMPARE(fc1[QLatin1String("scale")].toArray().size(), 256);

        // The same numbers as the core computes for that tensor.
        const auto file = openWeightFile(demoWeights().toStdString());
        QuantSpec spec;
        spec.scheme = Scheme::Symmetric;
        spec.granularity = Granularity::Channel;
        const TensorAnalysis analysis = analyzeTensor(file->load("fc1.weight"), spec);
        QCOMPARE(static_cast<float>(fc1[QLatin1String("scale")].toArray()[17].toDouble()),
                 analysis.params.scale[17]);
        QCOMPARE(fc1[QLatin1String("metrics")].toObject()[QLatin1String("levels_used")].toInt(),
                 static_cast<int>(analysis.metrics.levelsUsed));

        // Applying the exported parameters (with other options on the command line) gives the same document.
        const Run again = runCli({QStringLiteral("analyze"), demoWeights(), QStringLiteral("--dtype"),
                                  QStringLiteral("uint4"), QStringLiteral("--params"), first,
                                  QStringLiteral("--json"), second});
        QCOMPARE(again.exitCode, 0);
        QCOMPARE(readText(second), readText(first));
    }

    void quantizeWritesNarrowestNpy() {
        QTemporaryDir dir;
        const QString q = dir.filePath(QStringLiteral("q.npy"));
        const QString dq = dir.filePath(QStringLiteral("dq.npy"));
        const Run run =
            runCli({QStringLiteral("quantize"), demoWeights(), QStringLiteral("--tensor"),
                    QStringLiteral("fc2.weight"), QStringLiteral("--dtype"), QStringLiteral("uint8"),
                    QStringLiteral("--out-q"), q, QStringLiteral("--out-dq"), dq});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains(QLatin1String("fc2.weight")));
        const auto qFile = openWeightFile(q.toStdString());
        QCOMPARE(qFile->tensors()[0].dtype, DType::U8);
        QCOMPARE(qFile->tensors()[0].shape, (std::vector<int64_t>{128, 256}));

        QuantSpec spec;
        spec.format = QuantFormat::parse("uint8");
        AnalysisOptions options;
        options.keepIntegers = true;
        options.keepDequantized = true;
        const TensorAnalysis expected =
            analyzeTensor(openWeightFile(demoWeights().toStdString())->load("fc2.weight"), spec, options);
        const Tensor integers = qFile->load("q");
        for (int64_t i = 0; i < integers.size(); ++i)
            QCOMPARE(static_cast<int32_t>(integers.values()[static_cast<std::size_t>(i)]),
                     expected.integers[static_cast<std::size_t>(i)]);
        const Tensor dequantized = openWeightFile(dq.toStdString())->load("dq");
        QVERIFY(std::memcmp(dequantized.values().data(), expected.dequantized.data(),
                            expected.dequantized.size() * sizeof(float)) == 0);

        // Signed 4-bit integers fit int8.
        QVERIFY(runCli({QStringLiteral("quantize"), demoWeights(), QStringLiteral("--tensor"),
                        QStringLiteral("fc1.weight"), QStringLiteral("--dtype"), QStringLiteral("int4"),
                        QStringLiteral("--out-q"), q})
                    .exitCode == 0);
        QCOMPARE(openWeightFile(q.toStdString())->tensors()[0].dtype, DType::I8);
    }

    void badInputIsAClearError_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        const QString demo = demoWeights();
        const QString analyze = QStringLiteral("analyze");
        QTest::newRow("missing file")
            << QStringList{analyze, QStringLiteral("/nonexistent/w.safetensors")} << 1
            << QStringLiteral("quantscope-cli: error: /nonexistent/w.safetensors:");
        QTest::newRow("bits 1") << QStringList{analyze, demo, QStringLiteral("--bits"), QStringLiteral("1")}
                                << 1 << QStringLiteral("error: --bits: 1 is out of range (allowed: 2..16)");
        QTest::newRow("bits 17") << QStringList{analyze, demo, QStringLiteral("--dtype"),
                                                QStringLiteral("int17")}
                                 << 1 << QStringLiteral("error: --dtype: bit width 17");
        QTest::newRow("group size 0") << QStringList{analyze,
                                                     demo,
                                                     QStringLiteral("--granularity"),
                                                     QStringLiteral("group"),
                                                     QStringLiteral("--group-size"),
                                                     QStringLiteral("0")}
                                      << 1 << QStringLiteral("error: --group-size: 0 is out of range");
        QTest::newRow("axis past rank") << QStringList{analyze,
                                                       demo,
                                                       QStringLiteral("--tensor"),
                                                       QStringLiteral("fc1.bias"),
                                                       QStringLiteral("--granularity"),
                                                       QStringLiteral("channel"),
                                                       QStringLiteral("--axis"),
                                                       QStringLiteral("1")}
                                        << 1 << QStringLiteral("fc1.bias: --axis: axis 1 is past the rank");
        QTest::newRow("percentile 0")
            << QStringList{analyze, demo, QStringLiteral("--percentile"), QStringLiteral("0")} << 1
            << QStringLiteral("error: --percentile: percentile 0 is out of range");
        QTest::newRow("percentile 101")
            << QStringList{analyze, demo, QStringLiteral("--percentile"), QStringLiteral("101")} << 1
            << QStringLiteral("(allowed: above 0, at most 100)");
        QTest::newRow("unknown tensor")
            << QStringList{analyze, demo, QStringLiteral("--tensor"), QStringLiteral("nope")} << 1
            << QStringLiteral("digits_mlp.safetensors: nope: no such tensor");
        QTest::newRow("unknown scheme")
            << QStringList{analyze, demo, QStringLiteral("--scheme"), QStringLiteral("odd")} << 1
            << QStringLiteral("--scheme: unknown value 'odd' (allowed: affine, symmetric)");
        QTest::newRow("unknown option") << QStringList{analyze, demo, QStringLiteral("--frobnicate")} << 2
                                        << QStringLiteral("unknown option '--frobnicate'");
        QTest::newRow("unknown command") << QStringList{QStringLiteral("transmogrify")} << 2
                                         << QStringLiteral("unknown command 'transmogrify'");
        QTest::newRow("missing value") << QStringList{analyze, demo, QStringLiteral("--dtype")} << 2
                                       << QStringLiteral("option '--dtype' needs a value");
        QTest::newRow("quantize without tensor") << QStringList{QStringLiteral("quantize"), demo} << 2
                                                 << QStringLiteral("--tensor NAME is required");
        QTest::newRow("not a params file") << QStringList{analyze, demo, QStringLiteral("--params"), demo}
                                           << 1 << QStringLiteral("digits_mlp.safetensors: not valid JSON");
    }

    void badInputIsAClearError() {
        QFETCH(QStringList, arguments);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        const Run run = runCli(arguments);
        QCOMPARE(run.exitCode, exitCode);
        QVERIFY2(run.err.contains(message), qPrintable(run.err));
        QVERIFY(run.out.isEmpty());
    }

    void analyzingEveryTensorFallsBackPerTensorWhereTheAxisIsMissing() {
        const Run run = runCli({QStringLiteral("analyze"), demoWeights(), QStringLiteral("--granularity"),
                                QStringLiteral("channel"), QStringLiteral("--axis"), QStringLiteral("1"),
                                QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.contains(QLatin1String("note: fc1.bias has rank 1, no axis 1: analysed per tensor")),
                 qPrintable(run.err));
        const QJsonArray tensors = parseJson(run.out)[QLatin1String("tensors")].toArray();
        QCOMPARE(tensors.size(), 6);
        QCOMPARE(tensors[0].toObject()[QLatin1String("granularity")].toString(), QStringLiteral("channel"));
        QCOMPARE(tensors[0].toObject()[QLatin1String("scale")].toArray().size(), 64);
        QCOMPARE(tensors[1].toObject()[QLatin1String("granularity")].toString(), QStringLiteral("tensor"));
    }

    void failureLeavesExistingOutputUntouched() {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("out.json"));
        QFile file(out);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("old contents");
        file.close();
        const Run run = runCli({QStringLiteral("analyze"), demoWeights(), QStringLiteral("--tensor"),
                                QStringLiteral("missing"), QStringLiteral("--json"), out});
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(readText(out), QStringLiteral("old contents"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("out.json")});
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
