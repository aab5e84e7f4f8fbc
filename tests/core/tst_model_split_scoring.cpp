// Scoring the modes with the work shared by threads (what the live Compare view does) gives the
// figures of the CLI's unsplit evaluation exactly: static split by samples when the graph keeps
// its samples apart, the modes that run a Gemm on OpenBLAS or with per-batch ranges in the CLI's
// batches; the outputs of a first slice are reused only where the same samples would run the
// same way.
#include "quantscope/model/Executor.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleIndependence.h"

#include <QtTest>

#include <memory>

using namespace quantscope;

namespace {

const std::string kData = QUANTSCOPE_TEST_DATA "/real_models/";
const std::vector<QuantMode> kModes{QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic,
                                    QuantMode::WeightOnly};

// The small ResNet (three stages of BasicBlocks) on its 10 images, calibrated with the defaults.
struct Resnet {
    Executor executor{loadOnnxGraph(kData + "resnet_op13_dyn.onnx")};
    SampleSet samples{SampleSet::load(kData + "images.npy")};
    QuantizedModel model{executor, ModelQuantConfig{}};
    Resnet() { model.calibrate(samples, 256); }
};

EvalOptions batchOf(int64_t batch) {
    EvalOptions options;
    options.batchSize = batch;
    return options;
}

// The unsplit evaluation, as `eval` scores each mode.
std::vector<ModeResult> unsplit(const Resnet& resnet, int64_t batch, int64_t count) {
    ModelEvaluator evaluator(resnet.model, resnet.samples, std::nullopt, batchOf(batch));
    std::vector<ModeResult> results;
    for (QuantMode mode : kModes)
        results.push_back(evaluator.score(mode, count));
    return results;
}

void compareResults(const std::vector<ModeResult>& actual, const std::vector<ModeResult>& expected) {
    QCOMPARE(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        QCOMPARE(actual[i].mode, expected[i].mode);
        QCOMPARE(actual[i].outputShape, expected[i].outputShape);
        QVERIFY2(actual[i].outputs == expected[i].outputs,
                 std::string(quantModeName(actual[i].mode)).c_str());
        QCOMPARE(actual[i].agreement, expected[i].agreement);
        QCOMPARE(actual[i].outputSqnr.note, expected[i].outputSqnr.note);
        if (expected[i].outputSqnr.note.empty())
            QCOMPARE(actual[i].outputSqnr.db, expected[i].outputSqnr.db);
    }
}

const ModeResult& resultOf(const std::vector<ModeResult>& results, QuantMode mode) {
    for (const ModeResult& result : results)
        if (result.mode == mode)
            return result;
    qFatal("mode missing");
}

} // namespace

class TestModelSplitScoring : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        Executor::setBlasThreads(1); // as the app sets it: each BLAS call on its caller's thread
    }

    void whichGraphsKeepSamplesApart() {
        Graph graph = loadOnnxGraph(kData + "resnet_op13_dyn.onnx");
        QVERIFY(keepsSamplesApart(graph));
        // Flattening from axis 0 merges the samples into one row.
        Attribute axis0;
        axis0.kind = Attribute::Kind::Int;
        axis0.i = 0;
        for (Node& node : graph.nodes)
            if (node.opType == "Flatten")
                node.attributes["axis"] = axis0;
        QVERIFY(!keepsSamplesApart(graph));
        // A transformer encoder reshapes and reduces: not known to keep its samples apart.
        QVERIFY(!keepsSamplesApart(loadOnnxGraph(kData + "encoder_op13_dyn.onnx")));

        const Resnet resnet;
        const ModelEvaluator evaluator(resnet.model, resnet.samples, std::nullopt);
        // Static runs the Gemm on the integer core: every row gets the same bits in any batch.
        QVERIFY(evaluator.splitsSamples(QuantMode::Static));
        // OpenBLAS's sgemm rounds a row differently with another row count (measured here: the
        // Gemm's outputs of a batch of 10 and of slices differ in the last bits), so fp32 and
        // weight-only run in eval's batches; dynamic measures the Gemm's range per batch.
        QVERIFY(!evaluator.splitsSamples(QuantMode::WeightOnly));
        QVERIFY(!evaluator.splitsSamples(QuantMode::Fp32));
        QVERIFY(!evaluator.splitsSamples(QuantMode::Dynamic));
        // A fixed batch of 4 pads every run: the model runs in eval's batches.
        const Executor fixed(loadOnnxGraph(kData + "resnet_op13_b4.onnx"));
        const QuantizedModel fixedModel(fixed, ModelQuantConfig{});
        const ModelEvaluator fixedEvaluator(fixedModel, resnet.samples, std::nullopt);
        QVERIFY(!fixedEvaluator.splitsSamples(QuantMode::Static));
    }

    void splitScoringEqualsTheUnsplitEvaluation_data() {
        QTest::addColumn<int64_t>("batch");
        QTest::addColumn<int>("threads");
        QTest::newRow("one batch, 1 thread") << int64_t{256} << 1;
        QTest::newRow("one batch, 2 threads") << int64_t{256} << 2;
        QTest::newRow("batches of 4, 2 threads") << int64_t{4} << 2;
        QTest::newRow("batches of 3, 3 threads") << int64_t{3} << 3;
    }

    void splitScoringEqualsTheUnsplitEvaluation() {
        QFETCH(int64_t, batch);
        QFETCH(int, threads);
        const Resnet resnet;
        const int64_t all = resnet.samples.count();
        QCOMPARE(all, int64_t{10});
        const std::vector<ModeResult> expected = unsplit(resnet, batch, all);
        // Dynamic's figures depend on its batches: 4 (or 3) per batch differ from all 10 in one.
        if (batch < all)
            QVERIFY(resultOf(expected, QuantMode::Dynamic).outputs !=
                    resultOf(unsplit(resnet, 256, all), QuantMode::Dynamic).outputs);

        ModelEvaluator evaluator(resnet.model, resnet.samples, std::nullopt, batchOf(batch));
        compareResults(evaluator.scoreModes(kModes, all, threads), expected);

        // A first slice of 4 samples, then all of them reusing its outputs.
        ModelEvaluator staged(resnet.model, resnet.samples, std::nullopt, batchOf(batch));
        const std::vector<ModeResult> slice = staged.scoreModes(kModes, 4, threads);
        compareResults(slice, unsplit(resnet, batch, 4));
        compareResults(staged.scoreModes(kModes, all, threads, slice), expected);
    }

    void aFirstSliceIsReusedOnlyWhereItRunsTheSame() {
        const Resnet resnet;
        const int64_t all = resnet.samples.count();
        // Marked outputs in the kept slice show which ones the full scoring took over.
        const auto marked = [](std::vector<ModeResult> results) {
            for (ModeResult& result : results)
                for (float& value : result.outputs)
                    value = 1000.0f;
            return results;
        };
        const auto firstRowsMarked = [](const ModeResult& result, int64_t rows) {
            const std::size_t classes =
                result.outputs.size() / static_cast<std::size_t>(result.outputShape[0]);
            for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * classes; ++i)
                if (result.outputs[i] != 1000.0f)
                    return false;
            return true;
        };
        for (const int64_t batch : {int64_t{256}, int64_t{4}}) {
            ModelEvaluator evaluator(resnet.model, resnet.samples, std::nullopt, batchOf(batch));
            const std::vector<ModeResult> four = marked(evaluator.scoreModes(kModes, 4, 2));
            const std::vector<ModeResult> full = evaluator.scoreModes(kModes, all, 2, four);
            // Static gives each sample the same bits in any batch: its first 4 outputs are the slice's.
            QVERIFY(firstRowsMarked(resultOf(full, QuantMode::Static), 4));
            // fp32 reuses the outputs of those samples the evaluator kept itself, not the ones handed in.
            QVERIFY(!firstRowsMarked(resultOf(full, QuantMode::Fp32), 1));
            // Dynamic and weight-only run eval's batches: 4 samples are a whole one only in batches of 4.
            QCOMPARE(firstRowsMarked(resultOf(full, QuantMode::Dynamic), 4), batch == 4);
            QCOMPARE(firstRowsMarked(resultOf(full, QuantMode::WeightOnly), 4), batch == 4);
        }
        // A slice of 3 in batches of 4 is no whole batch: dynamic and weight-only run it again.
        ModelEvaluator evaluator(resnet.model, resnet.samples, std::nullopt, batchOf(4));
        const std::vector<ModeResult> three = marked(evaluator.scoreModes(kModes, 3, 2));
        const std::vector<ModeResult> full = evaluator.scoreModes(kModes, all, 2, three);
        const std::vector<ModeResult> expected = unsplit(resnet, 4, all);
        QCOMPARE(resultOf(full, QuantMode::Dynamic).outputs, resultOf(expected, QuantMode::Dynamic).outputs);
        QCOMPARE(resultOf(full, QuantMode::WeightOnly).outputs,
                 resultOf(expected, QuantMode::WeightOnly).outputs);
        QVERIFY(firstRowsMarked(resultOf(full, QuantMode::Static), 3));
    }
};

QTEST_GUILESS_MAIN(TestModelSplitScoring)
#include "tst_model_split_scoring.moc"
