// Ops added for ONNX's backend node tests refuse bad input with an Error naming the node (never
// a crash), and graphs of an opset older than 7 run only when each op is listed from that opset.
// Their numbers are checked against ONNX's own test data in tst_onnx_backend; the values here are
// worked out by hand.
#include "quantscope/Error.h"
#include "quantscope/model/Executor.h"

#include <QtTest>

#include <cmath>

using namespace quantscope;

namespace {

Attribute intsAttribute(std::vector<int64_t> values) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(values);
    return a;
}

Attribute intAttribute(int64_t value) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = value;
    return a;
}

GraphValueInfo declared(const std::string& name) {
    GraphValueInfo info;
    info.name = name;
    return info;
}

Attribute stringAttribute(std::string value) {
    Attribute a;
    a.kind = Attribute::Kind::String;
    a.s = std::move(value);
    return a;
}

// A one-node graph named "checked" reading inputs x0, x1... and writing y0, y1...
Graph oneNode(const std::string& op, std::size_t inputs, std::size_t outputs, int64_t opset,
              std::map<std::string, Attribute> attributes = {}) {
    Graph graph;
    graph.opset = opset;
    Node node;
    node.name = "checked";
    node.opType = op;
    node.attributes = std::move(attributes);
    for (std::size_t i = 0; i < inputs; ++i) {
        node.inputs.push_back("x" + std::to_string(i));
        graph.inputs.push_back(declared(node.inputs.back()));
    }
    for (std::size_t i = 0; i < outputs; ++i) {
        node.outputs.push_back("y" + std::to_string(i));
        graph.outputs.push_back(declared(node.outputs.back()));
    }
    graph.nodes.push_back(node);
    return graph;
}

// Runs `graph` on `values` (x0, x1...), declaring each input with the type it is fed.
std::map<std::string, Value> outputsOf(Graph graph, std::vector<Value> values) {
    std::map<std::string, Value> inputs;
    for (std::size_t i = 0; i < values.size(); ++i) {
        graph.inputs[i].dtype = values[i].dtype;
        inputs["x" + std::to_string(i)] = std::move(values[i]);
    }
    return Executor(std::move(graph)).run(std::move(inputs));
}

// The message of the Error running the graph throws ("" when none).
QString failureOf(const Graph& graph, std::vector<Value> values) {
    try {
        outputsOf(graph, std::move(values));
    } catch (const Error& error) {
        return QString::fromUtf8(error.what());
    }
    return {};
}

void verifyNamesNode(const QString& message, const char* part) {
    QVERIFY2(message.contains(QLatin1String("'checked'")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String(part)),
             qPrintable(message + QStringLiteral(" lacks ") + QLatin1String(part)));
}

} // namespace

class TestModelOpChecks : public QObject {
    Q_OBJECT

private slots:
    void olderOpsetRunsOnlyUnchangedOps() {
        // Softsign is unchanged since opset 1: x / (1 + |x|).
        const auto out = outputsOf(oneNode("Softsign", 1, 1, 1), {Value::floats({2}, {1, -3})});
        QCOMPARE(out.at("y0").data, (std::vector<float>{0.5f, -0.75f}));
        // Relu is listed from opset 7 only: an opset-6 graph is refused, naming the node.
        const QString message = failureOf(oneNode("Relu", 1, 1, 6), {Value::floats({1}, {1})});
        verifyNamesNode(message, "opsets 7 to 21, the model has 6");
        QVERIFY2(failureOf(oneNode("Softsign", 1, 1, 0), {Value::floats({1}, {1})})
                     .contains(QLatin1String("opset 0")),
                 "opset 0 is refused");
    }

    void einsumChecksItsEquation() {
        const Value a = Value::floats({2, 3}, {1, 2, 3, 4, 5, 6});
        const Value b = Value::floats({3, 2}, {1, 0, 0, 1, 1, 1});
        // The matrix product [[1+3, 2+3], [4+6, 5+6]].
        const auto out =
            outputsOf(oneNode("Einsum", 2, 1, 12, {{"equation", stringAttribute("ij,jk->ik")}}), {a, b});
        QCOMPARE(out.at("y0").data, (std::vector<float>{4, 5, 10, 11}));
        verifyNamesNode(failureOf(oneNode("Einsum", 2, 1, 12, {{"equation", stringAttribute("ij,jk->ik")}}),
                                  {a, Value::floats({2, 2}, {1, 2, 3, 4})}),
                        "disagree");
        verifyNamesNode(
            failureOf(oneNode("Einsum", 2, 1, 12, {{"equation", stringAttribute("ijk,jk->i")}}), {a, b}),
            "rank 2");
        verifyNamesNode(failureOf(oneNode("Einsum", 1, 1, 12, {{"equation", stringAttribute("i1->i")}}), {a}),
                        "invalid character");
    }

    void recurrentCellsCheckWeightShapes() {
        // One step of a 1-unit RNN: tanh(2 * 0.5) with no recurrence yet.
        Graph rnn = oneNode("RNN", 3, 2, 14, {{"hidden_size", intAttribute(1)}});
        const auto out = outputsOf(rnn, {Value::floats({1, 1, 1}, {2}), Value::floats({1, 1, 1}, {0.5f}),
                                         Value::floats({1, 1, 1}, {0})});
        QCOMPARE(out.at("y1").data.size(), std::size_t{1});
        QVERIFY(std::abs(out.at("y1").data[0] - std::tanh(1.0f)) < 1e-6f);
        // LSTM with W for 3 gates instead of 4.
        const QString message =
            failureOf(oneNode("LSTM", 3, 1, 14, {{"hidden_size", intAttribute(2)}}),
                      {Value::floats({1, 1, 1}, {1}), Value::floats({1, 6, 1}, std::vector<float>(6)),
                       Value::floats({1, 8, 2}, std::vector<float>(16))});
        verifyNamesNode(message, "W must be");
    }

    void detectionOpsCheckTheirInputs() {
        // Two overlapping boxes (IoU 0.81) and one apart: the weaker overlapping one is dropped.
        Value boxes = Value::floats({1, 3, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 5, 5, 6, 6});
        Value scores = Value::floats({1, 1, 3}, {0.9f, 0.8f, 0.7f});
        const auto kept =
            outputsOf(oneNode("NonMaxSuppression", 4, 1, 11),
                      {boxes, scores, Value::integers(DType::I64, {1}, {3}), Value::floats({1}, {0.5f})});
        QCOMPARE(kept.at("y0").ints, (std::vector<int64_t>{0, 0, 0, 0, 0, 2}));
        verifyNamesNode(failureOf(oneNode("NonMaxSuppression", 2, 1, 11),
                                  {Value::floats({1, 3, 3}, std::vector<float>(9)), scores}),
                        "boxes [batch, boxes, 4]");
        verifyNamesNode(failureOf(oneNode("RoiAlign", 3, 1, 16), {Value::floats({1, 1, 2, 2}, {1, 2, 3, 4}),
                                                                  Value::floats({1, 4}, {0, 0, 1, 1}),
                                                                  Value::integers(DType::I64, {1}, {3})}),
                        "batch index 3");
    }

    void windowsOfThreeAxesCheckTheirAttributes() {
        // A 2x2x2 max pool over a 2x2x2 cube keeps its largest value.
        Value cube = Value::floats({1, 1, 2, 2, 2}, {1, 8, 3, 4, 5, 6, 7, 2});
        const auto out =
            outputsOf(oneNode("MaxPool", 1, 1, 12, {{"kernel_shape", intsAttribute({2, 2, 2})}}), {cube});
        QCOMPARE(out.at("y0").shape, (std::vector<int64_t>{1, 1, 1, 1, 1}));
        QCOMPARE(out.at("y0").data, (std::vector<float>{8}));
        verifyNamesNode(
            failureOf(oneNode("MaxPool", 1, 1, 12, {{"kernel_shape", intsAttribute({2, 2})}}), {cube}),
            "need 3 values");
        verifyNamesNode(
            failureOf(oneNode("Conv", 2, 1, 12), {cube, Value::floats({1, 1, 2, 2}, {1, 1, 1, 1})}),
            "do not match");
        verifyNamesNode(
            failureOf(oneNode("MaxUnpool", 2, 1, 11, {{"kernel_shape", intsAttribute({2, 2})}}),
                      {Value::floats({1, 1, 1, 1}, {5}), Value::integers(DType::I64, {1, 1, 1, 1}, {4})}),
            "index 4 is outside");
    }

    void integerConvolutionChecksTypes() {
        // 1x1 convolution of uint8 [3, 5] with zero point 1 by weight 2: (3-1)*2, (5-1)*2.
        const auto out =
            outputsOf(oneNode("ConvInteger", 3, 1, 10),
                      {Value::integers(DType::U8, {1, 1, 1, 2}, {3, 5}),
                       Value::integers(DType::U8, {1, 1, 1, 1}, {2}), Value::integers(DType::U8, {}, {1})});
        QCOMPARE(out.at("y0").ints, (std::vector<int64_t>{4, 8}));
        verifyNamesNode(
            failureOf(oneNode("ConvInteger", 2, 1, 10),
                      {Value::floats({1, 1, 1, 2}, {3, 5}), Value::integers(DType::U8, {1, 1, 1, 1}, {2})}),
            "uint8 or int8");
    }

    void signalOpsCheckSizes() {
        // A periodic Hann window of 4: 0.5 - 0.5 cos(2 pi k / 4) = 0, 0.5, 1, 0.5.
        const auto out = outputsOf(oneNode("HannWindow", 1, 1, 17), {Value::integers(DType::I32, {}, {4})});
        QCOMPARE(out.at("y0").shape, (std::vector<int64_t>{4}));
        const std::vector<float> expected{0.0f, 0.5f, 1.0f, 0.5f};
        for (std::size_t i = 0; i < expected.size(); ++i)
            QVERIFY(std::abs(out.at("y0").data[i] - expected[i]) < 1e-6f);
        verifyNamesNode(failureOf(oneNode("HannWindow", 1, 1, 17), {Value::integers(DType::I32, {}, {-1})}),
                        "outside [0, 2^24]");
        verifyNamesNode(failureOf(oneNode("DFT", 1, 1, 17), {Value::floats({4, 3}, std::vector<float>(12))}),
                        "[..., signal, 1 or 2]");
    }

    void tfIdfCountsThePoolsGrams() {
        // Unigrams 1 and 3 of the pool in tokens 1 2 1 3: counts 2 and 1.
        std::map<std::string, Attribute> attributes{{"ngram_counts", intsAttribute({0})},
                                                    {"ngram_indexes", intsAttribute({0, 1})},
                                                    {"pool_int64s", intsAttribute({1, 3})},
                                                    {"mode", stringAttribute("TF")}};
        const Value tokens = Value::integers(DType::I64, {4}, {1, 2, 1, 3});
        const auto out = outputsOf(oneNode("TfIdfVectorizer", 1, 1, 9, attributes), {tokens});
        QCOMPARE(out.at("y0").data, (std::vector<float>{2, 1}));
        attributes["mode"] = stringAttribute("BM25");
        verifyNamesNode(failureOf(oneNode("TfIdfVectorizer", 1, 1, 9, attributes), {tokens}), "mode 'BM25'");
        attributes["mode"] = stringAttribute("TF");
        attributes["ngram_indexes"] = intsAttribute({0});
        verifyNamesNode(failureOf(oneNode("TfIdfVectorizer", 1, 1, 9, attributes), {tokens}),
                        "ngram_indexes");
    }

    void uniqueOrdersByFirstOccurrenceWhenUnsorted() {
        const Value x = Value::integers(DType::I64, {6}, {3, 1, 3, 2, 1, 3});
        const auto sorted = outputsOf(oneNode("Unique", 1, 4, 11), {x});
        QCOMPARE(sorted.at("y0").ints, (std::vector<int64_t>{1, 2, 3}));
        QCOMPARE(sorted.at("y1").ints, (std::vector<int64_t>{1, 3, 0}));
        QCOMPARE(sorted.at("y2").ints, (std::vector<int64_t>{2, 0, 2, 1, 0, 2}));
        QCOMPARE(sorted.at("y3").ints, (std::vector<int64_t>{2, 1, 3}));
        const auto unsorted = outputsOf(oneNode("Unique", 1, 1, 11, {{"sorted", intAttribute(0)}}), {x});
        QCOMPARE(unsorted.at("y0").ints, (std::vector<int64_t>{3, 1, 2}));
        verifyNamesNode(failureOf(oneNode("Unique", 1, 1, 11, {{"axis", intAttribute(1)}}), {x}),
                        "axis 1 is outside");
    }
};

QTEST_GUILESS_MAIN(TestModelOpChecks)
#include "tst_model_op_checks.moc"
