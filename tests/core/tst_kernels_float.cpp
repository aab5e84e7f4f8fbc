// The fp32 ops between the GEMMs (FloatKernels.h) on every usable path against values computed
// here in double with std::erf / std::erfc / std::exp, within the bounds FloatKernels.h writes
// down; and the executor's Add / Sub / Mul / Div, Gelu, Erf, Softmax, LayerNormalization and
// Transpose against plain broadcasting loops written here.
#include "tst_kernels_paths.h"

#include "quantscope/kernels/FloatKernels.h"
#include "quantscope/model/Executor.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

using namespace quantscope;
using namespace quantscope::kernels;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// A dense sweep over [-limit, limit], the special values and random normals; an odd count so
// every path also runs its tail.
std::vector<float> sweep(float limit, std::mt19937& rng) {
    std::vector<float> x;
    for (float v = -limit; v <= limit; v += limit / 20000.0f)
        x.push_back(v);
    for (float v :
         {0.0f,       -0.0f,      1e-30f,      -1e-30f, 1e-40f, 0.49999997f, 0.5f,  0.99999994f, 1.0f,
          1.0000001f, 1.4142135f, -1.4142135f, 3.0f,    -3.0f,  5.0f,        -5.0f, 9.9f,        -9.9f,
          14.0f,      -14.0f,     30.0f,       -30.0f,  1e30f,  -1e30f,      kInf,  -kInf,       kNaN})
        x.push_back(v);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (int i = 0; i < 1001; ++i)
        x.push_back(normal(rng));
    if (x.size() % 8 == 0)
        x.push_back(0.25f);
    return x;
}

QString describe(const char* what, float x, double got, double expected) {
    return QStringLiteral("%1(%2) = %3, expected %4")
        .arg(QLatin1String(what))
        .arg(static_cast<double>(x), 0, 'g', 9)
        .arg(got, 0, 'g', 9)
        .arg(expected, 0, 'g', 9);
}

// Gelu in double through erfc, which keeps its relative precision in the negative tail.
double geluReference(double x) {
    return 0.5 * x * std::erfc(-x / std::numbers::sqrt2);
}

// Values of a [rows, length] tensor: normals of a given spread around `offset`.
std::vector<float> normalRows(std::mt19937& rng, size_t count, float offset, float spread) {
    std::normal_distribution<float> normal(offset, spread);
    std::vector<float> x(count);
    for (auto& v : x)
        v = normal(rng);
    return x;
}

Graph oneNodeGraph(const std::string& op, size_t inputs, int64_t opset) {
    Graph graph;
    graph.opset = opset;
    Node node;
    node.opType = op;
    node.name = "n";
    for (size_t i = 0; i < inputs; ++i) {
        node.inputs.push_back("x" + std::to_string(i));
        graph.inputs.push_back({node.inputs.back(), {}, false, DType::F32, true});
    }
    node.outputs = {"y"};
    graph.outputs.push_back({"y", {}, false, DType::F32, true});
    graph.nodes.push_back(node);
    return graph;
}

// Broadcasting reference for two operands (numpy's rule), computed with double arithmetic and
// rounded once: for + - * / that is the float result IEEE arithmetic must give.
Value broadcastReference(const Value& a, const Value& b, char op) {
    const size_t rank = std::max(a.shape.size(), b.shape.size());
    std::vector<int64_t> as(rank, 1), bs(rank, 1), shape(rank);
    std::copy(a.shape.begin(), a.shape.end(),
              as.begin() + static_cast<std::ptrdiff_t>(rank - a.shape.size()));
    std::copy(b.shape.begin(), b.shape.end(),
              bs.begin() + static_cast<std::ptrdiff_t>(rank - b.shape.size()));
    int64_t total = 1;
    for (size_t d = 0; d < rank; ++d) {
        shape[d] = as[d] == 1 ? bs[d] : as[d]; // a size-0 dimension broadcasts against 1 to 0
        total *= shape[d];
    }
    std::vector<float> out(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) {
        int64_t rest = i, ia = 0, ib = 0, strideA = 1, strideB = 1;
        for (size_t d = rank; d-- > 0;) {
            const int64_t at = rest % shape[d];
            rest /= shape[d];
            ia += (as[d] == 1 ? 0 : at) * strideA;
            ib += (bs[d] == 1 ? 0 : at) * strideB;
            strideA *= as[d];
            strideB *= bs[d];
        }
        const double x = a.data[static_cast<size_t>(ia)], y = b.data[static_cast<size_t>(ib)];
        const double r = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
        out[static_cast<size_t>(i)] = static_cast<float>(r);
    }
    return Value::floats(shape, out);
}

QString shapeText(const QList<qint64>& shape) {
    QStringList dims;
    for (qint64 d : shape)
        dims << QString::number(d);
    return QLatin1Char('[') + dims.join(QLatin1Char(',')) + QLatin1Char(']');
}

bool sameFloat(float x, float y) {
    return (std::isnan(x) && std::isnan(y)) || std::memcmp(&x, &y, sizeof x) == 0;
}

} // namespace

class TestKernelsFloat : public QObject {
    Q_OBJECT

private slots:
    void erfWithinBound_data() { kerneltest::addPathRows(); }
    void erfWithinBound() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("erf"));
        const std::vector<float> x = sweep(6.0f, rng);
        std::vector<float> y(x.size());
        erf(table, x.data(), x.size(), y.data());
        double worst = 0.0;
        for (size_t i = 0; i < x.size(); ++i) {
            if (std::isnan(x[i])) {
                QVERIFY(std::isnan(y[i]));
                continue;
            }
            const double expected = std::erf(static_cast<double>(x[i]));
            const double error = std::abs(y[i] - expected);
            // FloatKernels.h: 2e-7 absolute; 4 ulp of the value (2^-21 relative) below 0.5.
            const double bound = std::abs(x[i]) < 0.5f ? std::abs(expected) * 4.8e-7 + 2e-45 : 2e-7;
            worst = std::max(worst, error);
            QVERIFY2(error <= bound, qPrintable(describe("erf", x[i], y[i], expected)));
        }
        qInfo("%s: worst erf error %.3g over %zu values", isaName(isaPath), worst, x.size());
    }

    void geluWithinBound_data() { kerneltest::addPathRows(); }
    void geluWithinBound() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("gelu"));
        const std::vector<float> x = sweep(14.0f, rng);
        std::vector<float> y = x;
        gelu(table, y.data(), y.size(), y.data()); // in place
        double worstRelative = 0.0;
        for (size_t i = 0; i < x.size(); ++i) {
            if (std::isnan(x[i]) || x[i] == -kInf) { // -inf * 0: NaN in every path and in the formula
                QVERIFY(std::isnan(y[i]));
                continue;
            }
            if (x[i] == kInf) {
                QCOMPARE(y[i], kInf);
                continue;
            }
            const double expected = geluReference(x[i]);
            const double error = std::abs(y[i] - expected);
            // FloatKernels.h: 1e-6 relative, + the scalar reference's own cancellation in 1 + erf
            // (2^-53 of the bracket, times x / 2).
            const double relative = 1e-6;
            if (x[i] >= -5.0f && std::abs(expected) > 1e-30)
                worstRelative = std::max(worstRelative, error / std::abs(expected));
            QVERIFY2(error <= relative * std::abs(expected) + 1e-16 * std::abs(x[i]) + 2e-45,
                     qPrintable(describe("gelu", x[i], y[i], expected)));
        }
        qInfo("%s: worst gelu relative error %.3g", isaName(isaPath), worstRelative);
    }

    void softmaxWithinBound_data() { kerneltest::addPathRows(); }
    void softmaxWithinBound() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("softmax"));
        for (size_t length : {1u, 3u, 7u, 8u, 9u, 31u, 128u, 133u}) {
            const size_t rows = 5;
            std::vector<float> x = normalRows(rng, rows * length, 0.0f, 6.0f);
            x[length / 2] = -kInf; // row 0: a masked position
            for (size_t k = 0; k < length; ++k)
                x[length + k] += 80.0f;        // row 1: large logits, exp would overflow without the shift
            x[2 * length + length - 1] = kNaN; // row 2: a NaN poisons the row
            std::vector<float> y(x.size());
            softmaxRows(table, x.data(), rows, length, y.data());
            for (size_t r = 0; r < rows; ++r) {
                const float* row = x.data() + r * length;
                if (r == 2) {
                    for (size_t k = 0; k < length; ++k)
                        QVERIFY(std::isnan(y[r * length + k]));
                    continue;
                }
                double peak = -std::numeric_limits<double>::infinity(), sum = 0.0;
                for (size_t k = 0; k < length; ++k)
                    peak = std::max(peak, static_cast<double>(row[k]));
                for (size_t k = 0; k < length; ++k)
                    sum += std::exp(row[k] - peak);
                for (size_t k = 0; k < length; ++k) {
                    const double expected = std::exp(row[k] - peak) / sum;
                    const double got = y[r * length + k];
                    if (std::isnan(expected)) { // a row of only -inf: -inf - -inf
                        QVERIFY(std::isnan(got));
                        continue;
                    }
                    QVERIFY2(std::abs(got - expected) <= 2e-6 * expected + 1e-37,
                             qPrintable(describe("softmax", row[k], got, expected)));
                }
            }
        }
    }

    void layerNormWithinBound_data() { kerneltest::addPathRows(); }
    void layerNormWithinBound() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("layernorm"));
        for (size_t length : {1u, 5u, 8u, 17u, 768u, 771u}) {
            for (float offset : {0.0f, 300.0f}) { // a mean far from zero, relative to a spread of 0.05
                const size_t rows = 3;
                const std::vector<float> x =
                    normalRows(rng, rows * length, offset, offset == 0.0f ? 2.0f : 0.05f);
                const std::vector<float> scale = normalRows(rng, length, 1.0f, 0.2f);
                const std::vector<float> bias = normalRows(rng, length, 0.0f, 0.5f);
                const float epsilon = 1e-5f;
                std::vector<float> y(x.size()), mean(rows), inverseStd(rows);
                layerNormRows(table, x.data(), rows, length, scale.data(), bias.data(), epsilon, y.data(),
                              mean.data(), inverseStd.data());
                for (size_t r = 0; r < rows; ++r) {
                    const float* row = x.data() + r * length;
                    double sum = 0.0, squares = 0.0;
                    for (size_t i = 0; i < length; ++i)
                        sum += row[i];
                    const double mu = sum / static_cast<double>(length);
                    for (size_t i = 0; i < length; ++i)
                        squares += (row[i] - mu) * (row[i] - mu);
                    const double inverse = 1.0 / std::sqrt(squares / static_cast<double>(length) + epsilon);
                    QVERIFY(std::abs(mean[r] - mu) <= 1e-7 * std::abs(mu) + 1e-12);
                    QVERIFY(std::abs(inverseStd[r] - inverse) <= 1e-7 * inverse);
                    for (size_t i = 0; i < length; ++i) {
                        const double normalized = (row[i] - mu) * inverse * scale[i];
                        const double expected = normalized + bias[i];
                        const double got = y[r * length + i];
                        QVERIFY2(std::abs(got - expected) <=
                                     1e-5 * (std::abs(normalized) + std::abs(bias[i])) + 1e-6,
                                 qPrintable(describe("layernorm", row[i], got, expected)));
                    }
                }
            }
        }
    }

    void binaryIsExact_data() { kerneltest::addPathRows(); }
    void binaryIsExact() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("binary"));
        // One value more than the longest count after each offset (a starts at 1, b at 2).
        std::vector<float> a = normalRows(rng, 1004, 0.0f, 10.0f), b = normalRows(rng, 1005, 0.0f, 10.0f);
        a[3] = kNaN, a[4] = kInf, b[5] = 0.0f, b[6] = -0.0f, a[7] = 3e38f, b[7] = 3e38f, b[9] = -kInf;
        const char symbols[] = {'+', '-', '*', '/'};
        const FloatBinaryOp ops[] = {FloatBinaryOp::Add, FloatBinaryOp::Sub, FloatBinaryOp::Mul,
                                     FloatBinaryOp::Div};
        for (int o = 0; o < 4; ++o) {
            for (size_t count : {0u, 1u, 7u, 8u, 9u, 1003u}) {
                for (int steps = 0; steps < 3; ++steps) { // full op full, full op scalar, scalar op full
                    const size_t aStep = steps == 2 ? 0 : 1, bStep = steps == 1 ? 0 : 1;
                    std::vector<float> y(count);
                    binary(table, ops[o], a.data() + 1, aStep, b.data() + 2, bStep, count, y.data());
                    for (size_t i = 0; i < count; ++i) {
                        const double x1 = a[1 + i * aStep], x2 = b[2 + i * bStep];
                        const char s = symbols[o];
                        const auto expected = static_cast<float>(s == '+'   ? x1 + x2
                                                                 : s == '-' ? x1 - x2
                                                                 : s == '*' ? x1 * x2
                                                                            : x1 / x2);
                        QVERIFY2(sameFloat(y[i], expected),
                                 qPrintable(QStringLiteral("%1 %2 %3 = %4, expected %5")
                                                .arg(x1)
                                                .arg(QChar::fromLatin1(s))
                                                .arg(x2)
                                                .arg(static_cast<double>(y[i]))
                                                .arg(static_cast<double>(expected))));
                    }
                }
            }
        }
    }

    // The executor's arithmetic on the shapes that take the kernel (bias over the last axis, a
    // per-channel factor, a scalar on either side, equal shapes) and on one that does not
    // ([N, 1] with [1, M]), against the plain broadcasting loop.
    void executorArithmeticBroadcasts_data() {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QList<qint64>>("shapeA");
        QTest::addColumn<QList<qint64>>("shapeB");
        const std::pair<QList<qint64>, QList<qint64>> shapes[] = {{{2, 5, 19}, {19}},
                                                                  {{2, 5, 19}, {2, 5, 19}},
                                                                  {{2, 3, 4, 5}, {1, 3, 1, 1}},
                                                                  {{2, 3, 4, 5}, {}},
                                                                  {{}, {4, 9}},
                                                                  {{4, 1}, {1, 9}},
                                                                  {{3, 4, 5}, {4, 1}},
                                                                  {{7}, {3, 1, 7}},
                                                                  {{2, 3, 4}, {1, 1, 4}},
                                                                  {{0, 3}, {3}}};
        for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
            for (const auto& [a, b] : shapes)
                QTest::newRow(
                    qPrintable(QStringLiteral("%1 %2 %3").arg(QLatin1String(op), shapeText(a), shapeText(b))))
                    << QString::fromLatin1(op) << a << b;
        }
    }
    void executorArithmeticBroadcasts() {
        QFETCH(QString, op);
        QFETCH(QList<qint64>, shapeA);
        QFETCH(QList<qint64>, shapeB);
        std::mt19937 rng(kerneltest::seed("executor arithmetic"));
        auto make = [&](const QList<qint64>& shape) {
            std::vector<int64_t> dims(shape.begin(), shape.end());
            int64_t count = 1;
            for (int64_t d : dims)
                count *= d;
            std::vector<float> values = normalRows(rng, static_cast<size_t>(count), 0.5f, 3.0f);
            return Value::floats(dims, values);
        };
        const Value a = make(shapeA), b = make(shapeB);
        const Executor executor(oneNodeGraph(op.toStdString(), 2, 14));
        const std::vector<Value> out = executor.runNode(executor.graph().nodes[0], {&a, &b});
        const char symbol = op == QLatin1String("Add")   ? '+'
                            : op == QLatin1String("Sub") ? '-'
                            : op == QLatin1String("Mul") ? '*'
                                                         : '/';
        const Value expected = broadcastReference(a, b, symbol);
        QCOMPARE(out.at(0).shape, expected.shape);
        QCOMPARE(out.at(0).data.size(), expected.data.size());
        for (size_t i = 0; i < expected.data.size(); ++i)
            QVERIFY2(sameFloat(out[0].data[i], expected.data[i]),
                     qPrintable(QStringLiteral("element %1").arg(i)));
    }

    // Gelu, Erf, Softmax (last axis) and LayerNormalization through the executor follow the
    // active path's kernels and so the same bounds.
    void executorFloatOps() {
        std::mt19937 rng(kerneltest::seed("executor float ops"));
        const Value x = Value::floats({3, 4, 37}, normalRows(rng, 3 * 4 * 37, 0.0f, 3.0f));
        {
            const Executor executor(oneNodeGraph("Gelu", 1, 20));
            const Value y = executor.runNode(executor.graph().nodes[0], {&x}).at(0);
            for (size_t i = 0; i < x.data.size(); ++i)
                QVERIFY(std::abs(y.data[i] - geluReference(x.data[i])) <=
                        1e-6 * std::abs(geluReference(x.data[i])) + 1e-16 * std::abs(x.data[i]) + 2e-45);
        }
        {
            const Executor executor(oneNodeGraph("Erf", 1, 13));
            const Value y = executor.runNode(executor.graph().nodes[0], {&x}).at(0);
            for (size_t i = 0; i < x.data.size(); ++i)
                QVERIFY(std::abs(y.data[i] - std::erf(static_cast<double>(x.data[i]))) <= 2e-7);
        }
        {
            const Executor executor(oneNodeGraph("Softmax", 1, 13));
            const Value y = executor.runNode(executor.graph().nodes[0], {&x}).at(0);
            for (size_t row = 0; row < 12; ++row) {
                double sum = 0.0;
                for (size_t k = 0; k < 37; ++k)
                    sum += y.data[row * 37 + k];
                QVERIFY(std::abs(sum - 1.0) < 1e-5);
                QVERIFY(y.data[row * 37] > 0.0f);
            }
        }
        {
            const Value scale = Value::floats({37}, normalRows(rng, 37, 1.0f, 0.1f));
            const Value bias = Value::floats({37}, normalRows(rng, 37, 0.0f, 0.1f));
            const Executor executor(oneNodeGraph("LayerNormalization", 3, 17));
            const std::vector<Value> out = executor.runNode(executor.graph().nodes[0], {&x, &scale, &bias});
            QCOMPARE(out.at(1).shape, (std::vector<int64_t>{3, 4, 1}));
            for (size_t row = 0; row < 12; ++row) {
                double sum = 0.0, squares = 0.0;
                for (size_t k = 0; k < 37; ++k)
                    sum += x.data[row * 37 + k];
                const double mu = sum / 37.0;
                for (size_t k = 0; k < 37; ++k)
                    squares += (x.data[row * 37 + k] - mu) * (x.data[row * 37 + k] - mu);
                const double inverse = 1.0 / std::sqrt(squares / 37.0 + 1e-5f);
                for (size_t k = 0; k < 37; ++k) {
                    const double expected =
                        (x.data[row * 37 + k] - mu) * inverse * scale.data[k] + bias.data[k];
                    QVERIFY(std::abs(out[0].data[row * 37 + k] - expected) <=
                            1e-5 * (std::abs(expected) + 1.0));
                }
            }
        }
    }

    // The executor lends a value to the node that reads it last (Add, Reshape, Gelu then work in
    // place) but never one a later node, the same node twice or the caller still needs.
    void executorLendsOnlyLastReads() {
        Graph graph;
        graph.opset = 14;
        graph.inputs.push_back({"x", {2, 8}, true, DType::F32, true});
        auto add = [&](const std::string& op, std::vector<std::string> inputs, const std::string& output) {
            Node node;
            node.opType = op;
            node.name = output;
            node.inputs = std::move(inputs);
            node.outputs = {output};
            graph.nodes.push_back(node);
        };
        graph.initializers["shape"] = Value::integers(DType::I64, {1}, {16});
        add("Relu", {"x"}, "r");     // x is read again below: copied
        add("Add", {"x", "r"}, "s"); // x's last read: s takes its storage
        add("Reshape", {"s", "shape"}, "t");
        add("Mul", {"t", "t"}, "u"); // t read twice by one node: not lent
        add("Sigmoid", {"u"}, "g");
        add("Neg", {"r"}, "m"); // r is also a graph output: not lent
        graph.outputs.push_back({"g", {}, false, DType::F32, true});
        graph.outputs.push_back({"r", {}, false, DType::F32, true});
        graph.outputs.push_back({"m", {}, false, DType::F32, true});
        const Executor executor(graph);
        std::vector<float> x(16);
        for (size_t i = 0; i < x.size(); ++i)
            x[i] = static_cast<float>(i) - 7.5f;
        const Value fed = Value::floats({2, 8}, x);
        auto outputs = executor.run({{"x", fed}});
        QCOMPARE(fed.data, x); // the caller's value is untouched
        QCOMPARE(outputs.at("g").shape, (std::vector<int64_t>{16}));
        for (size_t i = 0; i < x.size(); ++i) {
            const float r = x[i] > 0 ? x[i] : 0.0f;
            const float s = x[i] + r;
            QCOMPARE(outputs.at("r").data[i], r);
            QCOMPARE(outputs.at("m").data[i], -r);
            const double g = 1.0 / (1.0 + std::exp(-static_cast<double>(s * s)));
            QCOMPARE(outputs.at("g").data[i], static_cast<float>(g));
        }
    }

    // Transpose moves every element where the permutation says, for runs that stay contiguous
    // (last axis kept), strided ones, unit dimensions and integers.
    void executorTranspose_data() {
        QTest::addColumn<QList<qint64>>("shape");
        QTest::addColumn<QList<qint64>>("perm");
        QTest::newRow("heads split") << QList<qint64>{2, 5, 3, 4} << QList<qint64>{0, 2, 1, 3};
        QTest::newRow("keys") << QList<qint64>{2, 5, 3, 4} << QList<qint64>{0, 2, 3, 1};
        QTest::newRow("reverse") << QList<qint64>{3, 1, 4, 2} << QList<qint64>{3, 2, 1, 0};
        QTest::newRow("identity") << QList<qint64>{3, 4} << QList<qint64>{0, 1};
        QTest::newRow("units") << QList<qint64>{1, 6, 1} << QList<qint64>{2, 1, 0};
        QTest::newRow("empty") << QList<qint64>{2, 0, 3} << QList<qint64>{2, 0, 1};
    }
    void executorTranspose() {
        QFETCH(QList<qint64>, shape);
        QFETCH(QList<qint64>, perm);
        const std::vector<int64_t> dims(shape.begin(), shape.end());
        int64_t count = 1;
        for (int64_t d : dims)
            count *= d;
        std::vector<float> values(static_cast<size_t>(count));
        std::vector<int64_t> ints(static_cast<size_t>(count));
        for (int64_t i = 0; i < count; ++i) {
            values[static_cast<size_t>(i)] = static_cast<float>(i);
            ints[static_cast<size_t>(i)] = 1000 + i;
        }
        Graph graph = oneNodeGraph("Transpose", 1, 13);
        Attribute attribute;
        attribute.kind = Attribute::Kind::Ints;
        attribute.ints.assign(perm.begin(), perm.end());
        graph.nodes[0].attributes["perm"] = attribute;
        const Executor executor(graph);
        const Value floats = Value::floats(dims, values);
        const Value integers = Value::integers(DType::I64, dims, ints);
        const Value y = executor.runNode(executor.graph().nodes[0], {&floats}).at(0);
        const Value yi = executor.runNode(executor.graph().nodes[0], {&integers}).at(0);
        const size_t rank = dims.size();
        std::vector<int64_t> outShape(rank), inStrides(rank, 1);
        for (size_t d = rank - 1; d-- > 0;)
            inStrides[d] = inStrides[d + 1] * dims[d + 1];
        for (size_t d = 0; d < rank; ++d)
            outShape[d] = dims[static_cast<size_t>(perm[static_cast<int>(d)])];
        QCOMPARE(y.shape, outShape);
        QCOMPARE(yi.shape, outShape);
        for (int64_t i = 0; i < count; ++i) { // output element i: its source by the permutation
            int64_t rest = i, source = 0;
            for (size_t d = rank; d-- > 0;) {
                source += (rest % outShape[d]) * inStrides[static_cast<size_t>(perm[static_cast<int>(d)])];
                rest /= outShape[d];
            }
            QCOMPARE(y.data[static_cast<size_t>(i)], static_cast<float>(source));
            QCOMPARE(yi.ints[static_cast<size_t>(i)], 1000 + source);
        }
    }
};

QTEST_GUILESS_MAIN(TestKernelsFloat)
#include "tst_kernels_float.moc"
