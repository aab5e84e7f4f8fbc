// Typed values through the executor: an int64 shape computation (Shape -> Gather -> Concat ->
// Reshape) as exporters write it, constant folding at load, float samples fed to an int64 input,
// and a depthwise (grouped) Conv against a plain loop written here.
#include "quantscope/Error.h"
#include "quantscope/model/Executor.h"

#include <QtTest>

using namespace quantscope;

namespace {

Node makeNode(std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs) {
    Node node;
    node.name = outputs.front() + "_node";
    node.opType = std::move(op);
    node.inputs = std::move(inputs);
    node.outputs = std::move(outputs);
    return node;
}

Attribute intAttribute(int64_t value) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = value;
    return a;
}

Attribute intsAttribute(std::vector<int64_t> values) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(values);
    return a;
}

} // namespace

class TestModelTypedValues : public QObject {
    Q_OBJECT

private slots:
    void shapeComputationFlattensTheBatch() {
        // y = Reshape(x, Concat(Gather(Shape(x), 0), [-1])): [2, 3, 4] -> [2, 12], shapes in int64.
        Graph graph;
        graph.opset = 13;
        graph.inputs = {{"x", {-1, 3, 4}, true, DType::F32}};
        graph.outputs = {{"y", {}, false, DType::F32}, {"s", {}, false, DType::I64}};
        graph.initializers["zero"] = Value::integers(DType::I64, {1}, {0});
        graph.initializers["minus_one"] = Value::integers(DType::I64, {1}, {-1});
        graph.nodes.push_back(makeNode("Shape", {"x"}, {"full_shape"}));
        graph.nodes.push_back(makeNode("Gather", {"full_shape", "zero"}, {"batch"}));
        graph.nodes.push_back(makeNode("Concat", {"batch", "minus_one"}, {"s"}));
        graph.nodes.back().attributes["axis"] = intAttribute(0);
        graph.nodes.push_back(makeNode("Reshape", {"x", "s"}, {"y"}));
        const Executor executor(graph);
        std::vector<float> values(24);
        for (int i = 0; i < 24; ++i)
            values[i] = static_cast<float>(i) * 0.5f;
        const auto out = executor.run({{"x", Value::floats({2, 3, 4}, values)}});
        QCOMPARE(out.at("s").dtype, DType::I64);
        QCOMPARE(out.at("s").ints, (std::vector<int64_t>{2, -1}));
        QCOMPARE(out.at("y").shape, (std::vector<int64_t>{2, 12}));
        QCOMPARE(out.at("y").data, values);
    }

    void constantSubgraphsAreFoldedOnce() {
        // Cast(Range(0, 6, 1)) depends only on initializers: it becomes one, and only Add runs.
        Graph graph;
        graph.opset = 17;
        graph.inputs = {{"x", {6}, true, DType::F32}};
        graph.outputs = {{"y", {}, false, DType::F32}};
        graph.initializers["start"] = Value::integers(DType::I64, {}, {0});
        graph.initializers["limit"] = Value::integers(DType::I64, {}, {6});
        graph.initializers["delta"] = Value::integers(DType::I64, {}, {1});
        graph.nodes.push_back(makeNode("Range", {"start", "limit", "delta"}, {"steps"}));
        graph.nodes.push_back(makeNode("Cast", {"steps"}, {"steps_f"}));
        graph.nodes.back().attributes["to"] = intAttribute(1); // FLOAT
        graph.nodes.push_back(makeNode("Add", {"x", "steps_f"}, {"y"}));
        const Executor executor(graph);
        QCOMPARE(executor.graph().nodes.size(), std::size_t{1});
        QCOMPARE(executor.graph().nodes[0].opType, std::string("Add"));
        QVERIFY(executor.graph().initializers.count("steps_f"));
        QVERIFY(!executor.graph().initializers.count("start")); // read only by the folded Range
        const auto out = executor.run({{"x", Value::floats({6}, {10, 10, 10, 10, 10, 10})}});
        QCOMPARE(out.at("y").data, (std::vector<float>{10, 11, 12, 13, 14, 15}));
    }

    void floatSamplesFeedAnInt64Input() {
        // Token ids arrive as float32 samples; the declared int64 input gets exact integers.
        Graph graph;
        graph.opset = 13;
        graph.inputs = {{"ids", {3}, true, DType::I64}};
        graph.outputs = {{"rows", {}, false, DType::F32}};
        graph.initializers["table"] = Value::floats({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
        graph.nodes.push_back(makeNode("Gather", {"table", "ids"}, {"rows"}));
        const Executor executor(graph);
        const auto out = executor.run({{"ids", Value::floats({3}, {3, 0, 2})}});
        QCOMPARE(out.at("rows").shape, (std::vector<int64_t>{3, 2}));
        QCOMPARE(out.at("rows").data, (std::vector<float>{30, 31, 0, 1, 20, 21}));
        QVERIFY_THROWS_EXCEPTION(Error, executor.run({{"ids", Value::floats({3}, {4, 0, 0})}})); // row 4 of 4
    }

    void depthwiseConvMatchesAPlainLoop() {
        // 3 channels, one 3x3 filter each (group = 3), stride 2, pads 1, on a 1 x 3 x 7 x 6 image.
        const int64_t channels = 3, h = 7, w = 6, k = 3, stride = 2, pad = 1;
        std::vector<float> x(channels * h * w), filters(channels * k * k), bias{0.5f, -1.0f, 2.0f};
        for (std::size_t i = 0; i < x.size(); ++i)
            x[i] = static_cast<float>((static_cast<int>(i) * 7) % 11) - 5.0f;
        for (std::size_t i = 0; i < filters.size(); ++i)
            filters[i] = static_cast<float>((static_cast<int>(i) * 5) % 7) * 0.25f - 0.75f;
        Graph graph;
        graph.opset = 11;
        graph.inputs = {{"x", {1, channels, h, w}, true, DType::F32}};
        graph.outputs = {{"y", {}, false, DType::F32}};
        graph.initializers["w"] = Value::floats({channels, 1, k, k}, filters);
        graph.initializers["b"] = Value::floats({channels}, bias);
        graph.nodes.push_back(makeNode("Conv", {"x", "w", "b"}, {"y"}));
        graph.nodes.back().attributes["group"] = intAttribute(channels);
        graph.nodes.back().attributes["strides"] = intsAttribute({stride, stride});
        graph.nodes.back().attributes["pads"] = intsAttribute({pad, pad, pad, pad});
        const auto out = Executor(graph).run({{"x", Value::floats({1, channels, h, w}, x)}});
        const int64_t outH = (h + 2 * pad - k) / stride + 1, outW = (w + 2 * pad - k) / stride + 1;
        QCOMPARE(out.at("y").shape, (std::vector<int64_t>{1, channels, outH, outW}));
        for (int64_t c = 0; c < channels; ++c) {
            for (int64_t oy = 0; oy < outH; ++oy) {
                for (int64_t ox = 0; ox < outW; ++ox) {
                    double sum = bias[c];
                    for (int64_t i = 0; i < k; ++i) {
                        for (int64_t j = 0; j < k; ++j) {
                            const int64_t iy = oy * stride - pad + i, ix = ox * stride - pad + j;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                sum += static_cast<double>(x[(c * h + iy) * w + ix]) *
                                       filters[(c * k + i) * k + j];
                        }
                    }
                    const float got = out.at("y").data[(c * outH + oy) * outW + ox];
                    QVERIFY2(std::abs(got - sum) <= 1e-5 * std::max(1.0, std::abs(sum)),
                             qPrintable(QStringLiteral("c %1 (%2, %3): %4 vs %5")
                                            .arg(c)
                                            .arg(oy)
                                            .arg(ox)
                                            .arg(got)
                                            .arg(sum)));
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestModelTypedValues)
#include "tst_model_typed_values.moc"
