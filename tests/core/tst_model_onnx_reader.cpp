// OnnxReader: initializers of several dtypes, Constant nodes, subgraphs, external data and
// hostile files. The expected values are the formulas tools/make_model_test_data.py used.
#include "quantscope/Error.h"
#include "quantscope/io/OnnxReader.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QtTest>

#include <cmath>

using namespace quantscope;

namespace {

const std::string kData = QUANTSCOPE_TEST_DATA "/model";

// Runs `f`, expecting an Error whose text contains every one of `parts`.
template <typename F> void expectError(F f, std::initializer_list<const char*> parts) {
    try {
        f();
    } catch (const Error& error) {
        for (const char* part : parts)
            QVERIFY2(QString::fromUtf8(error.what()).contains(QLatin1String(part)), error.what());
        return;
    }
    QFAIL("no error was thrown");
}

} // namespace

class TestModelOnnxReader : public QObject {
    Q_OBJECT

private slots:
    void listsInitializersConstantsAndSubgraphs() {
        const OnnxReader reader(kData + "/reader_mixed.onnx");
        QCOMPARE(reader.format(), std::string("onnx"));
        std::map<std::string, TensorInfo> byName;
        for (const auto& info : reader.tensors())
            byName[info.name] = info;
        QCOMPARE(byName.size(), std::size_t(7));
        QCOMPARE(byName.at("w32").dtype, DType::F32);
        QCOMPARE(byName.at("w32").shape, (std::vector<int64_t>{2, 3}));
        QCOMPARE(byName.at("w16").dtype, DType::F16);
        QCOMPARE(byName.at("w16").bytes, uint64_t(24));
        QCOMPARE(byName.at("w8").dtype, DType::I8);
        QCOMPARE(byName.at("w8").bytes, uint64_t(5));
        QCOMPARE(byName.at("shape").dtype, DType::I64);
        QCOMPARE(byName.at("then_w").shape, (std::vector<int64_t>{1}));   // inside the If's then-branch
        QCOMPARE(byName.at("k").shape, (std::vector<int64_t>{3}));        // a Constant node's output
        QCOMPARE(byName.at("else_out").shape, (std::vector<int64_t>{1})); // a Constant in a subgraph
        QCOMPARE(reader.metadata().at("opset_import"), std::string("ai.onnx 13"));
    }

    void convertsValuesToFloat() {
        const OnnxReader reader(kData + "/reader_mixed.onnx");
        const Tensor w32 = reader.load("w32");
        for (int i = 0; i < 6; ++i)
            QCOMPARE(w32.values()[i], i / 4.0f - 0.5f);
        const Tensor w16 = reader.load("w16");
        QCOMPARE(w16.shape(), (std::vector<int64_t>{3, 4}));
        for (int i = 0; i < 12; ++i)
            QCOMPARE(w16.values()[i], i * 0.125f - 0.75f); // exact in float16
        const Tensor w8 = reader.load("w8");
        for (int i = 0; i < 5; ++i)
            QCOMPARE(w8.values()[i], float(i * 3 - 7));
        QCOMPARE(reader.load("shape").values()[1], 3.0f);
        const Tensor k = reader.load("k");
        QCOMPARE(k.values()[0], 1.5f);
        QCOMPARE(k.values()[1], -2.5f);
        QCOMPARE(k.values()[2], 4.0f);
        QCOMPARE(reader.load("then_w").values()[0], 7.0f);
        QCOMPARE(reader.load("else_out").values()[0], -7.0f);
        expectError([&] { reader.load("no_such_tensor"); }, {"no_such_tensor", "reader_mixed.onnx"});
    }

    void demoModelWeightsMatchSafetensorsNames() {
        const OnnxReader reader(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_mlp.onnx");
        QCOMPARE(reader.tensors().size(), std::size_t(6));
        const TensorInfo* fc1 = reader.find("fc1.weight");
        QVERIFY(fc1 != nullptr);
        QCOMPARE(fc1->shape, (std::vector<int64_t>{256, 64}));
        QCOMPARE(reader.load("fc1.weight").size(), int64_t(256 * 64));
    }

    void readsExternalData() {
        const OnnxReader reader(kData + "/external.onnx");
        const Tensor w = reader.load("ext_w");
        QCOMPARE(w.shape(), (std::vector<int64_t>{2, 3}));
        for (int i = 0; i < 6; ++i)
            QCOMPARE(w.values()[i], i - 2.5f);
        // The executor reads the same data: Relu of the initializer.
        QCOMPARE(loadOnnxGraph(kData + "/external.onnx").initializers.at("ext_w").data[5], 2.5f);
    }

    void hostileExternalDataIsRefused_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("expected");
        QTest::newRow("offset past end") << "external_offset_past_end.onnx"
                                         << "past the end";
        QTest::newRow("offset near 2^63") << "external_huge_offset.onnx"
                                          << "past the end";
        QTest::newRow("length disagrees") << "external_wrong_length.onnx"
                                          << "length 20";
        QTest::newRow("leaves the folder") << "external_escape.onnx"
                                           << "leaves the model's folder";
        QTest::newRow("missing file") << "external_missing.onnx"
                                      << "no_such_file.bin";
    }

    void hostileExternalDataIsRefused() {
        QFETCH(QString, file);
        QFETCH(QString, expected);
        const std::string path = kData + "/" + file.toStdString();
        const std::string text = expected.toStdString();
        expectError([&] { OnnxReader reader(path); }, {text.c_str(), "ext_w"});
        expectError([&] { loadOnnxGraph(path); }, {text.c_str()});
    }

    void truncatedAndForeignFilesAreErrors() {
        expectError([&] { OnnxReader reader(kData + "/truncated.onnx"); },
                    {"truncated.onnx", "not a valid ONNX model"});
        expectError([&] { OnnxReader reader(kData + "/not_onnx.onnx"); }, {"not_onnx.onnx"});
        expectError([&] { OnnxReader reader(kData + "/does_not_exist.onnx"); },
                    {"does_not_exist.onnx", "cannot open"});
        expectError([&] { loadOnnxGraph(kData + "/truncated.onnx"); }, {"truncated.onnx"});
        // A valid npy file is a valid protobuf prefix of nothing: refused as ONNX.
        expectError([&] { OnnxReader reader(kData + "/digits_mlp_test_logits.npy"); },
                    {"digits_mlp_test_logits.npy"});
    }

    void everyTruncationIsAnErrorNotACrash() {
        // Cut the mixed model at every length: each prefix either parses or throws Error.
        QFile source(QString::fromStdString(kData + "/reader_mixed.onnx"));
        QVERIFY(source.open(QIODevice::ReadOnly));
        const QByteArray bytes = source.readAll();
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("cut.onnx")).toStdString();
        int refused = 0;
        for (int length = 0; length < bytes.size(); length += 7) {
            QFile cut(QString::fromStdString(path));
            QVERIFY(cut.open(QIODevice::WriteOnly | QIODevice::Truncate));
            cut.write(bytes.left(length));
            cut.close();
            try {
                OnnxReader reader(path);
                for (const auto& info : reader.tensors())
                    reader.load(info.name);
            } catch (const Error&) {
                ++refused;
            }
        }
        QVERIFY(refused > bytes.size() / 7 / 2);
    }
};

QTEST_GUILESS_MAIN(TestModelOnnxReader)
#include "tst_model_onnx_reader.moc"
