// convert, conventions and export-qdq as scripts use them: outputs, reports, exit codes, messages.
#include "CliRunner.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

namespace {

QString data(const QString& name) {
    return QStringLiteral(QUANTSCOPE_TEST_DATA "/interop/") + name;
}

QString data(const char* name) {
    return data(QString::fromLatin1(name));
}

QByteArray readBytes(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

} // namespace

class TestInteropCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private slots:
    void convertWritesTheTargetAndReportsWhatItDropped() {
        const QString out = m_dir.filePath(QStringLiteral("cache.txt"));
        const QString report = m_dir.filePath(QStringLiteral("report.json"));
        const CliRun run = runCli({QStringLiteral("convert"), data("small.aimet-2.json"),
                                   QStringLiteral("--to"), QStringLiteral("trt-cache"),
                                   QStringLiteral("--out"), out, QStringLiteral("--json"), report});
        QCOMPARE(run.exitCode, 0);
        // Only the int8 per-tensor... none of aimet-2's small case fits: uint8, per-channel, int4, int16.
        QCOMPARE(readBytes(out), QByteArray("TRT-8601-EntropyCalibration2\n"));
        QVERIFY(run.err.contains(QLatin1String("not written: conv.weight: per-channel")));
        const QJsonObject json = QJsonDocument::fromJson(readBytes(report)).object();
        QCOMPARE(json.value(QLatin1String("from")).toString(), QStringLiteral("aimet-2"));
        QCOMPARE(json.value(QLatin1String("entries_read")).toInt(), 4);
        QCOMPARE(json.value(QLatin1String("entries_written")).toInt(), 0);
        QCOMPARE(json.value(QLatin1String("not_expressed")).toArray().size(), 4);
    }

    void convertBackAndForthKeepsTheCache() {
        const QString aimet = m_dir.filePath(QStringLiteral("trt.aimet-2.json"));
        const QString cache = m_dir.filePath(QStringLiteral("again.trt-cache"));
        QCOMPARE(runCli({QStringLiteral("convert"), data("small.trt-cache"), QStringLiteral("--to"),
                         QStringLiteral("aimet-2"), QStringLiteral("--out"), aimet})
                     .exitCode,
                 0);
        const CliRun run = runCli({QStringLiteral("convert"), aimet, QStringLiteral("--to"),
                                   QStringLiteral("trt-cache"), QStringLiteral("--out"), cache});
        QCOMPARE(run.exitCode, 0);
        // aimet-2 has no narrow-range flag: the cache says level -128 is unused, and keeps each scale.
        QCOMPARE(readBytes(cache), readBytes(data("small.trt-cache")));
    }

    void convertErrors() {
        const QString out = m_dir.filePath(QStringLiteral("never.json"));
        CliRun run = runCli({QStringLiteral("convert"), data("small.trt-cache"), QStringLiteral("--to"),
                             QStringLiteral("onnx"), QStringLiteral("--out"), out});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.startsWith(QLatin1String("quantscope-cli: error: --to: unknown format 'onnx'")),
                 qPrintable(run.err));
        run = runCli({QStringLiteral("convert"), data("small.trt-cache"), QStringLiteral("--out"), out});
        QCOMPARE(run.exitCode, 2);
        // A file read as the wrong format names the file and what it expected.
        run = runCli({QStringLiteral("convert"), data("small.trt-cache"), QStringLiteral("--from"),
                      QStringLiteral("aimet"), QStringLiteral("--to"), QStringLiteral("qparams"),
                      QStringLiteral("--out"), out});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(data("small.trt-cache") + QLatin1String(": not valid JSON")),
                 qPrintable(run.err));
        QVERIFY(!QFile::exists(out));
        // With --model, an entry that names no tensor of the model is an error naming both.
        run = runCli({QStringLiteral("convert"), data("small.trt-cache"), QStringLiteral("--to"),
                      QStringLiteral("qparams"), QStringLiteral("--out"), out, QStringLiteral("--model"),
                      QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_cnn.onnx")});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(
            run.err.contains(QLatin1String("small.trt-cache: entry 'conv1/Relu:0': matches no tensor of ")),
            qPrintable(run.err));
        QVERIFY(!QFile::exists(out));
        // The demo CNN's own parameters all match it.
        run = runCli({QStringLiteral("convert"), data("digits_cnn.qparams.json"), QStringLiteral("--to"),
                      QStringLiteral("aimet-1"), QStringLiteral("--out"), out, QStringLiteral("--model"),
                      QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_cnn.onnx")});
        QCOMPARE(run.exitCode, 0);
    }

    void conventionsTableAndJson() {
        const QString weights =
            QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_mlp.safetensors");
        const CliRun table =
            runCli({QStringLiteral("conventions"), weights, QStringLiteral("--tensor"),
                    QStringLiteral("fc1.weight"), QStringLiteral("--scheme"), QStringLiteral("symmetric")});
        QCOMPARE(table.exitCode, 0);
        for (const char* toolchain : {"PyTorch", "ONNX Runtime", "TensorRT", "AIMET TF", "AIMET TF-enhanced",
                                      "TFLite", "llama.cpp Q8_0", "llama.cpp Q4_0"})
            QVERIFY2(table.out.contains(QLatin1String(toolchain)), toolchain);
        const CliRun json =
            runCli({QStringLiteral("conventions"), weights, QStringLiteral("--tensor"),
                    QStringLiteral("fc1.weight"), QStringLiteral("--scheme"), QStringLiteral("symmetric"),
                    QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(json.exitCode, 0);
        const QJsonArray rows =
            QJsonDocument::fromJson(json.out.toUtf8()).object().value(QLatin1String("toolchains")).toArray();
        QCOMPARE(rows.size(), 8);
        // TensorRT's symmetric range is [-127, 127] where PyTorch's qint8 has [-128, 127].
        QVERIFY(rows[2]
                    .toObject()
                    .value(QLatin1String("differs_from_pytorch"))
                    .toArray()
                    .contains(QStringLiteral("range")));
        const CliRun bad = runCli(
            {QStringLiteral("conventions"), weights, QStringLiteral("--tensor"), QStringLiteral("nope")});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY(bad.err.contains(QLatin1String("nope: no such tensor")));
    }

    void exportQdqWritesTheCheckedModel_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("stem");
        QTest::addColumn<bool>("checked"); // onnx.checker ran (opset 21 needs onnx >= 1.16)
        QTest::newRow("cnn int8 (opset 13)")
            << QStringLiteral("digits_cnn.onnx") << QStringLiteral("digits_cnn") << true;
        QTest::newRow("mlp int4 blocked (opset 21)")
            << QStringLiteral("digits_mlp.onnx") << QStringLiteral("digits_mlp_int4")
            << QFileInfo::exists(data("digits_mlp_int4_qdq.checker.txt"));
    }

    void exportQdqWritesTheCheckedModel() {
        // tools/make_interop_test_data.py ran onnx.checker (full check) on the committed model; the
        // exporter must still write exactly those bytes from the committed parameters.
        QFETCH(QString, model);
        QFETCH(QString, stem);
        QFETCH(bool, checked);
        const QString out = m_dir.filePath(stem + QStringLiteral("_qdq.onnx"));
        const CliRun run = runCli({QStringLiteral("export-qdq"),
                                   QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/") + model,
                                   QStringLiteral("--params"), data(stem + QStringLiteral(".qparams.json")),
                                   QStringLiteral("--out"), out});
        QCOMPARE(run.exitCode, 0);
        const QByteArray written = readBytes(out);
        QVERIFY(!written.isEmpty());
        QCOMPARE(written, readBytes(data(stem + QStringLiteral("_qdq.onnx"))));
        if (checked)
            QVERIFY(readBytes(data(stem + QStringLiteral("_qdq.checker.txt")))
                        .startsWith("onnx.checker.check_model(full_check=True): passed"));
    }
};

QTEST_GUILESS_MAIN(TestInteropCli)
#include "tst_interop_cli.moc"
