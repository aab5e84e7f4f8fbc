// NpzReader: archives written by np.savez (stored) and np.savez_compressed (deflate) read exactly,
// and broken archives refused with an Error naming the archive and the entry.

#include "tst_io_support.h"

#include "quantscope/io/NpzReader.h"
#include "quantscope/io/WeightFile.h"

#include <QFile>
#include <QTemporaryDir>

#include <cmath>
#include <thread>

using namespace quantscope;

class TestNpz : public QObject {
    Q_OBJECT

private:
    iotest::TempFiles m_files;

private slots:
    void initTestCase() { QVERIFY(m_files.isValid()); }

    void readsStoredAndCompressedArchives_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("np.savez") << QStringLiteral("stored.npz");
        QTest::newRow("np.savez_compressed") << QStringLiteral("compressed.npz");
    }

    void readsStoredAndCompressedArchives() {
        QFETCH(QString, file);
        const auto archive = openWeightFile(iotest::dataPath(file.toStdString()));
        QCOMPARE(archive->format(), std::string("npz"));
        QVERIFY(archive->metadata().empty());

        const std::vector<std::string> names{"weight", "bias", "big", "fortran", "halves"};
        const std::vector<DType> dtypes{DType::F32, DType::F32, DType::F64, DType::I16, DType::F16};
        const std::vector<std::vector<int64_t>> shapes{{3, 4}, {3}, {2}, {2, 3}, {3}};
        QCOMPARE(archive->tensors().size(), names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            QCOMPARE(archive->tensors()[i].name, names[i]);
            QCOMPARE(archive->tensors()[i].dtype, dtypes[i]);
            QCOMPARE(archive->tensors()[i].shape, shapes[i]);
        }

        std::vector<float> weight;
        for (int i = 0; i < 12; ++i)
            weight.push_back(static_cast<float>(i) / 4.0f - 1.0f);
        QVERIFY(iotest::sameValues(archive->load("weight"), weight));
        QVERIFY(iotest::sameValues(archive->load("bias"), {0.5f, -0.25f, 8.0f}));
        QVERIFY(iotest::sameValues(archive->load("big"), {1.5f, -2.0f}));
        // Stored in Fortran order on disk; loads row-major as np.load shows it.
        QVERIFY(iotest::sameValues(archive->load("fortran"), {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f}));
        QVERIFY(iotest::sameValues(archive->load("halves"), {1.0f, 65504.0f, std::ldexp(1.0f, -24)}));
        QS_VERIFY_ERROR(archive->load("weight.npy"), "weight.npy", "no such array");
    }

    // load() is const and may run on several worker threads at once.
    void loadsFromSeveralThreads() {
        const NpzReader archive(iotest::dataPath("compressed.npz"));
        std::vector<int> correct(8, 0);
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < correct.size(); ++t)
            threads.emplace_back([&, t] {
                for (int repeat = 0; repeat < 20; ++repeat)
                    correct[t] += archive.load("bias").values()[2] == 8.0f ? 1 : 0;
            });
        for (auto& thread : threads)
            thread.join();
        for (int count : correct)
            QCOMPARE(count, 20);
    }

    void detectsArchivesByContent() {
        const std::string renamed = m_files.path("weights.bin");
        QVERIFY(QFile::copy(QString::fromStdString(iotest::dataPath("stored.npz")),
                            QString::fromStdString(renamed)));
        const auto archive = openWeightFile(renamed);
        QCOMPARE(archive->format(), std::string("npz"));
        QCOMPARE(archive->tensors().size(), std::size_t{5});

        const std::string text = m_files.make("notes.txt", "just some text, not weights\n");
        QS_VERIFY_ERROR(openWeightFile(text), text,
                        "unsupported format, expected .safetensors, .npy, .npz or .onnx");

        // ONNX has no magic bytes; the extension sends it to OnnxReader.
        const auto onnx =
            openWeightFile(std::string(QUANTSCOPE_SOURCE_DIR) + "/resources/demo/digits_mlp.onnx");
        QCOMPARE(onnx->format(), std::string("onnx"));
        QVERIFY(!onnx->tensors().empty());
    }

    void refusesEntriesThatAreNotArrays() {
        const std::string path = iotest::dataPath("not_npy_entry.npz");
        QS_VERIFY_ERROR(NpzReader{path}, path + ": readme.txt", "not a .npy array");
    }

    void refusesTruncatedEntries() {
        const std::string path = iotest::dataPath("truncated_entry.npz");
        QS_VERIFY_ERROR(openWeightFile(path), path + ": x", "truncated data", "needs 400 bytes");
    }

    void refusesDataThatFailsItsChecksum() {
        const std::string path = iotest::dataPath("bad_crc.npz");
        const NpzReader archive(path); // the header is intact: listing works
        QCOMPARE(archive.tensors().front().name, std::string("x"));
        QS_VERIFY_ERROR(archive.load("x"), path + ": x", "CRC");
    }

    void survivesRandomCorruption() {
        for (const char* name : {"stored.npz", "compressed.npz"}) {
            const std::string original = iotest::readBytes(iotest::dataPath(name));
            const int refused = iotest::survivedCorruptions(
                original, m_files.path("corrupt.npz"), original.size(), 2000, [](const std::string& path) {
                    const auto file = openWeightFile(path);
                    for (const TensorInfo& info : file->tensors())
                        file->load(info.name);
                });
            qInfo("%s: %d of 2000 corrupted copies refused", name, refused);
            QVERIFY(refused > 0);
        }
    }

    // Sizes in the zip headers that deflate could never produce are refused before allocating.
    void refusesImplausibleSizes() {
        std::string bytes = iotest::readBytes(iotest::dataPath("compressed.npz"));
        const auto patchSizes = [&](const std::string& signature, std::size_t sizeOffset) {
            for (std::size_t at = bytes.find(signature); at != std::string::npos;
                 at = bytes.find(signature, at + 4))
                for (std::size_t i = 0; i < 4; ++i)
                    bytes[at + sizeOffset + i] = i == 3 ? '\x7F' : '\xFF'; // 2^31 - 1 bytes
        };
        patchSizes(std::string("PK\x03\x04", 4), 22); // local headers: uncompressed size
        patchSizes(std::string("PK\x01\x02", 4), 24); // central directory: uncompressed size
        const std::string path = m_files.make("bomb.npz", bytes);
        QS_VERIFY_ERROR(NpzReader{path}, path + ": weight", "declared size 2147483647 bytes is implausible");
    }

    void refusesDuplicateNames() {
        std::string bytes = iotest::readBytes(iotest::dataPath("stored.npz"));
        for (std::size_t at = bytes.find("halves.npy"); at != std::string::npos;
             at = bytes.find("halves.npy", at))
            bytes.replace(at, 6, "weight");
        const std::string path = m_files.make("twice.npz", bytes);
        QS_VERIFY_ERROR(NpzReader{path}, path, "two entries with the same name");
    }

    void refusesBrokenArchives() {
        const std::string whole = iotest::readBytes(iotest::dataPath("compressed.npz"));
        const std::string half = m_files.make("half.npz", whole.substr(0, whole.size() / 2));
        QS_VERIFY_ERROR(NpzReader{half}, half, "cannot read as a .npz (zip) archive");
        const std::string empty = m_files.make("empty.npz", "");
        QS_VERIFY_ERROR(openWeightFile(empty), empty);
        const std::string garbage = m_files.make("garbage.npz", std::string(1000, 'x'));
        QS_VERIFY_ERROR(openWeightFile(garbage), garbage, "zip");
        const std::string missing = m_files.path("missing.npz");
        QS_VERIFY_ERROR(NpzReader{missing}, missing);

        // Corrupt the first entry's .npy magic inside a stored archive (zip checks do not cover it
        // until the CRC, so the .npy check must).
        std::string stored = iotest::readBytes(iotest::dataPath("stored.npz"));
        const std::size_t magic = stored.find("\x93NUMPY");
        QVERIFY(magic != std::string::npos);
        stored[magic + 1] = 'X';
        const std::string badMagic = m_files.make("badmagic.npz", stored);
        QS_VERIFY_ERROR(NpzReader{badMagic}, badMagic + ": weight", "bad magic");
    }
};

QTEST_GUILESS_MAIN(TestNpz)
#include "tst_io_npz.moc"
