// NpyReader and NpyWriter: numpy-written files of every supported dtype, both byte orders, C and
// Fortran order, versions 1 to 3; hostile headers refused with an Error naming the file; written
// files byte-identical to numpy's own.

#include "tst_io_support.h"

#include "quantscope/io/NpyReader.h"
#include "quantscope/io/NpyWriter.h"
#include "quantscope/io/WeightFile.h"

#include <QDir>
#include <QTemporaryDir>

#include <cmath>
#include <limits>

using namespace quantscope;

namespace {

// A .npy file: magic, version, little-endian header length (2 bytes for 1.x, 4 otherwise), text.
std::string npyBytes(const std::string& text, const std::string& data = {}, int major = 1, int minor = 0) {
    std::string bytes = "\x93NUMPY";
    bytes += static_cast<char>(major);
    bytes += static_cast<char>(minor);
    const std::size_t lengthBytes = major == 1 ? 2 : 4;
    for (std::size_t i = 0; i < lengthBytes; ++i)
        bytes += static_cast<char>((text.size() >> (8 * i)) & 0xFF);
    return bytes + text + data;
}

std::string header(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
    return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
}

} // namespace

class TestNpy : public QObject {
    Q_OBJECT

private:
    iotest::TempFiles m_files;

    static Tensor loadOnly(const std::string& file) {
        const auto weights = openWeightFile(iotest::dataPath(file));
        if (weights->format() != "npy" || weights->tensors().size() != 1)
            qFatal("%s: not read as one .npy array", file.c_str());
        return weights->load(weights->tensors().front().name);
    }

private slots:
    void initTestCase() { QVERIFY(m_files.isValid()); }

    void listsOneTensorNamedAfterTheStem() {
        const auto file = openWeightFile(iotest::dataPath("f4_c.npy"));
        QCOMPARE(file->format(), std::string("npy"));
        QVERIFY(file->metadata().empty());
        QCOMPARE(file->tensors().size(), std::size_t{1});
        const TensorInfo& info = file->tensors().front();
        QCOMPARE(info.name, std::string("f4_c"));
        QCOMPARE(info.dtype, DType::F32);
        QCOMPARE(info.shape, (std::vector<int64_t>{2, 3}));
        QCOMPARE(info.elements, uint64_t{6});
        QCOMPARE(info.bytes, uint64_t{24});
        const Tensor tensor = file->load("f4_c");
        QCOMPARE(tensor.name(), std::string("f4_c"));
        QCOMPARE(tensor.shape(), (std::vector<int64_t>{2, 3}));
        QVERIFY(iotest::sameValues(tensor, {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}));
        QS_VERIFY_ERROR(file->load("w"), iotest::dataPath("f4_c.npy") + ": w", "no such tensor");
    }

    void readsBothByteOrdersAndEveryDtype() {
        QVERIFY(iotest::sameValues(loadOnly("f8_big.npy"), {1.5f, -2.0f, static_cast<float>(1e-3), 3e38f}));
        QVERIFY(iotest::sameValues(loadOnly("f2.npy"),
                                   {1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), 0.333251953125f}));
        QVERIFY(iotest::sameValues(loadOnly("i1.npy"), {-128.0f, -1.0f, 0.0f, 127.0f}));
        QVERIFY(iotest::sameValues(loadOnly("i4.npy"), {-2147483648.0f, 5.0f, 2147483648.0f}));
        QVERIFY(iotest::sameValues(loadOnly("i8_big.npy"), {-7.0f, 1099511627776.0f}));
        QVERIFY(iotest::sameValues(loadOnly("u1.npy"), {0.0f, 200.0f, 255.0f}));
        QVERIFY(iotest::sameValues(loadOnly("u2.npy"), {0.0f, 65535.0f}));
        QVERIFY(iotest::sameValues(loadOnly("u4_big.npy"), {1.0f, 4294967296.0f}));
        QVERIFY(iotest::sameValues(loadOnly("u8.npy"), {9.0f, 18446744073709551616.0f}));
        QVERIFY(iotest::sameValues(loadOnly("b1.npy"), {1.0f, 0.0f, 1.0f, 1.0f}));
        const Tensor scalar = loadOnly("scalar.npy");
        QCOMPARE(scalar.rank(), 0);
        QVERIFY(iotest::sameValues(scalar, {-3.5f}));

        const NpyReader big(iotest::dataPath("f8_big.npy"));
        QVERIFY(big.header().bigEndian());
        QCOMPARE(big.header().descr(), std::string(">f8"));
        QCOMPARE(big.tensors().front().dtype, DType::F64);
        QCOMPARE(NpyReader(iotest::dataPath("b1.npy")).tensors().front().dtype, DType::Bool);
        QCOMPARE(NpyReader(iotest::dataPath("u4_big.npy")).tensors().front().dtype, DType::U32);
    }

    void convertsFortranOrderToRowMajor() {
        const NpyReader file(iotest::dataPath("f4_fortran.npy"));
        QVERIFY(file.header().fortranOrder());
        const Tensor tensor = file.load("f4_fortran");
        QCOMPARE(tensor.shape(), (std::vector<int64_t>{2, 3, 4}));
        std::vector<float> rowMajor(24);
        for (int i = 0; i < 24; ++i)
            rowMajor[static_cast<std::size_t>(i)] = static_cast<float>(i);
        QVERIFY(iotest::sameValues(tensor, rowMajor));

        // Big-endian int16 in Fortran order: [[1, -2], [300, -32768], [32767, 0]].
        const Tensor both = loadOnly("i2_big_fortran.npy");
        QCOMPARE(both.shape(), (std::vector<int64_t>{3, 2}));
        QVERIFY(iotest::sameValues(both, {1.0f, -2.0f, 300.0f, -32768.0f, 32767.0f, 0.0f}));
    }

    void readsVersions2And3() {
        for (const char* name : {"v2.npy", "v3.npy"}) {
            const NpyReader file(iotest::dataPath(name));
            QCOMPARE(file.header().majorVersion(), name[1] - '0');
            QVERIFY(iotest::sameValues(file.load(file.tensors().front().name), {1.0f, 2.0f, 3.0f, 4.0f}));
        }
    }

    void refusesUnsupportedDtypes() {
        QS_VERIFY_ERROR(NpyReader{iotest::dataPath("c8.npy")}, iotest::dataPath("c8.npy"),
                        "unsupported dtype '<c8'");
        QS_VERIFY_ERROR(openWeightFile(iotest::dataPath("structured.npy")),
                        iotest::dataPath("structured.npy"), "unsupported dtype", "structured");
        const std::string object =
            m_files.make("object.npy", npyBytes(header("|O", "(2,)"), std::string(16, '\0')));
        QS_VERIFY_ERROR(NpyReader{object}, object, "unsupported dtype '|O'");
        const std::string text =
            m_files.make("text.npy", npyBytes(header("<U10", "(1,)"), std::string(40, '\0')));
        QS_VERIFY_ERROR(NpyReader{text}, text, "unsupported dtype '<U10'");
        const std::string longDouble =
            m_files.make("f16.npy", npyBytes(header("<f16", "(1,)"), std::string(16, '\0')));
        QS_VERIFY_ERROR(NpyReader{longDouble}, longDouble, "unsupported dtype '<f16'");
    }

    void refusesBadMagicAndVersions() {
        const std::string empty = m_files.make("empty.npy", "");
        QS_VERIFY_ERROR(openWeightFile(empty), empty, "bad magic");
        const std::string magic = m_files.make("magic.npy", "\x93NUMPX\x01\x00" + std::string(100, ' '));
        QS_VERIFY_ERROR(NpyReader{magic}, magic, "bad magic");
        QS_VERIFY_ERROR(openWeightFile(magic), magic, "bad magic");
        const std::string v4 = m_files.make("v4.npy", npyBytes(header("<f4", "(1,)"), "abcd", 4, 0));
        QS_VERIFY_ERROR(NpyReader{v4}, v4, "unsupported .npy format version 4.0");
        const std::string v11 = m_files.make("v11.npy", npyBytes(header("<f4", "(1,)"), "abcd", 1, 1));
        QS_VERIFY_ERROR(NpyReader{v11}, v11, "version 1.1");
        const std::string cut = m_files.make("cut.npy", std::string("\x93NUMPY\x01\x00\x40", 9));
        QS_VERIFY_ERROR(NpyReader{cut}, cut, "truncated .npy header");
    }

    void refusesHeaderLengthPastTheEnd() {
        std::string bytes = npyBytes(header("<f4", "(1,)"), "abcd");
        bytes[8] = '\xFF';
        bytes[9] = '\x7F';
        const std::string path = m_files.make("longheader.npy", bytes);
        QS_VERIFY_ERROR(NpyReader{path}, path, "truncated .npy header", "32777 bytes");
        std::string absurd = npyBytes(header("<f4", "(1,)"), "abcd", 2, 0);
        absurd[8] = absurd[9] = absurd[10] = absurd[11] = '\xFF';
        const std::string absurdPath = m_files.make("absurd.npy", absurd);
        QS_VERIFY_ERROR(NpyReader{absurdPath}, absurdPath, "absurd");
    }

    void refusesMalformedHeaders() {
        const std::vector<std::pair<std::string, std::string>> cases{
            {"{'descr': '<f4', 'shape': (1,), }", "must give 'descr', 'fortran_order' and 'shape'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key 'extra'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected ',' or '}'"},
            {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", "True or False"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "tuple"},
            {"{'descr': 4, 'fortran_order': False, 'shape': (1,)}", "dtype string"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, x)}", "non-negative integers"},
            {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", "malformed"},
            {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "twice"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", "after the closing"},
            {"", "expected '{'"},
        };
        int n = 0;
        for (const auto& [text, expected] : cases) {
            const std::string path =
                m_files.make("malformed" + std::to_string(n++) + ".npy", npyBytes(text, "abcd"));
            QS_VERIFY_ERROR(NpyReader{path}, path, "malformed .npy header", expected);
        }
    }

    void refusesBadShapesAndTruncatedData() {
        const std::string negative = m_files.make("negative.npy", npyBytes(header("<f4", "(-1, 2)"), "abcd"));
        QS_VERIFY_ERROR(NpyReader{negative}, negative, "negative dimension");
        const std::string overflow =
            m_files.make("overflow.npy", npyBytes(header("<f4", "(4294967296, 4294967296, 16)"), "abcd"));
        QS_VERIFY_ERROR(NpyReader{overflow}, overflow, "element count", "overflows");
        const std::string bytesOverflow =
            m_files.make("bytesoverflow.npy", npyBytes(header("<f8", "(2305843009213693952,)"), "abcd"));
        QS_VERIFY_ERROR(NpyReader{bytesOverflow}, bytesOverflow, "overflows");
        const std::string hugeDim =
            m_files.make("hugedim.npy", npyBytes(header("<f4", "(99999999999999999999,)"), "abcd"));
        QS_VERIFY_ERROR(NpyReader{hugeDim}, hugeDim, "larger than 2^63 - 1");
        const std::string truncated =
            m_files.make("truncated.npy", npyBytes(header("<f4", "(3, 4)"), std::string(40, 'x')));
        QS_VERIFY_ERROR(openWeightFile(truncated), truncated, "truncated data", "needs 48 bytes", "has 40");
        // A real file cut short by one byte.
        const std::string real = iotest::readBytes(iotest::dataPath("f8_big.npy"));
        const std::string cut = m_files.make("cut_real.npy", real.substr(0, real.size() - 1));
        QS_VERIFY_ERROR(NpyReader{cut}, cut, "truncated data");
    }

    void survivesRandomCorruption() {
        for (const char* name : {"f4_fortran.npy", "i2_big_fortran.npy", "v3.npy"}) {
            const std::string original = iotest::readBytes(iotest::dataPath(name));
            const int refused = iotest::survivedCorruptions(
                original, m_files.path("corrupt.npy"), original.size(), 2000, [](const std::string& path) {
                    const auto file = openWeightFile(path);
                    for (const TensorInfo& info : file->tensors())
                        file->load(info.name);
                });
            qInfo("%s: %d of 2000 corrupted copies refused", name, refused);
            QVERIFY(refused > 0);
        }
    }

    void acceptsNumpyHeaderVariants() {
        // Python 2 long literals, double quotes, no trailing comma, native and '|' byte order.
        const std::string path =
            m_files.make("variants.npy",
                         npyBytes("{\"descr\": \"=i2\", \"fortran_order\": True, \"shape\": (2L, 2L)}   \n",
                                  std::string("\x01\x00\x02\x00\x03\x00\x04\x00", 8)));
        const NpyReader file(path);
        QCOMPARE(file.tensors().front().shape, (std::vector<int64_t>{2, 2}));
        QVERIFY(iotest::sameValues(file.load("variants"), {1.0f, 3.0f, 2.0f, 4.0f}));
        const std::string zeroSize = m_files.make("zero.npy", npyBytes(header("<f4", "(0, 5)")));
        QCOMPARE(NpyReader(zeroSize).load("zero").size(), int64_t{0});
    }

    // The writer's bytes equal numpy's np.save output for the same arrays.
    void writesFilesIdenticalToNumpy() {
        const std::vector<float> values{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
        QCOMPARE(NpyWriter::encodeFloat32({2, 3}, values), iotest::readBytes(iotest::dataPath("f4_c.npy")));
        const std::vector<int32_t> int8Values{-128, -1, 0, 127};
        QCOMPARE(NpyWriter::encodeIntegers({4}, int8Values), iotest::readBytes(iotest::dataPath("i1.npy")));
        const std::vector<int32_t> uint8Values{0, 200, 255};
        QCOMPARE(NpyWriter::encodeIntegers({3}, uint8Values), iotest::readBytes(iotest::dataPath("u1.npy")));
        const std::vector<int32_t> uint16Values{0, 65535};
        QCOMPARE(NpyWriter::encodeIntegers({2}, uint16Values), iotest::readBytes(iotest::dataPath("u2.npy")));
    }

    void choosesTheNarrowestIntegerType() {
        const auto narrowest = [](std::vector<int32_t> values) {
            return NpyWriter::narrowestIntegerType(values);
        };
        QCOMPARE(narrowest({-128, 127}), DType::I8);
        QCOMPARE(narrowest({0, 255}), DType::U8);
        QCOMPARE(narrowest({-129, 0}), DType::I16);
        QCOMPARE(narrowest({-1, 128}), DType::I16);
        QCOMPARE(narrowest({-32768, 32767}), DType::I16);
        QCOMPARE(narrowest({0, 256}), DType::U16);
        QCOMPARE(narrowest({0, 65535}), DType::U16);
        QCOMPARE(narrowest({0, 65536}), DType::I32);
        QCOMPARE(narrowest({-32769, 0}), DType::I32);
        QCOMPARE(narrowest({std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}),
                 DType::I32);
        QCOMPARE(narrowest({}), DType::U8);
    }

    void writesAndReadsBack() {
        const std::string floats = m_files.path("out_dq.npy");
        std::vector<float> values;
        for (int i = 0; i < 60; ++i)
            values.push_back(std::ldexp(static_cast<float>(i - 30), -3));
        values[7] = -0.0f;
        NpyWriter::writeFloat32(floats, {3, 4, 5}, values);
        const NpyReader floatFile(floats);
        QCOMPARE(floatFile.tensors().front().shape, (std::vector<int64_t>{3, 4, 5}));
        QVERIFY(iotest::sameValues(floatFile.load("out_dq"), values));

        const std::vector<std::vector<int32_t>> cases{
            {-8, 7, 0, 3}, {0, 15, 255, 1}, {-300, 299, 0, 1}, {0, 40000, 1, 2}, {-70000, 70000, 0, 0}};
        const std::vector<DType> expectedTypes{DType::I8, DType::U8, DType::I16, DType::U16, DType::I32};
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const std::string path = m_files.path("out_q" + std::to_string(i) + ".npy");
            QCOMPARE(NpyWriter::writeIntegers(path, {2, 2}, cases[i]), expectedTypes[i]);
            const NpyReader file(path);
            QCOMPARE(file.tensors().front().dtype, expectedTypes[i]);
            std::vector<float> expected(cases[i].begin(), cases[i].end());
            QVERIFY(iotest::sameValues(file.load(file.tensors().front().name), expected));
        }

        // Overwriting replaces the file completely and leaves no temporary files behind.
        NpyWriter::writeFloat32(floats, {2}, std::vector<float>{1.0f, 2.0f});
        QVERIFY(iotest::sameValues(NpyReader(floats).load("out_dq"), {1.0f, 2.0f}));
        const QStringList leftovers =
            QDir(m_files.folder()).entryList({QStringLiteral("*tmp*")}, QDir::Files);
        QVERIFY2(leftovers.isEmpty(), qPrintable(leftovers.join(QLatin1Char(' '))));
    }

    void writerRefusesBadInput() {
        const std::string path = m_files.path("bad.npy");
        QS_VERIFY_ERROR(NpyWriter::writeFloat32(path, {2, 3}, std::vector<float>(5)), path, "[2, 3]",
                        "5 values");
        QVERIFY(!QFileInfo::exists(QString::fromStdString(path)));
        const std::string noDirectory = m_files.path("no/such/dir/q.npy");
        QS_VERIFY_ERROR(NpyWriter::writeIntegers(noDirectory, {1}, std::vector<int32_t>{1}), noDirectory);
    }
};

QTEST_GUILESS_MAIN(TestNpy)
#include "tst_io_npy.moc"
