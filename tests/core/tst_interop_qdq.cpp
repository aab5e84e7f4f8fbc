// The QDQ export: the demo models written with QuantizeLinear / DequantizeLinear pairs carrying the
// static mode's parameters run in Quantscope's fp32 executor to the static mode's own outputs.
#include "quantscope/Error.h"
#include "quantscope/interop/QdqExporter.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <set>

using namespace quantscope;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";

std::string writeTemporary(const QTemporaryDir& dir, const std::string& name, const std::string& bytes) {
    const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

struct Differences {
    std::size_t compared = 0;
    double largest = 0.0;
    std::set<int64_t> samples; // the samples with an output differing by more than 1e-5
    double largestOutsideTolerance = 0.0;
};

// |a - b| over every output of the graph, on `count` test samples in batches of 64.
Differences differences(const QuantizedModel& model, const Executor& exported, const SampleSet& samples,
                        int64_t count) {
    Differences result;
    const auto& inputs = model.executor().graph().inputs;
    for (int64_t first = 0; first < count; first += 64) {
        const int64_t n = std::min<int64_t>(64, count - first);
        const auto feed = samples.feed(inputs, first, n, n);
        // The float simulation of static mode (QDQ on every value), which a QDQ graph describes;
        // the integer pipeline may differ from it by one level where it rounds a half level.
        const auto expected = model.runStaticSimulation(feed);
        const auto actual = exported.run(feed);
        for (const auto& output : model.executor().graph().outputs) {
            const Value& a = expected.at(output.name);
            const Value& b = actual.at(output.name);
            if (a.data.size() != b.data.size())
                qFatal("output %s: %zu vs %zu values", output.name.c_str(), a.data.size(), b.data.size());
            const auto perSample = a.data.size() / static_cast<std::size_t>(n);
            for (std::size_t i = 0; i < a.data.size(); ++i) {
                const double d = std::fabs(static_cast<double>(a.data[i]) - b.data[i]);
                if (d > 1e-5) {
                    result.samples.insert(first + static_cast<int64_t>(i / perSample));
                    qInfo("sample %lld value %zu: static %.9g, QDQ model %.9g",
                          static_cast<long long>(first + static_cast<int64_t>(i / perSample)), i % perSample,
                          static_cast<double>(a.data[i]), static_cast<double>(b.data[i]));
                }
                result.largest = std::max(result.largest, d);
            }
            result.compared += a.data.size();
        }
    }
    return result;
}

} // namespace

class TestInteropQdq : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<SampleSet> m_calib;
    std::unique_ptr<SampleSet> m_test;
    QTemporaryDir m_dir;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_calib = std::make_unique<SampleSet>(SampleSet::load(kDemo + "digits_calib.npy"));
        m_test = std::make_unique<SampleSet>(SampleSet::load(kDemo + "digits_test.npy"));
    }

    void exportedModelReproducesStaticMode_data() {
        QTest::addColumn<QString>("model");
        QTest::newRow("mlp") << QStringLiteral("digits_mlp.onnx");
        QTest::newRow("cnn") << QStringLiteral("digits_cnn.onnx");
    }

    void exportedModelReproducesStaticMode() {
        QFETCH(QString, model);
        const std::string path = kDemo + model.toStdString();
        const Executor executor(loadOnnxGraph(path));
        QuantizedModel quantized(executor, {});
        quantized.calibrate(*m_calib, 256);
        const QParamsDocument params = quantized.document();

        std::vector<ConversionNote> notes;
        const std::string bytes = QdqExporter::exportModel(path, params, notes);
        const Executor exported(loadOnnxGraph(writeTemporary(m_dir, "qdq_" + model.toStdString(), bytes)));
        // Every weight has a DequantizeLinear, every activation a pair.
        int quantizeNodes = 0;
        int dequantizeNodes = 0;
        for (const auto& node : exported.graph().nodes) {
            quantizeNodes += node.opType == "QuantizeLinear";
            dequantizeNodes += node.opType == "DequantizeLinear";
        }
        int weights = 0;
        for (const auto& entry : params.tensors)
            weights += entry.kind == TensorKind::Weight;
        const int activations = static_cast<int>(params.tensors.size()) - weights;
        QVERIFY(activations > 0);
        QCOMPARE(quantizeNodes, activations);
        // Constant folding may have computed the weights' DequantizeLinear already.
        QVERIFY(dequantizeNodes >= activations);

        const Differences found = differences(quantized, exported, *m_test, m_test->count());
        qInfo("%s: %zu outputs compared, largest difference %.3g, %zu samples beyond 1e-5", qPrintable(model),
              found.compared, found.largest, found.samples.size());
        if (model == QLatin1String("digits_cnn.onnx")) {
            QVERIFY2(found.largest <= 1e-5, qPrintable(QString::number(found.largest)));
            return;
        }
        // The MLP's static mode runs its Gemms on the integer core (exact int32 sums, one float
        // multiplier), the QDQ model in float32 on the dequantized values: a sum that lands on a
        // rounding tie can take the next level. That happens for one test sample in 539 here; its
        // outputs then differ by one level of the output's scale, all others agree within 1e-5.
        const QParamsEntry* output = params.find(executor.graph().outputs.front().name);
        QVERIFY(output && output->params);
        QVERIFY2(found.samples.size() <= 1, qPrintable(QString::number(found.samples.size())));
        QVERIFY(found.largest <= 1.0001 * output->params->scale[0]);
    }

    void int4BlockedWeightsReproduceStaticMode() {
        // int4 symmetric weights in groups of 32 along the inputs: opset 21's INT4 initializers and
        // blocked DequantizeLinear (axis 1, block_size 32), the model raised from opset 13 to 21.
        const std::string path = kDemo + "digits_mlp.onnx";
        const Executor executor(loadOnnxGraph(path));
        ModelQuantConfig config;
        config.weight.format = QuantFormat::integer(4, true);
        config.weight.scheme = Scheme::Symmetric;
        config.weight.granularity = Granularity::Group;
        config.weight.groupSize = 32;
        QuantizedModel quantized(executor, config);
        quantized.calibrate(*m_calib, 256);
        const QParamsDocument params = quantized.document();
        std::vector<ConversionNote> notes;
        const std::string bytes = QdqExporter::exportModel(path, params, notes);
        bool raised = false;
        for (const auto& note : notes)
            raised = raised || note.message.find("opset raised from 13 to 21") != std::string::npos;
        QVERIFY(raised);
        const std::string written = writeTemporary(m_dir, "qdq_int4.onnx", bytes);
        const Graph graph = loadOnnxGraph(written);
        int blocked = 0;
        for (const auto& node : graph.nodes)
            blocked += node.opType == "DequantizeLinear" && node.intAttribute("block_size", 0) == 32;
        QCOMPARE(blocked, 3); // fc1, fc2, fc3
        const Executor exported(graph);
        const Differences found = differences(quantized, exported, *m_test, m_test->count());
        qInfo("int4 blocked: %zu outputs compared, largest difference %.3g", found.compared, found.largest);
        QVERIFY2(found.largest <= 1e-5, qPrintable(QString::number(found.largest)));
    }

    void refusals() {
        const std::string path = kDemo + "digits_mlp.onnx";
        const Executor executor(loadOnnxGraph(path));
        QuantizedModel quantized(executor, {});
        QParamsDocument params = quantized.document();
        std::vector<ConversionNote> notes;
        // A name that matches no tensor of the model.
        QParamsDocument unknown = params;
        unknown.tensors.front().name = "no_such_tensor";
        unknown.tensors.front().kind = TensorKind::Activation;
        unknown.tensors.front().spec.granularity = Granularity::Tensor;
        unknown.tensors.front().params->scale.resize(1);
        unknown.tensors.front().params->zeroPoint.resize(1);
        try {
            QdqExporter::exportModel(path, unknown, notes);
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), path + ": no_such_tensor");
            QVERIFY(error.detail().find("matches no weight") != std::string::npos);
        }
        // Three bits have no ONNX type.
        QParamsDocument int3 = params;
        int3.tensors.front().spec.format = QuantFormat::integer(3, true);
        try {
            QdqExporter::exportModel(path, int3, notes);
            QFAIL("no error");
        } catch (const Error& error) {
            QVERIFY(error.detail().find("no ONNX QuantizeLinear type") != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestInteropQdq)
#include "tst_interop_qdq.moc"
