// Calibration and evaluation samples from a folder of images, decoded in core with stb_image.
// Test images are written with stb_image_write (the same Debian package), so no Qt Gui is linked.
#include "quantscope/Error.h"
#include "quantscope/model/SampleSet.h"
#include "quantscope/samples/ImageFolderSamples.h"
#include "quantscope/samples/SampleFiles.h"

#include "CliRunner.h"

#include <QtTest>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace quantscope;

namespace {

using Run = CliRun;

QString demo(const char* name) {
    return QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/") + QLatin1String(name);
}

void writeText(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

void writeSidecar(const QString& folder, const std::string& json) {
    writeText(QDir(folder).filePath(QStringLiteral("quantscope-images.json")).toStdString(), json);
}

// Writes an 8-bit PNG of `channels` interleaved values per pixel.
bool writePng(const QString& path, int width, int height, int channels, const std::vector<uint8_t>& pixels) {
    std::filesystem::create_directories(std::filesystem::path(path.toStdString()).parent_path());
    return stbi_write_png(path.toStdString().c_str(), width, height, channels, pixels.data(),
                          width * channels) != 0;
}

std::vector<uint8_t> fileBytes(const QString& path) {
    std::ifstream file(path.toStdString(), std::ios::binary);
    return {std::istreambuf_iterator<char>(file), {}};
}

// The message of the Error that loading `folder` throws ("" when it loads).
QString loadError(const QString& folder) {
    try {
        ImageFolderSamples::load(folder.toStdString());
    } catch (const Error& error) {
        return QString::fromStdString(error.what());
    }
    return {};
}

std::vector<float> valuesOf(const QString& folder) {
    const SampleSet samples = loadSampleFile(folder.toStdString());
    return {samples.values().begin(), samples.values().end()};
}

} // namespace

class TestSamplesImages : public QObject {
    Q_OBJECT

private slots:
    // Grey PNG values become (pixel * scale - mean) / std, row by row, exactly.
    void greyPngValuesAreNormalisedPixels() {
        QTemporaryDir dir;
        const std::vector<uint8_t> pixels{0, 51, 102, 153, 204, 255};
        QVERIFY(writePng(dir.filePath(QStringLiteral("a.png")), 3, 2, 1, pixels));
        writeSidecar(dir.path(), R"({"width": 3, "height": 2, "channels": 1, "scale": 0.00392156862745098,
                                    "mean": [0.5], "std": [0.25]})");
        const SampleSet samples = loadSampleFile(dir.path().toStdString());
        QCOMPARE(samples.count(), int64_t{1});
        QCOMPARE(samples.sampleShape(), (std::vector<int64_t>{1, 2, 3}));
        const float scale = static_cast<float>(0.00392156862745098);
        for (std::size_t i = 0; i < pixels.size(); ++i)
            QCOMPARE(samples.values()[i], (float(pixels[i]) * scale - 0.5f) / 0.25f);
        // 255 / 255 = 1 -> (1 - 0.5) / 0.25 = 2; 0 -> -2.
        QCOMPARE(samples.values()[0], -2.0f);
        QCOMPARE(samples.values()[5], 2.0f);
    }

    // RGB PNGs with channels 3 are laid out channel-major (C x H x W), each channel normalised
    // with its own mean and std.
    void rgbPngIsChannelMajor() {
        QTemporaryDir dir;
        // Two pixels: (10, 20, 30) and (40, 50, 60).
        QVERIFY(writePng(dir.filePath(QStringLiteral("a.png")), 2, 1, 3, {10, 20, 30, 40, 50, 60}));
        writeSidecar(dir.path(), R"({"width": 2, "height": 1, "channels": 3, "scale": 1, "mean": [0, 10, 20],
                                    "std": [1, 2, 4]})");
        QCOMPARE(valuesOf(dir.path()), (std::vector<float>{10, 40, (20 - 10) / 2.0f, (50 - 10) / 2.0f,
                                                           (30 - 20) / 4.0f, (60 - 20) / 4.0f}));
    }

    // Colour -> grey gives the values Qt 6.4's QImage::convertToFormat(Format_Grayscale8) gave
    // before images were decoded in core (values read from Qt 6.4.2: pure red 130, green 220,
    // blue 70; grey stays grey). A plain 0.299/0.587/0.114 mix would give 76, 150, 29.
    void colourToGreyMatchesTheQtValues() {
        QTemporaryDir dir;
        QVERIFY(writePng(dir.filePath(QStringLiteral("a.png")), 6, 1, 3,
                         {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 77, 77, 77}));
        writeSidecar(dir.path(), R"({"width": 6, "height": 1, "channels": 1, "scale": 1})");
        QCOMPARE(valuesOf(dir.path()), (std::vector<float>{130, 220, 70, 255, 0, 77}));
    }

    // A grey image asked for as RGB repeats its value in the three channels.
    void greyToRgbRepeatsTheValue() {
        QTemporaryDir dir;
        QVERIFY(writePng(dir.filePath(QStringLiteral("a.png")), 2, 1, 1, {7, 200}));
        writeSidecar(dir.path(), R"({"width": 2, "height": 1, "channels": 3, "scale": 1})");
        QCOMPARE(valuesOf(dir.path()), (std::vector<float>{7, 200, 7, 200, 7, 200}));
    }

    // Shrinking a 4x4 image of four constant 2x2 blocks to 2x2 gives the blocks' values; halving a
    // 4x1 ramp averages each pair (10, 30 -> 20; 50, 70 -> 60).
    void resizingAveragesTheCoveredPixels() {
        QTemporaryDir dir;
        QVERIFY(writePng(dir.filePath(QStringLiteral("a.png")), 4, 4, 1,
                         {10, 10, 90, 90, 10, 10, 90, 90, 40, 40, 250, 250, 40, 40, 250, 250}));
        writeSidecar(dir.path(), R"({"width": 2, "height": 2, "channels": 1, "scale": 1})");
        QCOMPARE(valuesOf(dir.path()), (std::vector<float>{10, 90, 40, 250}));

        QTemporaryDir ramp;
        QVERIFY(writePng(ramp.filePath(QStringLiteral("a.png")), 4, 1, 1, {10, 30, 50, 70}));
        writeSidecar(ramp.path(), R"({"width": 2, "height": 1, "channels": 1, "scale": 1})");
        QCOMPARE(valuesOf(ramp.path()), (std::vector<float>{20, 60}));
    }

    // JPEG decoders differ in their IDCT; a grey JPEG of a smooth ramp comes back within one level.
    void greyJpegIsWithinOneLevel() {
        QTemporaryDir dir;
        std::vector<uint8_t> pixels(16 * 16);
        for (int y = 0; y < 16; ++y)
            for (int x = 0; x < 16; ++x)
                pixels[static_cast<std::size_t>(y * 16 + x)] = static_cast<uint8_t>(64 + 4 * x + 2 * y);
        const std::string path = dir.filePath(QStringLiteral("a.jpg")).toStdString();
        QVERIFY(stbi_write_jpg(path.c_str(), 16, 16, 1, pixels.data(), 100) != 0);
        writeSidecar(dir.path(), R"({"width": 16, "height": 16, "channels": 1, "scale": 1})");
        const std::vector<float> values = valuesOf(dir.path());
        QCOMPARE(values.size(), pixels.size());
        for (std::size_t i = 0; i < pixels.size(); ++i)
            QVERIFY2(std::abs(values[i] - float(pixels[i])) <= 1.0f, qPrintable(QString::number(i)));
    }

    // Sorted path order; numbered sub-folders give labels; hidden files and other extensions are skipped.
    void labelsComeFromNumberedFolders() {
        QTemporaryDir dir;
        QVERIFY(writePng(dir.filePath(QStringLiteral("2/b.png")), 1, 1, 1, {20}));
        QVERIFY(writePng(dir.filePath(QStringLiteral("2/a.PNG")), 1, 1, 1, {10}));
        QVERIFY(writePng(dir.filePath(QStringLiteral("10/c.png")), 1, 1, 1, {30}));
        QVERIFY(writePng(dir.filePath(QStringLiteral("2/.hidden.png")), 1, 1, 1, {99}));
        writeText(dir.filePath(QStringLiteral("2/notes.txt")).toStdString(), "not an image");
        writeSidecar(dir.path(), R"({"width": 1, "height": 1, "scale": 1})");
        // "10/c.png" sorts before "2/a.PNG" and "2/b.png".
        QCOMPARE(valuesOf(dir.path()), (std::vector<float>{30, 10, 20}));
        QCOMPARE(loadLabelFile(dir.path().toStdString()), (std::vector<int64_t>{10, 2, 2}));
    }

    // The first 60 test digits written as 8x8 grey PNGs in folders named by their label classify
    // as the .npy samples do (pixel / 255 restores the 0..1 values to within 1/510).
    void digitsFromPngFolderMatchTheArrays() {
        const SampleSet samples = SampleSet::load(demo("digits_test.npy").toStdString());
        const auto labels = loadLabels(demo("digits_test_labels.npy").toStdString());
        QTemporaryDir dir;
        const int count = 60;
        for (int i = 0; i < count; ++i) {
            std::vector<uint8_t> pixels(64);
            for (std::size_t p = 0; p < 64; ++p)
                pixels[p] = static_cast<uint8_t>(
                    std::lround(samples.values()[static_cast<std::size_t>(i) * 64 + p] * 255.0f));
            const QString name = QStringLiteral("%1/img%2.png")
                                     .arg(labels[static_cast<std::size_t>(i)])
                                     .arg(i, 3, 10, QLatin1Char('0'));
            QVERIFY(writePng(dir.filePath(name), 8, 8, 1, pixels));
        }
        writeSidecar(dir.path(), R"({"width": 8, "height": 8, "channels": 1, "scale": 0.00392156862745098})");

        const std::vector<float> loaded = valuesOf(dir.path());
        QCOMPARE(loaded.size(), std::size_t{count * 64});

        const Run run = runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                                dir.path(), QStringLiteral("--labels"), dir.path(), QStringLiteral("--mode"),
                                QStringLiteral("fp32"), QStringLiteral("--min-time"), QStringLiteral("0"),
                                QStringLiteral("--json"), QStringLiteral("-")});
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
        QVERIFY(writePng(dir.filePath(QStringLiteral("a.png")), 4, 4, 1, std::vector<uint8_t>(16, 10)));
        Run run = runCli(
            {QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"), dir.path()});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(dir.path() +
                                  QLatin1String(": an image folder needs a sidecar quantscope-images.json")),
                 qPrintable(run.err));

        writeSidecar(dir.path(), R"({"width": 8, "height": 8})");
        writeText(dir.filePath(QStringLiteral("b.png")).toStdString(), "not a png");
        run = runCli(
            {QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"), dir.path()});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(dir.filePath(QStringLiteral("b.png")) +
                                  QLatin1String(": cannot be decoded as an image")),
                 qPrintable(run.err));

        // Images at the top level have no label.
        QFile::remove(dir.filePath(QStringLiteral("b.png")));
        run = runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                      dir.path(), QStringLiteral("--labels"), dir.path(), QStringLiteral("--mode"),
                      QStringLiteral("fp32")});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(QLatin1String("image 0 is not in a sub-folder named by its class number")),
                 qPrintable(run.err));
    }

    // Hostile images: each is a clear Error naming the file, never a crash or a huge allocation.
    void hostileImagesAreClearErrors() {
        QTemporaryDir dir;
        writeSidecar(dir.path(), R"({"width": 8, "height": 8})");
        std::vector<uint8_t> pixels(64 * 64);
        for (std::size_t i = 0; i < pixels.size(); ++i)
            pixels[i] = static_cast<uint8_t>(i * 37 % 251);
        const QString good = dir.filePath(QStringLiteral("good.png"));
        QVERIFY(writePng(good, 64, 64, 1, pixels));
        const std::vector<uint8_t> png = fileBytes(good);
        QFile::remove(good);

        // Truncated: the first half of a valid PNG.
        const QString truncated = dir.filePath(QStringLiteral("truncated.png"));
        writeText(truncated.toStdString(),
                  std::string(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)));
        QString error = loadError(dir.path());
        QVERIFY2(error.startsWith(truncated + QLatin1String(": cannot be decoded as an image")),
                 qPrintable(error));
        QFile::remove(truncated);

        // Huge declared sizes in the IHDR chunk (width at byte 16, height at 20): 20000 x 20000 is
        // refused before any pixel memory is asked for, 100000 x 100000 already by stb's header check.
        auto withSize = [&](uint8_t b1, uint8_t b2, uint8_t b3) {
            std::vector<uint8_t> bytes = png;
            for (std::size_t at : {std::size_t{16}, std::size_t{20}}) {
                bytes[at] = 0;
                bytes[at + 1] = b1;
                bytes[at + 2] = b2;
                bytes[at + 3] = b3;
            }
            return std::string(bytes.begin(), bytes.end());
        };
        const QString hugePath = dir.filePath(QStringLiteral("huge.png"));
        writeText(hugePath.toStdString(), withSize(0x00, 0x4E, 0x20)); // 20000
        error = loadError(dir.path());
        QVERIFY2(error.startsWith(hugePath +
                                  QLatin1String(": declares 20000 x 20000 pixels; sample images may have at "
                                                "most 67108864 pixels")),
                 qPrintable(error));
        writeText(hugePath.toStdString(), withSize(0x01, 0x86, 0xA0)); // 100000
        error = loadError(dir.path());
        QVERIFY2(error.startsWith(hugePath +
                                  QLatin1String(": cannot be decoded as an image: its PNG header is damaged "
                                                "or declares too many pixels")),
                 qPrintable(error));
        QFile::remove(hugePath);

        // Not an image at all, named .png.
        const QString text = dir.filePath(QStringLiteral("text.png"));
        writeText(text.toStdString(), "just some words, no PNG signature");
        error = loadError(dir.path());
        QVERIFY2(
            error.startsWith(text + QLatin1String(": cannot be decoded as an image: not a PNG or JPEG file")),
            qPrintable(error));
        QFile::remove(text);

        // A JPEG whose first Huffman table declares 16 x 255 codes (at most 256 exist): stb_image
        // 2.27 would write past its tables, so it is refused before decoding.
        std::vector<uint8_t> grey(64, 100);
        const QString jpegPath = dir.filePath(QStringLiteral("huffman.jpg"));
        QVERIFY(stbi_write_jpg(jpegPath.toStdString().c_str(), 8, 8, 1, grey.data(), 90) != 0);
        std::vector<uint8_t> jpeg = fileBytes(jpegPath);
        std::size_t dht = 0;
        for (std::size_t i = 2; i + 1 < jpeg.size() && dht == 0; ++i)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC4)
                dht = i;
        QVERIFY(dht > 0);
        std::fill_n(jpeg.begin() + static_cast<std::ptrdiff_t>(dht + 5), 16, uint8_t{0xFF});
        writeText(jpegPath.toStdString(), std::string(jpeg.begin(), jpeg.end()));
        error = loadError(dir.path());
        QVERIFY2(
            error.startsWith(jpegPath + QLatin1String(": cannot be decoded as an image: a JPEG Huffman table "
                                                      "declares more than 256 codes")),
            qPrintable(error));
        QFile::remove(jpegPath);

        // An empty file named .jpg.
        const QString empty = dir.filePath(QStringLiteral("empty.jpg"));
        writeText(empty.toStdString(), "");
        error = loadError(dir.path());
        QVERIFY2(error.startsWith(empty + QLatin1String(": cannot be decoded as an image")),
                 qPrintable(error));
    }

    // Hostile sidecars: sizes 0 or negative, wrong channels, bad mean/std, not JSON — each names
    // the sidecar and the allowed values.
    void hostileSidecarsAreClearErrors_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        const QString side = QStringLiteral("' must be a whole number in 1..4096");
        QTest::newRow("width 0") << QStringLiteral(R"({"width": 0, "height": 8})")
                                 << (QLatin1String("'width") + side);
        QTest::newRow("height negative")
            << QStringLiteral(R"({"width": 8, "height": -3})") << (QLatin1String("'height") + side);
        QTest::newRow("width missing")
            << QStringLiteral(R"({"height": 8})") << (QLatin1String("'width") + side);
        QTest::newRow("width fraction")
            << QStringLiteral(R"({"width": 7.5, "height": 8})") << (QLatin1String("'width") + side);
        QTest::newRow("width too large")
            << QStringLiteral(R"({"width": 4097, "height": 8})") << (QLatin1String("'width") + side);
        QTest::newRow("width text") << QStringLiteral(R"({"width": "8", "height": 8})")
                                    << (QLatin1String("'width") + side);
        QTest::newRow("channels 2") << QStringLiteral(R"({"width": 8, "height": 8, "channels": 2})")
                                    << QStringLiteral("'channels' must be 1 (grey) or 3 (RGB)");
        QTest::newRow("channels 0") << QStringLiteral(R"({"width": 8, "height": 8, "channels": 0})")
                                    << QStringLiteral("'channels' must be 1 (grey) or 3 (RGB)");
        QTest::newRow("mean count") << QStringLiteral(
                                           R"({"width": 8, "height": 8, "channels": 3, "mean": [0, 0]})")
                                    << QStringLiteral("'mean' must be a number or an array of 3 numbers");
        QTest::newRow("std zero") << QStringLiteral(R"({"width": 8, "height": 8, "std": 0})")
                                  << QStringLiteral("'std' must be positive");
        QTest::newRow("scale text") << QStringLiteral(R"({"width": 8, "height": 8, "scale": "x"})")
                                    << QStringLiteral("'scale' must be a finite number");
        QTest::newRow("not json") << QStringLiteral("width = 8") << QStringLiteral("not a JSON object");
        QTest::newRow("number overflow")
            << QStringLiteral(R"({"width": 8, "height": -1e309})") << QStringLiteral("not a JSON object");
        QTest::newRow("array") << QStringLiteral("[8, 8]") << QStringLiteral("not a JSON object");
    }

    void hostileSidecarsAreClearErrors() {
        QFETCH(QString, json);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QVERIFY(writePng(dir.filePath(QStringLiteral("a.png")), 8, 8, 1, std::vector<uint8_t>(64, 1)));
        writeSidecar(dir.path(), json.toStdString());
        const QString error = loadError(dir.path());
        const QString sidecar = dir.filePath(QStringLiteral("quantscope-images.json"));
        QVERIFY2(error.startsWith(sidecar + QLatin1String(": ") + message), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestSamplesImages)
#include "tst_samples_images.moc"
