// Models the executor must refuse: each gives one clear Error naming the node (and, for an
// unsupported model, every unsupported node at once), never a crash or a hang. The models come
// from tools/make_bad_graph_data.py.
#include "quantscope/Error.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QtTest>

using namespace quantscope;

namespace {

const std::string kBad = QUANTSCOPE_TEST_DATA "/model/bad/";

Value input2x3() {
    return Value::floats({2, 3}, {1, -2, 3, -4, 5, -6});
}

// The message of the Error that loading, preparing and running `name` throws ("" when none).
QString failureOf(const std::string& name) {
    try {
        const Executor executor(loadOnnxGraph(kBad + name + ".onnx"));
        executor.run({{"x", input2x3()}});
    } catch (const Error& error) {
        return QString::fromUtf8(error.what());
    }
    return {};
}

} // namespace

class TestModelBadGraphs : public QObject {
    Q_OBJECT

private slots:
    void unknownOpsAreAllListed() {
        const QString message = failureOf("unknown_ops");
        QVERIFY2(message.contains(QLatin1String("3 problems")), qPrintable(message));
        for (const char* part :
             {"fancy_one", "FancyOp", "fancy_two", "OtherMadeUpOp", "custom_domain", "com.example.Custom"})
            QVERIFY2(message.contains(QLatin1String(part)),
                     qPrintable(message + QStringLiteral(" lacks ") + QLatin1String(part)));
        QVERIFY2(!message.contains(QLatin1String("fine_relu")), qPrintable(message));
    }

    void cycleNamesItsNodes() {
        const QString message = failureOf("cycle");
        QVERIFY2(message.contains(QLatin1String("cycle")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("cycle_first")) &&
                     message.contains(QLatin1String("cycle_second")),
                 qPrintable(message));
        QVERIFY2(!message.contains(QLatin1String("'entry'")), qPrintable(message));
    }

    void missingValueNamesNodeAndValue() {
        const QString message = failureOf("missing_value");
        QVERIFY2(message.contains(QLatin1String("reads_nothing")) &&
                     message.contains(QLatin1String("'nowhere'")),
                 qPrintable(message));
    }

    void impossibleReshapeNamesNodeAndShapes() {
        // [2, 3] has 6 elements, [4, 2] needs 8.
        const QString message = failureOf("reshape_impossible");
        QVERIFY2(message.contains(QLatin1String("bad_reshape")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("[2, 3]")) && message.contains(QLatin1String("[4, 2]")),
                 qPrintable(message));
    }

    void gatherIndexOutOfRange() {
        // Axis 1 has 3 entries: index 3 is outside [-3, 2].
        const QString message = failureOf("gather_out_of_range");
        QVERIFY2(message.contains(QLatin1String("bad_gather")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("3 is outside [-3, 2]")), qPrintable(message));
    }

    void overflowingShapeIsAnError() {
        const QString message = failureOf("shape_overflow");
        QVERIFY2(message.contains(QLatin1String("huge_fill")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("too many elements")), qPrintable(message));
    }

    void opsetAbove21IsRefused() {
        const QString message = failureOf("opset_too_new");
        QVERIFY2(message.contains(QLatin1String("opset 22")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("7 to 21")), qPrintable(message));
    }

    void opsetsSevenToTwentyOneRun() {
        // The same Relu graph at the lowest and highest accepted opset.
        for (int64_t opset : {int64_t{7}, int64_t{21}}) {
            Graph graph = loadOnnxGraph(kBad + "opset_too_new.onnx");
            graph.opset = opset;
            const Executor executor(graph);
            const auto out = executor.run({{"x", input2x3()}});
            QCOMPARE(out.at("y").data, (std::vector<float>{1, 0, 3, 0, 5, 0}));
        }
    }
};

QTEST_GUILESS_MAIN(TestModelBadGraphs)
#include "tst_model_bad_graphs.moc"
