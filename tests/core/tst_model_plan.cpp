// The executor's compiled plan (values in slots by index, each freed after its last reader, an
// input lent to the op that reads it last): outputs equal a plain node-by-node interpretation of
// the graph bit for bit, run after run;
// hooks see every value under its name; concurrent runs of one model on two threads each give what
// a single-threaded run gives, in every mode.
#include "quantscope/model/BatchPlan.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <QtTest>

#include <cstring>
#include <memory>
#include <set>
#include <thread>

using namespace quantscope;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";
const std::string kReal = QUANTSCOPE_TEST_DATA "/real_models/";

// The graph run node by node through Executor::runNode, values kept by name and never freed or
// reused, no Conv + Relu fusion: the plain reading of the graph, independent of the plan.
std::map<std::string, Value> nodeByNode(const Executor& executor, std::map<std::string, Value> inputs) {
    const Graph& graph = executor.graph();
    std::map<std::string, Value> values;
    std::vector<Value> fed = executor.checkedInputs(std::move(inputs));
    for (std::size_t i = 0; i < fed.size(); ++i)
        values[graph.inputs[i].name] = std::move(fed[i]);
    for (const Node& node : graph.nodes) {
        std::vector<const Value*> nodeInputs;
        for (const auto& name : node.inputs) {
            const auto value = values.find(name);
            const auto init = graph.initializers.find(name);
            nodeInputs.push_back(value != values.end()              ? &value->second
                                 : init != graph.initializers.end() ? &init->second
                                                                    : nullptr);
        }
        std::vector<Value> outputs = executor.runNode(node, nodeInputs);
        for (std::size_t o = 0; o < node.outputs.size(); ++o)
            if (!node.outputs[o].empty())
                values[node.outputs[o]] = std::move(outputs[o]);
    }
    std::map<std::string, Value> result;
    for (const auto& output : graph.outputs) {
        const auto value = values.find(output.name);
        result[output.name] = value != values.end() ? value->second : graph.initializers.at(output.name);
    }
    return result;
}

// Same names, shapes, types and bits (NaN included).
bool identical(const std::map<std::string, Value>& a, const std::map<std::string, Value>& b) {
    if (a.size() != b.size())
        return false;
    for (const auto& [name, x] : a) {
        const auto other = b.find(name);
        if (other == b.end())
            return false;
        const Value& y = other->second;
        if (x.dtype != y.dtype || x.shape != y.shape || x.data.size() != y.data.size() || x.ints != y.ints ||
            std::memcmp(x.data.data(), y.data.data(), x.data.size() * sizeof(float)) != 0)
            return false;
    }
    return true;
}

struct Model {
    std::unique_ptr<Executor> executor;
    std::unique_ptr<SampleSet> samples;
    int64_t batch = 0;
};

// The demo's models over its test digits, or a real model over its committed inputs.
Model loadModel(const std::string& path, const std::string& samplesPath, int64_t batch) {
    Model model;
    model.executor = std::make_unique<Executor>(loadOnnxGraph(path));
    model.samples =
        std::make_unique<SampleSet>(SampleSet::loadForInputs(samplesPath, model.executor->graph().inputs));
    model.batch = BatchPlan(model.executor->graph(), batch).batch();
    return model;
}

void addModels() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("samples");
    QTest::addColumn<int>("batch");
    QTest::newRow("demo mlp") << QString::fromStdString(kDemo + "digits_mlp.onnx")
                              << QString::fromStdString(kDemo + "digits_test.npy") << 256;
    QTest::newRow("demo cnn") << QString::fromStdString(kDemo + "digits_cnn.onnx")
                              << QString::fromStdString(kDemo + "digits_test.npy") << 256;
    QTest::newRow("resnet") << QString::fromStdString(kReal + "resnet_op13_dyn.onnx")
                            << QString::fromStdString(kReal + "images.npy") << 10;
    QTest::newRow("mobilenet fixed batch") << QString::fromStdString(kReal + "mobilenet_op11_b4.onnx")
                                           << QString::fromStdString(kReal + "images.npy") << 4;
    QTest::newRow("encoder") << QString::fromStdString(kReal + "encoder_op17_dyn.onnx")
                             << QString::fromStdString(kReal + "encoder_inputs.npz") << 10;
}

Model loadRow() {
    QFETCH(QString, model);
    QFETCH(QString, samples);
    QFETCH(int, batch);
    return loadModel(model.toStdString(), samples.toStdString(), batch);
}

} // namespace

class TestModelPlan : public QObject {
    Q_OBJECT

private slots:
    void fp32EqualsNodeByNode_data() { addModels(); }
    void fp32EqualsNodeByNode() {
        const Model model = loadRow();
        const Executor& executor = *model.executor;
        const BatchPlan plan(executor.graph(), model.batch);
        const auto first = plan.inputs(*model.samples, 0, model.batch);
        const auto expected = nodeByNode(executor, first);
        // A second run gives the same: nothing of the first one is left in the plan.
        QVERIFY(identical(executor.run(first), expected));
        QVERIFY(identical(executor.run(first), expected));
        // With a hook, nothing is fused and every value is handed over by name.
        Executor::Hooks hooks;
        hooks.onValue = [](const std::string&, Value&) {};
        QVERIFY(identical(executor.run(first, hooks), expected));
        // Other samples after those: nothing of the earlier runs shows through.
        const int64_t rest = std::min(model.batch, model.samples->count() - model.batch);
        if (rest > 0 && !plan.fixedBatch()) {
            const auto second = plan.inputs(*model.samples, model.batch, rest);
            QVERIFY(identical(executor.run(second), nodeByNode(executor, second)));
        }
    }

    void hooksSeeEveryValueByName() {
        const Model model = loadModel(kReal + "resnet_op13_dyn.onnx", kReal + "images.npy", 2);
        const Executor& executor = *model.executor;
        const Graph& graph = executor.graph();
        std::vector<std::string> expectedValues, expectedNodes;
        for (const auto& input : graph.inputs)
            expectedValues.push_back(input.name);
        for (const Node& node : graph.nodes) {
            expectedNodes.push_back(node.label());
            for (const auto& name : node.outputs)
                if (!name.empty())
                    expectedValues.push_back(name);
        }
        QVERIFY(std::any_of(graph.nodes.begin(), graph.nodes.end(),
                            [](const Node& node) { return node.opType == "Relu"; }));

        std::vector<std::string> seenValues, seenNodes;
        std::set<std::string> known; // graph inputs and constants, then every value seen
        for (const auto& input : graph.inputs)
            known.insert(input.name);
        for (const auto& [name, value] : graph.initializers)
            known.insert(name);
        Executor::Hooks hooks;
        hooks.replaceNode = [&](const Node& node, const std::vector<const Value*>& inputs,
                                std::vector<Value>&) {
            seenNodes.push_back(node.label());
            // Every input the node names is there, and is a value seen before or a constant.
            for (std::size_t i = 0; i < node.inputs.size(); ++i)
                if (!node.inputs[i].empty() && (inputs[i] == nullptr || !known.count(node.inputs[i])))
                    seenNodes.back() += " (input " + node.inputs[i] + " missing)";
            return false;
        };
        hooks.onValue = [&](const std::string& name, Value&) {
            seenValues.push_back(name);
            known.insert(name);
        };
        const BatchPlan plan(graph, model.batch);
        const auto outputs = executor.run(plan.inputs(*model.samples, 0, model.batch), hooks);
        QCOMPARE(seenValues, expectedValues);
        QCOMPARE(seenNodes, expectedNodes);
        QCOMPARE(outputs.size(), graph.outputs.size());
    }

    // One QuantizedModel run from two threads at once, each on its own samples, in every mode:
    // each thread's outputs equal the single-threaded ones (a run's values are its own).
    void concurrentRunsEqualSingleThreaded_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("samples");
        QTest::addColumn<int>("batch");
        QTest::newRow("demo cnn") << QString::fromStdString(kDemo + "digits_cnn.onnx")
                                  << QString::fromStdString(kDemo + "digits_test.npy") << 256;
        QTest::newRow("resnet") << QString::fromStdString(kReal + "resnet_op13_dyn.onnx")
                                << QString::fromStdString(kReal + "images.npy") << 5;
    }
    void concurrentRunsEqualSingleThreaded() {
        const Model loaded = loadRow();
        QuantizedModel model(*loaded.executor, {});
        model.calibrate(*loaded.samples, loaded.batch);
        const BatchPlan plan(loaded.executor->graph(), loaded.batch);
        const std::map<std::string, Value> feeds[2] = {
            plan.inputs(*loaded.samples, 0, loaded.batch),
            plan.inputs(*loaded.samples, loaded.batch, loaded.batch)};
        const std::vector<std::function<std::map<std::string, Value>(const std::map<std::string, Value>&)>>
            modes{
                [&](const auto& feed) { return model.run(QuantMode::Fp32, feed); },
                [&](const auto& feed) { return model.run(QuantMode::Static, feed); },
                [&](const auto& feed) { return model.runStaticSimulation(feed); },
                [&](const auto& feed) { return model.run(QuantMode::Dynamic, feed); },
                [&](const auto& feed) { return model.run(QuantMode::WeightOnly, feed); },
            };
        for (std::size_t m = 0; m < modes.size(); ++m) {
            const std::map<std::string, Value> expected[2] = {modes[m](feeds[0]), modes[m](feeds[1])};
            QVERIFY(!identical(expected[0], expected[1])); // the threads compute different things
            constexpr int kRuns = 4;
            bool equal[2][kRuns] = {};
            const auto work = [&](int t) {
                for (int r = 0; r < kRuns; ++r)
                    equal[t][r] = identical(modes[m](feeds[t]), expected[t]);
            };
            std::thread other(work, 1);
            work(0);
            other.join();
            for (int t = 0; t < 2; ++t)
                for (int r = 0; r < kRuns; ++r)
                    QVERIFY2(equal[t][r],
                             qPrintable(QStringLiteral("mode %1, thread %2, run %3").arg(m).arg(t).arg(r)));
        }
    }
};

QTEST_GUILESS_MAIN(TestModelPlan)
#include "tst_model_plan.moc"
