// Activation capture on the bundled digits models: every activation the quantized model
// calibrates is captured, with the calibration set's values, under a memory budget.
#include "quantscope/Error.h"
#include "quantscope/model/ActivationCapture.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QtTest>

#include <algorithm>

using namespace quantscope;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";

} // namespace

class TestModelActivations : public QObject {
    Q_OBJECT

private slots:
    void capturesWhatCalibrationObserves_data() {
        QTest::addColumn<QString>("model");
        QTest::newRow("mlp") << QStringLiteral("digits_mlp.onnx");
        QTest::newRow("cnn") << QStringLiteral("digits_cnn.onnx");
    }

    void capturesWhatCalibrationObserves() {
        QFETCH(QString, model);
        const Executor executor(loadOnnxGraph(kDemo + model.toStdString()));
        const SampleSet samples = SampleSet::load(kDemo + "digits_calib.npy");
        const CapturedActivations captured = captureActivations(executor, samples);
        QCOMPARE(captured.samplesCaptured, int64_t(1258));
        QCOMPARE(captured.samplesTotal, int64_t(1258));
        QCOMPARE(captured.file->format(), std::string("activations"));
        QCOMPARE(captured.file->metadata().at("samples_captured"), std::string("1258"));

        // The same activations, in the same order and with the same shapes, as static calibration.
        QuantizedModel quantized(executor, ModelQuantConfig{});
        quantized.calibrate(samples, 256);
        std::vector<const QParamsEntry*> activations;
        const QParamsDocument document = quantized.document();
        for (const auto& entry : document.tensors)
            if (entry.kind == TensorKind::Activation)
                activations.push_back(&entry);
        const auto& tensors = captured.file->tensors();
        QCOMPARE(tensors.size(), activations.size());
        QVERIFY(tensors.size() >= 4);
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            QCOMPARE(tensors[i].name, activations[i]->name);
            QCOMPARE(tensors[i].shape, activations[i]->shape);
            QCOMPARE(tensors[i].shape.front(), int64_t(1258));
            // min/max calibration of the captured tensor is the model's, bit for bit.
            const Tensor tensor = captured.file->load(tensors[i].name);
            const auto [lo, hi] = std::minmax_element(tensor.values().begin(), tensor.values().end());
            QCOMPARE(activations[i]->params->min.front(), *lo);
            QCOMPARE(activations[i]->params->max.front(), *hi);
        }
        // The first activation is the graph input: the samples themselves.
        const Tensor input = captured.file->load(tensors.front().name);
        QCOMPARE(input.size(), samples.count() * 64);
        QCOMPARE(input.values()[1000], samples.values()[1000]);
        QCOMPARE(input.values().back(), samples.values().back());
    }

    void budgetLimitsTheSamples() {
        const Executor executor(loadOnnxGraph(kDemo + "digits_mlp.onnx"));
        const SampleSet samples = SampleSet::load(kDemo + "digits_calib.npy");
        ActivationCaptureOptions options;
        options.batchSize = 100;
        options.maxBytes = 1; // one batch at least
        CapturedActivations captured = captureActivations(executor, samples, options);
        QCOMPARE(captured.samplesCaptured, int64_t(100));
        QCOMPARE(captured.samplesTotal, int64_t(1258));
        for (const auto& info : captured.file->tensors()) {
            QCOMPARE(info.shape.front(), int64_t(100));
            QCOMPARE(captured.file->load(info.name).size(), static_cast<int64_t>(info.elements));
        }
        // A budget of one full-set capture's bytes over three stops after the batch crossing it.
        const CapturedActivations all = captureActivations(executor, samples);
        uint64_t total = 0;
        for (const auto& info : all.file->tensors())
            total += info.bytes;
        options.maxBytes = total / 3;
        captured = captureActivations(executor, samples, options);
        QCOMPARE(captured.samplesCaptured, int64_t(500)); // 1258 / 3 = 419.3 samples -> 5 batches of 100
    }

    void cancelAndBadInput() {
        const Executor executor(loadOnnxGraph(kDemo + "digits_mlp.onnx"));
        const SampleSet samples = SampleSet::load(kDemo + "digits_calib.npy");
        const ProgressCallback stop = [](Stage stage, double) { return stage != Stage::Statistics; };
        QVERIFY_THROWS_EXCEPTION(Cancelled, captureActivations(executor, samples, {}, stop));
        ActivationCaptureOptions options;
        options.batchSize = 0;
        try {
            captureActivations(executor, samples, options);
            QFAIL("a batch size of 0 was accepted");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("must be 1 or more") != std::string::npos);
        }
        // Samples of the wrong shape name the input and both shapes.
        const SampleSet wrong("wrong.npy", {3}, std::vector<float>(6, 1.0f));
        try {
            captureActivations(executor, wrong);
            QFAIL("samples of 3 values were fed to a 64-input model");
        } catch (const Error& e) {
            // The digits MLP takes 64 values (an 8 x 8 image) per sample; the samples have 3.
            const std::string input = executor.graph().inputs.at(0).name;
            QCOMPARE(e.subject(), "input '" + input + "'");
            QCOMPARE(e.detail(), std::string("samples of wrong.npy have shape [3], the model expects [64] "
                                             "per sample (-1 = any size)"));
        }
        const CapturedActivations captured = captureActivations(executor, samples);
        QVERIFY_THROWS_EXCEPTION(Error, captured.file->load("no such activation"));
    }
};

QTEST_GUILESS_MAIN(TestModelActivations)
#include "tst_model_activations.moc"
