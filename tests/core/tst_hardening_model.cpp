// Hostile graphs for the loader and the executor (tools/make_hardening_test_data.py made them): a
// value produced twice, output sizes whose dimension product overflows int64. Each is an Error
// naming the file, the value or the node, never a crash or a wrapped allocation.
#include "quantscope/Error.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QtTest>

using namespace quantscope;

namespace {

std::string hardening(const char* name) {
    return std::string(QUANTSCOPE_TEST_DATA "/hardening/") + name;
}

std::string errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    return "(no error)";
}

// Runs a graph whose unused input x is [N, 4].
void runWithUnusedInput(const Executor& executor) {
    Value x;
    x.shape = {1, 4};
    x.data = {1.0f, 2.0f, 3.0f, 4.0f};
    executor.run({{"x", x}});
}

} // namespace

class TestHardeningModel : public QObject {
    Q_OBJECT

private slots:
    void duplicateGraphOutputIsRefusedAtLoad() {
        const std::string path = hardening("duplicate_graph_output.onnx");
        QCOMPARE(errorOf([&] { loadOnnxGraph(path); }), path + ": graph output 'y' is listed twice");
    }

    void valueProducedTwiceIsRefusedAtLoad() {
        const std::string path = hardening("value_produced_twice.onnx");
        QCOMPARE(errorOf([&] { loadOnnxGraph(path); }),
                 path + ": value 'h' is produced twice (again by node 'relu_again' (Relu))");
    }

    void overflowingOutputSizesAreRefused_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("expected");
        QTest::newRow("Gemm [2^40, 0] x [0, 2^40]")
            << QStringLiteral("gemm_overflow.onnx")
            << QStringLiteral("node 'big' (Gemm): size 1099511627776 x 1099511627776 overflows (more than "
                              "2^63 - 1 elements)");
        QTest::newRow("MatMul batch 2^21 x 2^21 of 2^21 x 2^21")
            << QStringLiteral("matmul_overflow.onnx")
            << QStringLiteral("node 'big' (MatMul): size 4398046511104 x 2097152 x 2097152 overflows (more "
                              "than 2^63 - 1 "
                              "elements)");
        QTest::newRow("GlobalAveragePool [1, 0, 2^40, 2^40]")
            << QStringLiteral("pool_overflow.onnx")
            << QStringLiteral(
                   "node 'big' (GlobalAveragePool): size 1099511627776 x 1099511627776 overflows (more than "
                   "2^63 - 1 elements)");
    }

    void overflowingOutputSizesAreRefused() {
        QFETCH(QString, file);
        QFETCH(QString, expected);
        // Refused when the executor is built (these nodes read only constants, so they are folded
        // then) or, at the latest, when it runs.
        const std::string path = hardening(file.toUtf8().constData());
        QCOMPARE(QString::fromStdString(errorOf([&] {
                     const Executor executor(loadOnnxGraph(path));
                     runWithUnusedInput(executor);
                 })),
                 expected);
    }
};

QTEST_GUILESS_MAIN(TestHardeningModel)
#include "tst_hardening_model.moc"
