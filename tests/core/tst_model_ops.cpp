// fp32 executor against reference outputs computed independently by numpy (and checked against
// PyTorch where it has the op) in tools/make_model_test_data.py and tools/train_demo.py.
#include "quantscope/Error.h"
#include "quantscope/io/NpyReader.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <set>

using namespace quantscope;

namespace {

const std::string kData = QUANTSCOPE_TEST_DATA "/model";

Value readNpy(const std::string& path) {
    const NpyReader reader(path);
    const Tensor tensor = reader.load(reader.tensors().at(0).name);
    Value value;
    value.shape = tensor.shape();
    value.data.assign(tensor.values().begin(), tensor.values().end());
    return value;
}

// |actual - expected| <= 1e-5 * max(|expected|, 1): relative for ordinary values, absolute
// near zero where a relative bound means nothing.
void compareOutputs(const Value& actual, const Value& expected, const std::string& what) {
    QCOMPARE(actual.shape, expected.shape);
    QCOMPARE(actual.data.size(), expected.data.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < expected.data.size(); ++i) {
        const double e = expected.data[i];
        const double error = std::abs(actual.data[i] - e) / std::max(std::abs(e), 1.0);
        worst = std::max(worst, error);
        if (error > 1e-5)
            QFAIL(qPrintable(
                QString::fromStdString(what) +
                QStringLiteral(": element %1 is %2, expected %3").arg(i).arg(actual.data[i]).arg(e)));
    }
    qInfo("%s: worst relative error %.3g", what.c_str(), worst);
}

} // namespace

class TestModelOps : public QObject {
    Q_OBJECT

private slots:
    void everyReferenceOpIsSupported() {
        // Each op of the reference graphs is supported at the graph's opset (the wider op set is
        // checked against ONNX's own node tests in tst_onnx_backend).
        for (const auto& entry : std::filesystem::directory_iterator(kData + "/ops")) {
            if (entry.path().extension() == ".onnx")
                QVERIFY2(Executor::unsupportedParts(loadOnnxGraph(entry.path().string())).empty(),
                         entry.path().c_str());
        }
        QVERIFY(Executor::supportedOps().size() >= 100);
    }

    void singleOp_data() {
        QTest::addColumn<QString>("name");
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(kData + "/ops")) {
            if (entry.path().extension() == ".onnx")
                names.push_back(entry.path().stem().string());
        }
        std::sort(names.begin(), names.end());
        QVERIFY(names.size() >= 40);
        for (const auto& name : names)
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }

    void singleOp() {
        QFETCH(QString, name);
        const std::string base = kData + "/ops/" + name.toStdString();
        const Executor executor(loadOnnxGraph(base + ".onnx"));
        std::map<std::string, Value> inputs;
        for (std::size_t k = 0; k < executor.graph().inputs.size(); ++k)
            inputs[executor.graph().inputs[k].name] = readNpy(base + "_input_" + std::to_string(k) + ".npy");
        const auto outputs = executor.run(inputs);
        QCOMPARE(outputs.size(), std::size_t(1));
        compareOutputs(outputs.begin()->second, readNpy(base + "_output.npy"), name.toStdString());
    }

    void demoModels_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("image");
        QTest::newRow("mlp") << "mlp" << false;
        QTest::newRow("cnn") << "cnn" << true;
    }

    void demoModels() {
        QFETCH(QString, model);
        QFETCH(bool, image);
        const Executor executor(
            loadOnnxGraph(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_" + model.toStdString() + ".onnx"));
        Value samples = readNpy(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_test.npy");
        QCOMPARE(samples.shape, (std::vector<int64_t>{539, 64}));
        if (image)
            samples.shape = {539, 1, 8, 8};
        const auto outputs = executor.run({{"input", samples}});
        const Value& logits = outputs.at("logits");
        compareOutputs(logits, readNpy(kData + "/digits_" + model.toStdString() + "_test_logits.npy"),
                       model.toStdString());

        // The labels agree with the reference accuracy printed by the training script.
        const Value labels = readNpy(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_test_labels.npy");
        int correct = 0;
        for (int64_t i = 0; i < 539; ++i) {
            const float* row = logits.data.data() + i * 10;
            correct += (std::max_element(row, row + 10) - row) == static_cast<int64_t>(labels.data[i]);
        }
        QCOMPARE(correct, model == QLatin1String("mlp") ? 526 : 532);
    }

    void unsupportedOpNamesOpAndNode() {
        try {
            Executor executor(loadOnnxGraph(kData + "/unsupported_op.onnx"));
            QFAIL("an unsupported op was accepted");
        } catch (const Error& error) {
            const QString message = QString::fromUtf8(error.what());
            QVERIFY2(message.contains(QLatin1String("Hardmax")), error.what());
            QVERIFY2(message.contains(QLatin1String("suspicious_hardmax")), error.what());
        }
    }

    void wrongInputShapeIsAnError() {
        const Executor executor(loadOnnxGraph(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_mlp.onnx"));
        Value bad;
        bad.shape = {2, 63};
        bad.data.assign(126, 0.5f);
        try {
            executor.run({{"input", bad}});
            QFAIL("a 2 x 63 input was accepted for N x 64");
        } catch (const Error& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(QLatin1String("[2, 63]")), error.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, executor.run({}));
    }

    void hostileAttributesAreErrors() {
        // Graphs built in memory with attributes no exporter would write: each is an Error, never
        // an overflow or a read out of bounds.
        Graph graph = loadOnnxGraph(kData + "/ops/conv_basic.onnx");
        Value x = readNpy(kData + "/ops/conv_basic_input_0.npy");
        auto runWith = [&](const std::string& key, std::vector<int64_t> ints) {
            Graph changed = graph;
            changed.nodes[0].attributes[key].kind = Attribute::Kind::Ints;
            changed.nodes[0].attributes[key].ints = std::move(ints);
            const Executor executor(changed);
            return executor.run({{"x", x}});
        };
        QVERIFY_THROWS_EXCEPTION(Error, runWith("pads", {int64_t{1} << 62, 0, int64_t{1} << 62, 0}));
        QVERIFY_THROWS_EXCEPTION(Error, runWith("pads", {-1, 0, 0, 0}));
        QVERIFY_THROWS_EXCEPTION(Error, runWith("strides", {0, 1}));
        QVERIFY_THROWS_EXCEPTION(Error, runWith("dilations", {int64_t{1} << 40, 1}));
        QVERIFY_THROWS_EXCEPTION(Error, runWith("kernel_shape", {5, 5})); // disagrees with the weights
        QVERIFY_THROWS_EXCEPTION(Error, runWith("pads", {1, 1}));         // 2-D needs 4 pads

        Graph reshape = loadOnnxGraph(kData + "/ops/reshape.onnx");
        const Value rx = readNpy(kData + "/ops/reshape_input_0.npy");
        for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{
                 {-1, -1}, {int64_t{1} << 40, int64_t{1} << 40}, {7, -1}, {-2, 60}, {0, 0, 0, 0, 0}}) {
            Graph changed = reshape;
            Value& target = changed.initializers.at("shape");
            target.ints = shape;
            target.data.assign(shape.begin(), shape.end());
            target.shape = {static_cast<int64_t>(shape.size())};
            const Executor executor(changed);
            QVERIFY_THROWS_EXCEPTION(Error, executor.run({{"x", rx}}));
        }
    }

    void badOpArgumentsAreErrors() {
        // A Conv whose input is not 4-D, fed through the conv_basic graph with a 3-D tensor:
        // the declared input shape refuses it before the op sees it.
        const Executor executor(loadOnnxGraph(kData + "/ops/conv_basic.onnx"));
        Value bad;
        bad.shape = {3, 7, 7};
        bad.data.assign(147, 1.0f);
        QVERIFY_THROWS_EXCEPTION(Error, executor.run({{"x", bad}}));
    }
};

QTEST_GUILESS_MAIN(TestModelOps)
#include "tst_model_ops.moc"
