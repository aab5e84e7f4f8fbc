// quantscope-cli on hostile inputs and outputs: each ends with exit code 1 and
// "quantscope-cli: error: <file>: <what is wrong>" (or a correct result), never a signal or a hang.
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/NpyWriter.h"

#include "CliRunner.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <sys/stat.h>

using namespace quantscope;

namespace {

QString demo(const char* name) {
    return QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/") + QLatin1String(name);
}
QString hardening(const char* name) {
    return QStringLiteral(QUANTSCOPE_TEST_DATA "/hardening/") + QLatin1String(name);
}

// Three samples for the [N, 4] input of the hardening models.
QString writeSamples(const QTemporaryDir& dir) {
    const QString path = dir.filePath(QStringLiteral("samples.npy"));
    const std::vector<float> values{0.5f,  -1.0f, 2.0f,  0.25f, 1.0f,  1.5f,
                                    -0.5f, 0.0f,  -2.0f, 0.75f, 1.25f, -0.25f};
    NpyWriter::writeFloat32(path.toStdString(), {3, 4}, values);
    return path;
}

QStringList entriesOf(const QTemporaryDir& dir) {
    return QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    file.open(QIODevice::ReadOnly);
    return file.readAll();
}

// The run failed as a script expects: exit code 1, one error line naming `subject`, with `detail`.
void expectError(const CliRun& run, const QString& subject, const QString& detail) {
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.startsWith(QStringLiteral("quantscope-cli: error: ") + subject), qPrintable(run.err));
    QVERIFY2(run.err.contains(detail), qPrintable(run.err));
}

} // namespace

class TestHardeningCli : public QObject {
    Q_OBJECT

private slots:
    // A graph listing one output twice crashed eval (SIGSEGV) in every mode.
    void duplicateGraphOutputIsRefusedInEveryMode_data() {
        QTest::addColumn<QString>("mode");
        for (const char* mode : {"fp32", "static", "dynamic", "weight-only"})
            QTest::newRow(mode) << QString::fromLatin1(mode);
    }

    void duplicateGraphOutputIsRefusedInEveryMode() {
        QFETCH(QString, mode);
        QTemporaryDir dir;
        const QString model = hardening("duplicate_graph_output.onnx");
        const CliRun run = runCli({QStringLiteral("eval"), model, QStringLiteral("--samples"),
                                   writeSamples(dir), QStringLiteral("--mode"), mode});
        expectError(run, model, QStringLiteral("graph output 'y' is listed twice"));
    }

    void duplicateGraphOutputIsRefusedByCalibrate() {
        QTemporaryDir dir;
        const QString model = hardening("duplicate_graph_output.onnx");
        const QString json = dir.filePath(QStringLiteral("out.json"));
        const CliRun run = runCli({QStringLiteral("calibrate"), model, QStringLiteral("--samples"),
                                   writeSamples(dir), QStringLiteral("--json"), json});
        expectError(run, model, QStringLiteral("graph output 'y' is listed twice"));
        QVERIFY(!QFileInfo::exists(json));
    }

    void valueProducedTwiceIsRefused() {
        QTemporaryDir dir;
        const QString model = hardening("value_produced_twice.onnx");
        const CliRun run = runCli({QStringLiteral("eval"), model, QStringLiteral("--samples"),
                                   writeSamples(dir), QStringLiteral("--mode"), QStringLiteral("fp32")});
        expectError(run, model,
                    QStringLiteral("value 'h' is produced twice (again by node 'relu_again' (Relu))"));
    }

    // Convs whose attributes disagree with their weights, and a node listing an output its op does
    // not produce: refused in every mode, the quantized (integer) layers included.
    void mismatchedLayersAreRefusedInEveryMode_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("expected");
        for (const char* mode : {"fp32", "static", "dynamic", "weight-only"}) {
            const QString m = QString::fromLatin1(mode);
            QTest::addRow("kernel %s", mode)
                << QStringLiteral("conv_kernel_mismatch.onnx") << m
                << QStringLiteral("node 'conv' (Conv): kernel_shape disagrees with the weights [2, 1, 3, 3]");
            QTest::addRow("bias %s", mode) << QStringLiteral("conv_bias_mismatch.onnx") << m
                                           << QStringLiteral("node 'conv' (Conv): bias needs 2 values");
            QTest::addRow("conv outputs %s", mode)
                << QStringLiteral("conv_two_outputs.onnx") << m
                << QStringLiteral("node 'conv' (Conv): produces 1 outputs, the graph expects 2");
            QTest::addRow("matmul outputs %s", mode)
                << QStringLiteral("matmul_two_outputs.onnx") << m
                << QStringLiteral("node 'mm' (MatMul): produces 1 outputs, the graph expects 2");
        }
    }

    void mismatchedLayersAreRefusedInEveryMode() {
        QFETCH(QString, file);
        QFETCH(QString, mode);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString samples = dir.filePath(QStringLiteral("samples.npy"));
        if (file.startsWith(QLatin1String("conv"))) {
            std::vector<float> values(32);
            for (std::size_t i = 0; i < values.size(); ++i)
                values[i] = static_cast<float>(i % 7) - 3.0f;
            NpyWriter::writeFloat32(samples.toStdString(), {2, 1, 4, 4}, values);
        } else {
            writeSamples(dir);
        }
        const CliRun run = runCli({QStringLiteral("eval"), hardening(file.toLatin1().constData()),
                                   QStringLiteral("--samples"), samples, QStringLiteral("--mode"), mode});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.startsWith(QStringLiteral("quantscope-cli: error: ")), qPrintable(run.err));
        QVERIFY2(run.err.contains(expected), qPrintable(run.err));
    }

    // A FIFO as --params or --samples blocked forever; /dev/zero as --params grew to gigabytes.
    void fifoAndDeviceInputsAreRefused() {
        QTemporaryDir dir;
        const QString fifo = dir.filePath(QStringLiteral("pipe"));
        QVERIFY(::mkfifo(fifo.toLocal8Bit().constData(), 0600) == 0);
        const QString notRegular = QStringLiteral("is not a regular file (it is a FIFO)");
        expectError(runCli({QStringLiteral("analyze"), demo("digits_mlp.safetensors"),
                            QStringLiteral("--params"), fifo}),
                    fifo, notRegular);
        expectError(runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                            fifo, QStringLiteral("--mode"), QStringLiteral("fp32")}),
                    fifo, notRegular);
        expectError(runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                            demo("digits_test.npy"), QStringLiteral("--params"), fifo,
                            QStringLiteral("--mode"), QStringLiteral("static")}),
                    fifo, notRegular);
        expectError(runCli({QStringLiteral("info"), fifo}), fifo, notRegular);
        expectError(runCli({QStringLiteral("analyze"), demo("digits_mlp.safetensors"),
                            QStringLiteral("--params"), QStringLiteral("/dev/zero")}),
                    QStringLiteral("/dev/zero"),
                    QStringLiteral("is not a regular file (it is a character device)"));
    }

    // A failed quantize left its first output behind; now all outputs are written or none.
    void failedQuantizeLeavesNoOutput() {
        QTemporaryDir dir;
        const QString q = dir.filePath(QStringLiteral("q.npy"));
        const QString dq = dir.filePath(QStringLiteral("missing/dq.npy"));
        const QString json = dir.filePath(QStringLiteral("q.json"));
        const CliRun failed =
            runCli({QStringLiteral("quantize"), demo("digits_mlp.safetensors"), QStringLiteral("--tensor"),
                    QStringLiteral("fc1.weight"), QStringLiteral("--out-q"), q, QStringLiteral("--out-dq"),
                    dq, QStringLiteral("--json"), json});
        expectError(failed, dq, QStringLiteral("cannot create a temporary file beside it"));
        QCOMPARE(entriesOf(dir), QStringList());

        const QString dqHere = dir.filePath(QStringLiteral("dq.npy"));
        const CliRun run =
            runCli({QStringLiteral("quantize"), demo("digits_mlp.safetensors"), QStringLiteral("--tensor"),
                    QStringLiteral("fc1.weight"), QStringLiteral("--out-q"), q, QStringLiteral("--out-dq"),
                    dqHere, QStringLiteral("--json"), json});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(entriesOf(dir),
                 (QStringList{QStringLiteral("dq.npy"), QStringLiteral("q.json"), QStringLiteral("q.npy")}));
        QCOMPARE(NpyReader(q.toStdString()).tensors().front().elements, uint64_t(256 * 64));
        QCOMPARE(NpyReader(dqHere.toStdString()).tensors().front().elements, uint64_t(256 * 64));
    }

    // --json through a symlink writes the link's target and leaves the link a link.
    void jsonIsWrittenThroughASymlink() {
        QTemporaryDir dir;
        const QString target = dir.filePath(QStringLiteral("target.json"));
        const QString link = dir.filePath(QStringLiteral("link.json"));
        QFile old(target);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("old");
        old.close();
        QVERIFY(QFile::link(target, link));
        const CliRun run =
            runCli({QStringLiteral("info"), demo("digits_mlp.safetensors"), QStringLiteral("--json"), link});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(QFileInfo(link).isSymLink());
        const QJsonObject document = QJsonDocument::fromJson(readAll(target)).object();
        QCOMPARE(document[QLatin1String("format")].toString(), QStringLiteral("safetensors"));
        QCOMPARE(entriesOf(dir), (QStringList{QStringLiteral("link.json"), QStringLiteral("target.json")}));
    }

    // --json /dev/full reported success (and, as root, replaced the device by a regular file).
    void fullDeviceAsJsonIsAnError() {
        struct stat before {};
        if (::stat("/dev/full", &before) != 0 || !S_ISCHR(before.st_mode))
            QSKIP("this system has no /dev/full character device");
        const CliRun run = runCli({QStringLiteral("info"), demo("digits_mlp.safetensors"),
                                   QStringLiteral("--json"), QStringLiteral("/dev/full")});
        expectError(run, QStringLiteral("/dev/full"), QStringLiteral("cannot write: "));
        struct stat after {};
        QVERIFY(::lstat("/dev/full", &after) == 0);
        QVERIFY(S_ISCHR(after.st_mode));
        QCOMPARE(after.st_rdev, before.st_rdev);
    }

    // The document's source sha256 is the file's digest (checked with Qt's own SHA-256).
    void analyzeJsonRecordsTheSourceDigest() {
        QTemporaryDir dir;
        const QString json = dir.filePath(QStringLiteral("a.json"));
        const QString weights = demo("digits_mlp.safetensors");
        const CliRun run = runCli({QStringLiteral("analyze"), weights, QStringLiteral("--tensor"),
                                   QStringLiteral("fc2.bias"), QStringLiteral("--json"), json});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject source =
            QJsonDocument::fromJson(readAll(json)).object()[QLatin1String("source")].toObject();
        const QByteArray expected =
            QCryptographicHash::hash(readAll(weights), QCryptographicHash::Sha256).toHex();
        QCOMPARE(source[QLatin1String("sha256")].toString().toLatin1(), expected);
        QCOMPARE(source[QLatin1String("bytes")].toInteger(), QFileInfo(weights).size());
    }
};

QTEST_GUILESS_MAIN(TestHardeningCli)
#include "tst_hardening_cli.moc"
