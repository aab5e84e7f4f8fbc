// Calibration and evaluation samples from a folder of images (decoded with QImage at the app edge).
#include "quantscope/model/SampleSet.h"

#include "CliRunner.h"

#include <QtTest>

#include <QImage>

using namespace quantscope;

namespace {

using Run = CliRun;

QString demo(const char* name) { return QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/") + QLatin1String(name); }

void writeSidecar(const QString& folder, const QByteArray& json) {
    QFile file(QDir(folder).filePath(QStringLiteral("quantscope-images.json")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(json);
}

} // namespace

class TestImageSamples : public QObject {
    Q_OBJECT

private slots:
    // The first 60 test digits written as 8x8 grey PNGs in folders named by their label classify
    // exactly as the .npy samples do (pixel / 255 restores the 0..1 values to within 1/510).
    void digitsFromPngFolderMatchTheArrays() {
        const SampleSet samples = SampleSet::load(demo("digits_test.npy").toStdString());
        const auto labels = loadLabels(demo("digits_test_labels.npy").toStdString());
        QTemporaryDir dir;
        const int count = 60;
        for (int i = 0; i < count; ++i) {
            QImage image(8, 8, QImage::Format_Grayscale8);
            for (int y = 0; y < 8; ++y)
                for (int x = 0; x < 8; ++x) {
                    const float v = samples.values()[static_cast<std::size_t>(i * 64 + y * 8 + x)];
                    image.scanLine(y)[x] = static_cast<uchar>(std::lround(v * 255.0f));
                }
            const QString classFolder = dir.filePath(QString::number(labels[static_cast<std::size_t>(i)]));
            QDir().mkpath(classFolder);
            QVERIFY(image.save(QDir(classFolder).filePath(QStringLiteral("img%1.png").arg(i, 3, 10, QLatin1Char('0')))));
        }
        writeSidecar(dir.path(), R"({"width": 8, "height": 8, "channels": 1, "scale": 0.00392156862745098})");

        const Run run = runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"), dir.path(),
                                QStringLiteral("--labels"), dir.path(), QStringLiteral("--mode"), QStringLiteral("fp32"),
                                QStringLiteral("--min-time"), QStringLiteral("0"), QStringLiteral("--json"),
                                QStringLiteral("-")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonObject document = QJsonDocument::fromJson(run.out.toUtf8()).object();
        const QJsonObject fp32 = document[QLatin1String("results")].toArray()[0].toObject();
        QCOMPARE(fp32[QLatin1String("mode")].toString(), QStringLiteral("fp32"));
        // The 60 digits classify as well from PNGs as the model does on the arrays (97.6 %).
        QVERIFY(fp32[QLatin1String("accuracy")].toDouble() >= 0.95);
        QCOMPARE(document[QLatin1String("samples")].toString(), dir.path());
    }

    void missingSidecarAndBadImagesAreClearErrors() {
        QTemporaryDir dir;
        QImage image(4, 4, QImage::Format_Grayscale8);
        image.fill(10);
        QVERIFY(image.save(dir.filePath(QStringLiteral("a.png"))));
        Run run = runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"), dir.path()});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(QLatin1String("needs a sidecar quantscope-images.json")), qPrintable(run.err));

        writeSidecar(dir.path(), R"({"width": 0, "height": 8})");
        run = runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"), dir.path()});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(QLatin1String("'width' must be a whole number in 1..4096")), qPrintable(run.err));

        writeSidecar(dir.path(), R"({"width": 8, "height": 8})");
        QFile broken(dir.filePath(QStringLiteral("b.png")));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("not a png");
        broken.close();
        run = runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"), dir.path()});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(QLatin1String("b.png: cannot be decoded as an image")), qPrintable(run.err));

        // Images at the top level have no label.
        QFile::remove(dir.filePath(QStringLiteral("b.png")));
        run = runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"), dir.path(),
                      QStringLiteral("--labels"), dir.path(), QStringLiteral("--mode"), QStringLiteral("fp32")});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(QLatin1String("not in a sub-folder named by its class number")), qPrintable(run.err));
    }
};

QTEST_MAIN(TestImageSamples)
#include "tst_image_samples.moc"
