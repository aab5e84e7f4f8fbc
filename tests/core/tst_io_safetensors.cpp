// SafetensorsReader: every dtype read exactly from a committed file, the header-only listing of a
// large sparse file, and every kind of hostile header refused with an Error naming the file.

#include "tst_io_support.h"

#include "quantscope/io/SafetensorsReader.h"
#include "quantscope/io/WeightFile.h"

#include <QTemporaryDir>

#include <cfloat>
#include <cmath>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

using namespace quantscope;

namespace {

float bitsToFloat(uint32_t bits) {
    return std::bit_cast<float>(bits);
}

// Resident set size of this process in bytes, from /proc/self/statm.
uint64_t residentBytes() {
    std::ifstream statm("/proc/self/statm");
    uint64_t pages = 0;
    uint64_t resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string tempPath(const std::string& name) const {
        return m_dir.filePath(QString::fromStdString(name)).toStdString();
    }

    // A safetensors file with `header` as its JSON text (padded to 8 bytes) followed by `data`.
    std::string makeFile(const std::string& name, std::string header, const std::string& data = {}) {
        header.append((8 - header.size() % 8) % 8, ' ');
        const std::string path = tempPath(name);
        if (!iotest::writeBytes(path, iotest::littleEndian64(header.size()) + header + data))
            qFatal("cannot write %s", path.c_str());
        return path;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void listsEveryDtypeInFileOrder() {
        const auto file = openWeightFile(iotest::dataPath("all_dtypes.safetensors"));
        QCOMPARE(file->format(), std::string("safetensors"));
        const std::map<std::string, std::string> metadata{{"format", "pt"},
                                                          {"source", "quantscope test data"}};
        QVERIFY(file->metadata() == metadata);

        struct Expected {
            const char* name;
            DType dtype;
            std::vector<int64_t> shape;
            uint64_t elements;
            uint64_t bytes;
        };
        const std::vector<Expected> expected{
            {"f32", DType::F32, {2, 3}, 6, 24}, {"f64", DType::F64, {3}, 3, 24},
            {"f16", DType::F16, {3, 3}, 9, 18}, {"bf16", DType::BF16, {5}, 5, 10},
            {"i64", DType::I64, {2}, 2, 16},    {"i32", DType::I32, {3}, 3, 12},
            {"i16", DType::I16, {2}, 2, 4},     {"i8", DType::I8, {4}, 4, 4},
            {"u8", DType::U8, {3}, 3, 3},       {"u16", DType::U16, {2}, 2, 4},
            {"u32", DType::U32, {2}, 2, 8},     {"u64", DType::U64, {2}, 2, 16},
            {"bool", DType::Bool, {3}, 3, 3},   {"empty", DType::F32, {0, 4}, 0, 0},
            {"scalar", DType::F32, {}, 1, 4},   {"layer.0.weight", DType::F32, {2, 2}, 4, 16},
        };
        QCOMPARE(file->tensors().size(), expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const TensorInfo& info = file->tensors()[i];
            QCOMPARE(info.name, std::string(expected[i].name));
            QCOMPARE(info.dtype, expected[i].dtype);
            QCOMPARE(info.shape, expected[i].shape);
            QCOMPARE(info.elements, expected[i].elements);
            QCOMPARE(info.bytes, expected[i].bytes);
        }
        QVERIFY(file->find("bf16") == &file->tensors()[3]);
        QVERIFY(file->find("missing") == nullptr);
    }

    void loadsEveryDtypeExactly() {
        const SafetensorsReader file(iotest::dataPath("all_dtypes.safetensors"));
        const float inf = std::numeric_limits<float>::infinity();
        const float nan = std::numeric_limits<float>::quiet_NaN();
        QVERIFY(iotest::sameValues(file.load("f32"), {0.0f, 1.5f, -2.25f, FLT_MAX,
                                                      std::numeric_limits<float>::denorm_min(), -0.0f}));
        QVERIFY(iotest::sameValues(file.load("f64"), {static_cast<float>(0.1), -2.5f, 1e10f}));
        // float16: 1, -2, 65504, 2^-24 (smallest subnormal), 1023 * 2^-24 (largest subnormal),
        // +inf, -inf, 0x3555, NaN.
        QVERIFY(iotest::sameValues(file.load("f16"),
                                   {1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24),
                                    1023.0f * std::ldexp(1.0f, -24), inf, -inf, 0.333251953125f, nan}));
        // bfloat16: 1, -3.140625, 2^-133 (smallest subnormal), largest finite, -0.
        QVERIFY(iotest::sameValues(
            file.load("bf16"), {1.0f, -3.140625f, std::ldexp(1.0f, -133), bitsToFloat(0x7F7F0000u), -0.0f}));
        QVERIFY(iotest::sameValues(file.load("i64"), {-5.0f, 1099511627776.0f}));
        // 2^31 - 1 is not a float; the nearest is 2^31.
        QVERIFY(iotest::sameValues(file.load("i32"), {-2147483648.0f, 0.0f, 2147483648.0f}));
        QVERIFY(iotest::sameValues(file.load("i16"), {-32768.0f, 32767.0f}));
        QVERIFY(iotest::sameValues(file.load("i8"), {-128.0f, -1.0f, 0.0f, 127.0f}));
        QVERIFY(iotest::sameValues(file.load("u8"), {0.0f, 128.0f, 255.0f}));
        QVERIFY(iotest::sameValues(file.load("u16"), {0.0f, 65535.0f}));
        QVERIFY(iotest::sameValues(file.load("u32"), {7.0f, 4294967296.0f}));
        QVERIFY(iotest::sameValues(file.load("u64"), {3.0f, 18446744073709551616.0f}));
        QVERIFY(iotest::sameValues(file.load("bool"), {1.0f, 0.0f, 1.0f}));

        const Tensor empty = file.load("empty");
        QCOMPARE(empty.shape(), (std::vector<int64_t>{0, 4}));
        QCOMPARE(empty.size(), int64_t{0});
        const Tensor scalar = file.load("scalar");
        QCOMPARE(scalar.rank(), 0);
        QVERIFY(iotest::sameValues(scalar, {42.0f}));
        const Tensor weight = file.load("layer.0.weight");
        QCOMPARE(weight.name(), std::string("layer.0.weight"));
        QCOMPARE(weight.shape(), (std::vector<int64_t>{2, 2}));
        QVERIFY(iotest::sameValues(weight, {1.0f, 2.0f, 3.0f, 4.0f}));
    }

    // Tensors are listed in the order of their data, not alphabetically nor by header position.
    void listsInDataOrder() {
        const std::string path = makeFile(
            "order.safetensors",
            R"({"m":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},"a":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},)"
            R"("z":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})",
            std::string("\x01\x02\x03\x04\x05", 5));
        const SafetensorsReader file(path);
        QCOMPARE(file.tensors().size(), std::size_t{3});
        QCOMPARE(file.tensors()[0].name, std::string("z"));
        QCOMPARE(file.tensors()[1].name, std::string("m"));
        QCOMPARE(file.tensors()[2].name, std::string("a"));
        QVERIFY(iotest::sameValues(file.load("z"), {1.0f, 2.0f}));
        QVERIFY(iotest::sameValues(file.load("m"), {3.0f, 4.0f}));
        QVERIFY(iotest::sameValues(file.load("a"), {5.0f}));
    }

    void noMetadataIsEmpty() {
        const SafetensorsReader file(iotest::dataPath("no_metadata.safetensors"));
        QVERIFY(file.metadata().empty());
        QVERIFY(iotest::sameValues(file.load("w"), {0.5f, -0.5f}));
    }

    // Every one of the 65536 float16 patterns against the compiler's own _Float16 conversion.
    void float16ConversionIsExactForAllPatterns() {
#if defined(__FLT16_MAX__)
        std::string data;
        for (uint32_t bits = 0; bits < 65536; ++bits) {
            data += static_cast<char>(bits & 0xFF);
            data += static_cast<char>(bits >> 8);
        }
        const std::string path =
            makeFile("all_halves.safetensors",
                     R"({"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}})", data);
        const Tensor halves = SafetensorsReader(path).load("h");
        for (uint32_t bits = 0; bits < 65536; ++bits) {
            const float expected = static_cast<float>(std::bit_cast<_Float16>(static_cast<uint16_t>(bits)));
            const float actual = halves.values()[bits];
            if (std::isnan(expected) ? !std::isnan(actual)
                                     : std::bit_cast<uint32_t>(expected) != std::bit_cast<uint32_t>(actual))
                QFAIL(qPrintable(
                    QStringLiteral("half 0x%1 gave %2").arg(bits, 4, 16).arg(static_cast<double>(actual))));
        }
#else
        QSKIP("the compiler has no _Float16 to compare with");
#endif
    }

    // A ~2 GB file whose data section is a hole: listing reads only the header and loading the
    // small tensor touches only its pages, so resident memory stays far below the file's size.
    void listsLargeSparseFileFromHeaderOnly() {
        const uint64_t hugeBytes = uint64_t{2000} * 1024 * 1024;
        const std::string header = R"({"__metadata__":{"note":"sparse"},"small":{"dtype":"F32","shape":[4],)"
                                   R"("data_offsets":[0,16]},"huge":{"dtype":"BF16","shape":[1024,1024000],)"
                                   R"("data_offsets":[16,)" +
                                   std::to_string(16 + hugeBytes) + "]}}";
        std::string small;
        for (float v : {1.0f, -2.0f, 0.25f, 8.0f}) {
            const auto bits = std::bit_cast<uint32_t>(v);
            for (int i = 0; i < 4; ++i)
                small += static_cast<char>((bits >> (8 * i)) & 0xFF);
        }
        const std::string path = makeFile("sparse.safetensors", header, small);
        const uint64_t fileSize = 8 + ((header.size() + 7) / 8) * 8 + 16 + hugeBytes;
        {
            const int fd = ::open(path.c_str(), O_WRONLY);
            QVERIFY(fd >= 0);
            QCOMPARE(::ftruncate(fd, static_cast<off_t>(fileSize)), 0);
            ::close(fd);
        }

        const uint64_t residentBefore = residentBytes();
        const auto file = openWeightFile(path);
        QCOMPARE(file->tensors().size(), std::size_t{2});
        const TensorInfo* huge = file->find("huge");
        QVERIFY(huge != nullptr);
        QCOMPARE(huge->elements, uint64_t{1024} * 1024000);
        QCOMPARE(huge->bytes, hugeBytes);
        QCOMPARE(file->metadata().at("note"), std::string("sparse"));
        QVERIFY(iotest::sameValues(file->load("small"), {1.0f, -2.0f, 0.25f, 8.0f}));
        const uint64_t growth = residentBytes() - std::min(residentBytes(), residentBefore);
        qInfo("file %llu bytes, resident growth %llu bytes", static_cast<unsigned long long>(fileSize),
              static_cast<unsigned long long>(growth));
        QVERIFY2(growth < uint64_t{64} * 1024 * 1024,
                 "listing and one small load must not read the file's data");
    }

    void survivesRandomCorruption() {
        const std::string original = iotest::readBytes(iotest::dataPath("all_dtypes.safetensors"));
        const int refused = iotest::survivedCorruptions(original, tempPath("corrupt.safetensors"),
                                                        original.size(), 3000, [](const std::string& path) {
                                                            const SafetensorsReader file(path);
                                                            for (const TensorInfo& info : file.tensors())
                                                                file.load(info.name);
                                                        });
        qInfo("%d of 3000 corrupted copies refused", refused);
        QVERIFY(refused > 0);
    }

    void refusesShortFiles() {
        const std::string empty = tempPath("empty.safetensors");
        QVERIFY(iotest::writeBytes(empty, ""));
        QS_VERIFY_ERROR(SafetensorsReader{empty}, empty, "shorter than the 8-byte header length");
        QS_VERIFY_ERROR(openWeightFile(empty), empty, "shorter");
        const std::string five = tempPath("five.safetensors");
        QVERIFY(iotest::writeBytes(five, std::string("\x01\x00\x00\x00\x00", 5)));
        QS_VERIFY_ERROR(SafetensorsReader{five}, five, "5 bytes");
    }

    void refusesBadHeaderLengths() {
        const std::string past = tempPath("past.safetensors");
        QVERIFY(iotest::writeBytes(past, iotest::littleEndian64(1000) + "{}      "));
        QS_VERIFY_ERROR(SafetensorsReader{past}, past,
                        "header length 1000 goes past the end of the file (16 bytes)");
        const std::string absurd = tempPath("absurd.safetensors");
        QVERIFY(iotest::writeBytes(absurd, iotest::littleEndian64(uint64_t{1} << 62) + "{}      "));
        QS_VERIFY_ERROR(SafetensorsReader{absurd}, absurd, "absurd");
        const std::string allOnes = tempPath("ones.safetensors");
        QVERIFY(iotest::writeBytes(allOnes, iotest::littleEndian64(~uint64_t{0}) + "{}      "));
        QS_VERIFY_ERROR(SafetensorsReader{allOnes}, allOnes, "absurd");
    }

    void refusesHeadersThatAreNotJsonObjects() {
        const std::string garbage = makeFile("garbage.safetensors", "{not json at all");
        QS_VERIFY_ERROR(SafetensorsReader{garbage}, garbage, "not valid JSON");
        const std::string array = makeFile("array.safetensors", "[1, 2, 3]");
        QS_VERIFY_ERROR(SafetensorsReader{array}, array, "not an object");
        const std::string binary = makeFile("binary.safetensors", std::string("{\"a\xff\": 1}"));
        QS_VERIFY_ERROR(SafetensorsReader{binary}, binary, "not valid JSON");
        // Deep nesting must be refused, not recursed into.
        const std::string deep =
            makeFile("deep.safetensors", std::string(200000, '[') + std::string(200000, ']'));
        QS_VERIFY_ERROR(SafetensorsReader{deep}, deep, "nested deeper");
        const std::string twice = makeFile("twice.safetensors",
                                           R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                           R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                           "ab");
        QS_VERIFY_ERROR(SafetensorsReader{twice}, twice, "\"w\" twice");
        const std::string badMetadata = makeFile("meta.safetensors", R"({"__metadata__":{"epoch":3}})");
        QS_VERIFY_ERROR(SafetensorsReader{badMetadata}, badMetadata, "__metadata__", "epoch");
    }

    void refusesEntriesWithMissingOrBadFields() {
        const std::string noDtype =
            makeFile("nodtype.safetensors", R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "abcd");
        QS_VERIFY_ERROR(SafetensorsReader{noDtype}, noDtype + ": w", "missing \"dtype\"");
        const std::string noShape =
            makeFile("noshape.safetensors", R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "abcd");
        QS_VERIFY_ERROR(SafetensorsReader{noShape}, noShape + ": w", "missing \"shape\"");
        const std::string noOffsets =
            makeFile("nooffsets.safetensors", R"({"w":{"dtype":"F32","shape":[1]}})", "abcd");
        QS_VERIFY_ERROR(SafetensorsReader{noOffsets}, noOffsets + ": w", "missing \"data_offsets\"");
        const std::string notObject = makeFile("notobject.safetensors", R"({"w":5})");
        QS_VERIFY_ERROR(SafetensorsReader{notObject}, notObject + ": w", "not an object");
        const std::string unknown = makeFile(
            "unknown.safetensors", R"({"w":{"dtype":"C64","shape":[4],"data_offsets":[0,4]}})", "abcd");
        QS_VERIFY_ERROR(SafetensorsReader{unknown}, unknown + ": w", "unsupported dtype \"C64\"", "BF16");
        const std::string badDim = makeFile(
            "baddim.safetensors", R"({"w":{"dtype":"U8","shape":[2.5],"data_offsets":[0,2]}})", "ab");
        QS_VERIFY_ERROR(SafetensorsReader{badDim}, badDim + ": w", "not an integer");
        const std::string badOffsets = makeFile(
            "badoffsets.safetensors", R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0]}})", "ab");
        QS_VERIFY_ERROR(SafetensorsReader{badOffsets}, badOffsets + ": w", "data_offsets");
    }

    void refusesBadShapes() {
        const std::string negative =
            makeFile("negative.safetensors", R"({"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}})");
        QS_VERIFY_ERROR(SafetensorsReader{negative}, negative + ": w", "negative dimension -1");
        const std::string overflow =
            makeFile("overflow.safetensors",
                     R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})");
        QS_VERIFY_ERROR(SafetensorsReader{overflow}, overflow + ": w", "element count", "overflows");
        // 2^61 elements pass the element limit but their byte size (2^64) does not fit.
        const std::string bytesOverflow =
            makeFile("bytesoverflow.safetensors",
                     R"({"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})");
        QS_VERIFY_ERROR(SafetensorsReader{bytesOverflow}, bytesOverflow + ": w", "overflows");
        const std::string tooBig =
            makeFile("toobig.safetensors",
                     R"({"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,0]}})");
        QS_VERIFY_ERROR(SafetensorsReader{tooBig}, tooBig + ": w", "int64");
    }

    void refusesBadByteRanges() {
        const std::string data(24, '\0');
        const std::string mismatch = makeFile(
            "mismatch.safetensors", R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", data);
        QS_VERIFY_ERROR(SafetensorsReader{mismatch}, mismatch + ": w", "hold 12 bytes", "needs 16");
        const std::string reversed = makeFile(
            "reversed.safetensors", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", data);
        QS_VERIFY_ERROR(SafetensorsReader{reversed}, reversed + ": w", "reversed");
        const std::string pastEnd = makeFile(
            "pastend.safetensors", R"({"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", data);
        QS_VERIFY_ERROR(SafetensorsReader{pastEnd}, pastEnd + ": w",
                        "past the end of the data section (24 bytes)");
        const std::string hugeOffset = makeFile(
            "hugeoffset.safetensors",
            R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,18446744073709551616]}})",
            data);
        QS_VERIFY_ERROR(SafetensorsReader{hugeOffset}, hugeOffset + ": w", "data_offsets");
        const std::string overlap = makeFile(
            "overlap.safetensors",
            R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
            data);
        QS_VERIFY_ERROR(SafetensorsReader{overlap}, overlap + ": b", "overlaps", "\"a\"");
        // An empty tensor between two overlapping ones must not hide the overlap.
        const std::string hidden = makeFile(
            "hidden.safetensors",
            R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            data);
        QS_VERIFY_ERROR(SafetensorsReader{hidden}, hidden + ": b", "overlaps");
    }

    void refusesUnknownTensorNames() {
        const SafetensorsReader file(iotest::dataPath("no_metadata.safetensors"));
        QS_VERIFY_ERROR(file.load("nope"), iotest::dataPath("no_metadata.safetensors") + ": nope",
                        "no such tensor");
    }

    void refusesMissingFilesAndDirectories() {
        const std::string missing = tempPath("missing.safetensors");
        QS_VERIFY_ERROR(SafetensorsReader{missing}, missing, "cannot open");
        QS_VERIFY_ERROR(openWeightFile(missing), missing);
        QS_VERIFY_ERROR(openWeightFile(m_dir.path().toStdString()), m_dir.path().toStdString(), "directory");
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "tst_io_safetensors.moc"
