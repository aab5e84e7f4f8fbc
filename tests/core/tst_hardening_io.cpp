// Hostile inputs and outputs of the io layer: files truncated while being read, huge safetensors
// headers, FIFOs and devices given as inputs or outputs, outputs committed together, symlinks
// written through, and the SHA-256 recorded for a source file.
#include "tst_io_support.h"

#include "quantscope/export/QParamsDocument.h"
#include "quantscope/io/AtomicFileSet.h"
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/NpyWriter.h"
#include "quantscope/io/ReadOnlyFile.h"
#include "quantscope/io/SafetensorsReader.h"
#include "quantscope/io/Sha256.h"
#include "quantscope/io/WeightFile.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QtTest>

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace quantscope;
using iotest::errorOf;
using iotest::littleEndian64;
using iotest::readBytes;
using iotest::writeBytes;

namespace {

std::string floatBytes(const std::vector<float>& values) {
    std::string bytes(values.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

// A safetensors file holding "small" (4 floats: 1, 2, 3, 4) then "big" (`bigCount` floats i / 8).
std::string writeTwoTensors(const QTemporaryDir& dir, int64_t bigCount) {
    const std::string header = "{\"small\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                               "\"big\":{\"dtype\":\"F32\",\"shape\":[" +
                               std::to_string(bigCount) + "],\"data_offsets\":[16," +
                               std::to_string(16 + 4 * bigCount) + "]}}";
    std::vector<float> big(static_cast<std::size_t>(bigCount));
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<float>(i) / 8.0f;
    const std::string path = dir.filePath(QStringLiteral("two.safetensors")).toStdString();
    writeBytes(path, littleEndian64(header.size()) + header + floatBytes({1, 2, 3, 4}) + floatBytes(big));
    return path;
}

QStringList entriesOf(const QTemporaryDir& dir) {
    return QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
}

} // namespace

class TestHardeningIo : public QObject {
    Q_OBJECT

private slots:
    // A file truncated by another program after it was opened: an Error naming the file, never
    // SIGBUS (the readers used to map the file; touching a page past the new end killed the program).
    void safetensorsTruncatedAfterOpeningIsAnError() {
        QTemporaryDir dir;
        const std::string path = writeTwoTensors(dir, 1 << 20); // 4 MiB + 16 bytes of data
        const SafetensorsReader reader(path);
        QCOMPARE(reader.load("small").values()[2], 3.0f);

        // Another process cuts the file inside "big", before any of its data was read.
        const pid_t child = fork();
        if (child == 0)
            _exit(::truncate(path.c_str(), 4096) == 0 ? 0 : 1);
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        const std::string message = errorOf([&] { reader.load("big"); });
        QVERIFY2(message.find(path) == 0, message.c_str());
        QVERIFY2(message.find("shrank") != std::string::npos, message.c_str());
        QVERIFY2(message.find("4096 bytes now") != std::string::npos, message.c_str());
    }

    void npyTruncatedAfterOpeningIsAnError() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("w.npy")).toStdString();
        std::vector<float> values(4096);
        for (std::size_t i = 0; i < values.size(); ++i)
            values[i] = static_cast<float>(i);
        NpyWriter::writeFloat32(path, {64, 64}, values);
        const NpyReader reader(path);
        QVERIFY(::truncate(path.c_str(), 200) == 0);
        const std::string message = errorOf([&] { reader.load("w"); });
        QVERIFY2(message.find(path) == 0 && message.find("shrank") != std::string::npos, message.c_str());
    }

    // A file removed after it was opened is still read whole: its data lives until it is closed.
    void fileRemovedAfterOpeningStillReads() {
        QTemporaryDir dir;
        const std::string path = writeTwoTensors(dir, 3000);
        const SafetensorsReader reader(path);
        QVERIFY(::unlink(path.c_str()) == 0);
        const Tensor big = reader.load("big");
        QCOMPARE(big.size(), int64_t(3000));
        QCOMPARE(big.values()[2999], 2999.0f / 8.0f);
    }

    // Tensors larger than the reader's chunk (256 KiB) arrive whole and in order.
    void tensorLargerThanOneChunkIsReadWhole() {
        QTemporaryDir dir;
        const int64_t count = (5 << 20) / 4 + 3; // 5 MiB + 12 bytes: many chunks and a remainder
        const std::string path = writeTwoTensors(dir, count);
        const Tensor big = SafetensorsReader(path).load("big");
        QCOMPARE(big.size(), count);
        for (const int64_t i : {int64_t(0), int64_t(65535), int64_t(65536), int64_t(1048576), count - 1})
            QCOMPARE(big.values()[static_cast<std::size_t>(i)], static_cast<float>(i) / 8.0f);
    }

    // Header parsing is linear: 200,000 tensors list (this took minutes when it was quadratic).
    void twoHundredThousandTensorsList() {
        QTemporaryDir dir;
        const int count = 200'000;
        std::string header = "{";
        std::string data;
        // Written in reverse order so that the reader's sort by data offset has work to do.
        for (int i = count - 1; i >= 0; --i) {
            header += "\"t" + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" +
                      std::to_string(4 * i) + "," + std::to_string(4 * i + 4) + "]}";
            header += i > 0 ? "," : "}";
        }
        std::vector<float> values(count);
        for (int i = 0; i < count; ++i)
            values[static_cast<std::size_t>(i)] = static_cast<float>(i) * 0.5f;
        const std::string path = dir.filePath(QStringLiteral("many.safetensors")).toStdString();
        QVERIFY(writeBytes(path, littleEndian64(header.size()) + header + floatBytes(values)));

        const auto file = openWeightFile(path);
        const auto& tensors = file->tensors();
        QCOMPARE(tensors.size(), std::size_t(count));
        QCOMPARE(tensors.front().name, std::string("t0"));
        QCOMPARE(tensors[123456].name, std::string("t123456"));
        QCOMPARE(tensors.back().name, std::string("t199999"));
        QCOMPARE(file->load("t123456").values()[0], 61728.0f);
        QCOMPARE(file->load("t199999").values()[0], 99999.5f);
    }

    void headerNamingATensorTwiceOrNestedDeeplyIsRefused() {
        QTemporaryDir dir;
        const std::string twice = dir.filePath(QStringLiteral("twice.safetensors")).toStdString();
        const std::string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                   "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        writeBytes(twice, littleEndian64(header.size()) + header + std::string(8, '\0'));
        QVERIFY(errorOf([&] { SafetensorsReader{twice}; }).find("\"w\" twice") != std::string::npos);

        const std::string deep = dir.filePath(QStringLiteral("deep.safetensors")).toStdString();
        const std::string nested = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
        writeBytes(deep, littleEndian64(nested.size()) + nested);
        QVERIFY(errorOf([&] { SafetensorsReader{deep}; }).find("nested deeper than 8") != std::string::npos);
    }

    // A FIFO or a device given as an input is refused before it is read: opening a FIFO used to
    // wait forever for a writer, reading /dev/zero grew until memory ran out.
    void fifoAndDeviceInputsAreRefused() {
        QTemporaryDir dir;
        const std::string fifo = dir.filePath(QStringLiteral("params.json")).toStdString();
        QVERIFY(::mkfifo(fifo.c_str(), 0600) == 0);
        std::string message = errorOf([&] { QParamsDocument::readFile(fifo); });
        QCOMPARE(message, fifo + ": is not a regular file (it is a FIFO)");
        message = errorOf([&] { openWeightFile(fifo); });
        QCOMPARE(message, fifo + ": is not a regular file (it is a FIFO)");
        message = errorOf([&] { QParamsDocument::readFile("/dev/zero"); });
        QCOMPARE(message, std::string("/dev/zero: is not a regular file (it is a character device)"));
        message = errorOf([&] { openWeightFile(dir.path().toStdString()); });
        QVERIFY2(message.find("is not a regular file (it is a directory)") != std::string::npos,
                 message.c_str());
    }

    // Whole-file reads have a bound: a parameters document over 1 GiB is refused unread.
    void oversizedParamsDocumentIsRefused() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("huge.json")).toStdString();
        writeBytes(path, "{");
        QVERIFY(::truncate(path.c_str(), (off_t{1} << 30) + 1) == 0); // sparse: no disk used
        const std::string message = errorOf([&] { QParamsDocument::readFile(path); });
        QCOMPARE(message, path + ": is 1073741825 bytes, more than the 1073741824 accepted");
    }

    // Outputs of one command are committed together: a failure leaves neither the outputs nor
    // any temporary behind, and the old contents of existing targets stay.
    void outputsAreCommittedTogetherOrNotAtAll() {
        QTemporaryDir dir;
        const std::string first = dir.filePath(QStringLiteral("first.txt")).toStdString();
        const std::string kept = dir.filePath(QStringLiteral("kept.txt")).toStdString();
        writeBytes(kept, "old");
        {
            AtomicFileSet files;
            files.stage(first, "one");
            files.stage(kept, "new");
            const std::string missing = dir.filePath(QStringLiteral("missing/second.txt")).toStdString();
            const std::string message = errorOf([&] { files.stage(missing, "two"); });
            QVERIFY2(message.find(missing) == 0, message.c_str());
        }
        QCOMPARE(entriesOf(dir), QStringList{QStringLiteral("kept.txt")});
        QCOMPARE(readBytes(kept), std::string("old"));

        AtomicFileSet files;
        files.stage(first, "one");
        files.stage(kept, "new");
        files.commit();
        QCOMPARE(readBytes(first), std::string("one"));
        QCOMPARE(readBytes(kept), std::string("new"));
        QCOMPARE(entriesOf(dir), (QStringList{QStringLiteral("first.txt"), QStringLiteral("kept.txt")}));
    }

    // A symlink is written through: the link stays, its target gets the contents and keeps its mode.
    void symlinkIsWrittenThrough() {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("real")));
        const std::string target = dir.filePath(QStringLiteral("real/target.json")).toStdString();
        const std::string link = dir.filePath(QStringLiteral("link.json")).toStdString();
        writeBytes(target, "old");
        QVERIFY(::chmod(target.c_str(), 0640) == 0);
        QVERIFY(::symlink("real/target.json", link.c_str()) == 0); // relative to the link's folder
        AtomicFileSet files;
        files.stage(link, "new contents");
        files.commit();
        QVERIFY(QFileInfo(QString::fromStdString(link)).isSymLink());
        QCOMPARE(readBytes(target), std::string("new contents"));
        struct stat status {};
        QVERIFY(::stat(target.c_str(), &status) == 0);
        QCOMPARE(status.st_mode & 0777, mode_t(0640));
        QCOMPARE(entriesOf(dir), (QStringList{QStringLiteral("link.json"), QStringLiteral("real")}));

        // A dangling link creates its target.
        const std::string dangling = dir.filePath(QStringLiteral("dangling.json")).toStdString();
        QVERIFY(::symlink("real/created.json", dangling.c_str()) == 0);
        writeFileAtomicallyThroughSet(dangling, "created");
        QVERIFY(QFileInfo(QString::fromStdString(dangling)).isSymLink());
        QCOMPARE(readBytes(dir.filePath(QStringLiteral("real/created.json")).toStdString()),
                 std::string("created"));
    }

    // A FIFO target is written to, not replaced by a regular file; without a reader it is an error.
    void fifoTargetReceivesTheBytes() {
        QTemporaryDir dir;
        const std::string fifo = dir.filePath(QStringLiteral("out.fifo")).toStdString();
        QVERIFY(::mkfifo(fifo.c_str(), 0600) == 0);

        std::string message = errorOf([&] { writeFileAtomicallyThroughSet(fifo, "nobody reads"); });
        QCOMPARE(message, fifo + ": is a FIFO that no program is reading");

        // The reader end is open (non-blocking, so no thread is needed); the bytes fit the pipe.
        const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
        QVERIFY(reader >= 0);
        writeFileAtomicallyThroughSet(fifo, "through the pipe");
        char buffer[64] = {};
        const ssize_t got = ::read(reader, buffer, sizeof buffer);
        ::close(reader);
        QCOMPARE(std::string(buffer, static_cast<std::size_t>(std::max<ssize_t>(got, 0))),
                 std::string("through the pipe"));
        struct stat status {};
        QVERIFY(::lstat(fifo.c_str(), &status) == 0);
        QVERIFY(S_ISFIFO(status.st_mode));
        QCOMPARE(entriesOf(dir), QStringList{QStringLiteral("out.fifo")});
    }

    // A full device is an error, not a success, and the device node stays a device.
    void fullDeviceIsAnError() {
        struct stat before {};
        if (::stat("/dev/full", &before) != 0 || !S_ISCHR(before.st_mode))
            QSKIP("this system has no /dev/full character device");
        const std::string message = errorOf([&] { writeFileAtomicallyThroughSet("/dev/full", "{}\n"); });
        QVERIFY2(message.find("/dev/full: cannot write: ") == 0, message.c_str());
        QVERIFY2(message.find(std::strerror(ENOSPC)) != std::string::npos, message.c_str());
        struct stat after {};
        QVERIFY(::lstat("/dev/full", &after) == 0);
        QVERIFY(S_ISCHR(after.st_mode));
        QCOMPARE(after.st_rdev, before.st_rdev);
    }

    // The SHA-256 of a file, against digests computed independently (FIPS 180-2 vectors and Qt's
    // implementation), across the 64 KiB read chunk.
    void sha256OfFileMatchesKnownDigests() {
        QCOMPARE(sha256OfBytes("abc"),
                 std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QTemporaryDir dir;
        const std::string abc = dir.filePath(QStringLiteral("abc")).toStdString();
        writeBytes(abc, "abc");
        QCOMPARE(sha256OfFile(abc),
                 std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        const std::string million = dir.filePath(QStringLiteral("million")).toStdString();
        writeBytes(million, std::string(1'000'000, 'a'));
        QCOMPARE(sha256OfFile(million),
                 std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));

        std::string bytes((3 << 20) + 17, '\0');
        std::mt19937 random(7);
        for (char& c : bytes)
            c = static_cast<char>(random());
        const std::string large = dir.filePath(QStringLiteral("large")).toStdString();
        writeBytes(large, bytes);
        const QByteArray expected =
            QCryptographicHash::hash(QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())),
                                     QCryptographicHash::Sha256)
                .toHex();
        QCOMPARE(QByteArray::fromStdString(sha256OfFile(large)), expected);
        const std::string empty = dir.filePath(QStringLiteral("empty")).toStdString();
        writeBytes(empty, "");
        QCOMPARE(sha256OfFile(empty),
                 std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }

private:
    static void writeFileAtomicallyThroughSet(const std::string& path, std::string_view contents) {
        AtomicFileSet files;
        files.stage(path, contents);
        files.commit();
    }
};

QTEST_GUILESS_MAIN(TestHardeningIo)
#include "tst_hardening_io.moc"
