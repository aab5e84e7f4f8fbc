// INT4 / UINT4 initializers (ONNX opset 21, two values per byte, the first in the low nibble), as
// the QDQ export writes them for 4-bit weights: read back exactly, and hostile ones (too few bytes,
// a packed int32_data entry that is no byte, a wrong count) are clear errors naming the tensor.
#include "quantscope/Error.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/tensor/Tensor.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <optional>

using namespace quantscope;

namespace {

// Protocol-buffer wire format, enough for a ModelProto holding one initializer.
void varint(std::string& out, uint64_t value) {
    while (value >= 0x80) {
        out += static_cast<char>((value & 0x7f) | 0x80);
        value >>= 7;
    }
    out += static_cast<char>(value);
}

void intField(std::string& out, int field, uint64_t value) {
    varint(out, static_cast<uint64_t>(field) << 3);
    varint(out, value);
}

void bytesField(std::string& out, int field, const std::string& bytes) {
    varint(out, (static_cast<uint64_t>(field) << 3) | 2);
    varint(out, bytes.size());
    out += bytes;
}

constexpr int kUint4 = 21;
constexpr int kInt4 = 22;

struct Initializer {
    std::vector<int64_t> dims;
    int dataType = kInt4;
    std::optional<std::string> raw;
    std::vector<int64_t> int32Data;
};

// ModelProto{ir_version 10, opset ai.onnx 21, graph{initializer "w"}}.
std::string modelBytes(const Initializer& w) {
    std::string tensor;
    for (int64_t d : w.dims)
        intField(tensor, 1, static_cast<uint64_t>(d));
    intField(tensor, 2, static_cast<uint64_t>(w.dataType));
    for (int64_t v : w.int32Data)
        intField(tensor, 5, static_cast<uint64_t>(v));
    bytesField(tensor, 8, "w");
    if (w.raw)
        bytesField(tensor, 9, *w.raw);
    std::string graph;
    bytesField(graph, 2, "g");
    bytesField(graph, 5, tensor);
    std::string opset;
    bytesField(opset, 1, "");
    intField(opset, 2, 21);
    std::string model;
    intField(model, 1, 10);
    bytesField(model, 7, graph);
    bytesField(model, 8, opset);
    return model;
}

} // namespace

class TestInteropInt4 : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_files = 0;

    std::string write(const Initializer& w) {
        const std::string path = m_dir.filePath(QStringLiteral("m%1.onnx").arg(++m_files)).toStdString();
        std::ofstream(path, std::ios::binary) << modelBytes(w);
        return path;
    }

    void expectError(const Initializer& w, const char* detail) {
        const std::string path = write(w);
        try {
            const auto file = openWeightFile(path);
            file->load("w");
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), path + ": w");
            QVERIFY2(error.detail().find(detail) != std::string::npos, error.what());
        }
    }

private slots:
    void int4RawData() {
        // -8, 7 | -1, 0 | 3, (padding): 0x78, 0x0f, 0x03.
        Initializer w;
        w.dims = {5};
        w.raw = std::string("\x78\x0f\x03", 3);
        const auto file = openWeightFile(write(w));
        QCOMPARE(file->tensors().size(), std::size_t(1));
        QCOMPARE(file->tensors().front().storage, std::string("int4"));
        QCOMPARE(file->tensors().front().bytes, uint64_t(3));
        const std::vector<float> expected{-8, 7, -1, 0, 3};
        const Tensor tensor = file->load("w");
        const auto values = tensor.values();
        QCOMPARE(std::vector<float>(values.begin(), values.end()), expected);
    }

    void uint4PackedInt32Data() {
        // onnx.helper.make_tensor's layout: int32_data holds the packed bytes. 15, 0 | 9.
        Initializer w;
        w.dims = {3};
        w.dataType = kUint4;
        w.int32Data = {0x0f, 0x09};
        const auto file = openWeightFile(write(w));
        QCOMPARE(file->tensors().front().storage, std::string("uint4"));
        const std::vector<float> expected{15, 0, 9};
        const Tensor tensor = file->load("w");
        const auto values = tensor.values();
        QCOMPARE(std::vector<float>(values.begin(), values.end()), expected);
    }

    void hostileInitializers() {
        Initializer shortRaw;
        shortRaw.dims = {5};
        shortRaw.raw = std::string("\x78\x0f", 2);
        expectError(shortRaw, "needs 3");

        Initializer notAByte;
        notAByte.dims = {2};
        notAByte.int32Data = {256};
        expectError(notAByte, "not a packed byte");

        Initializer wrongCount;
        wrongCount.dims = {2, 3}; // 6 values: 3 packed bytes
        wrongCount.int32Data = {1, 2};
        expectError(wrongCount, "needs 3");
    }
};

QTEST_GUILESS_MAIN(TestInteropInt4)
#include "tst_interop_int4.moc"
