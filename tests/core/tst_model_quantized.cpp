// Quantized inference on the bundled digits models: static, dynamic and weight-only modes,
// the integer core against its reference, per-layer SQNR, sizes and bad input.
#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/Int8Linear.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>

using namespace quantscope;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";

QuantSpec int4Groups(int64_t groupSize) {
    QuantSpec spec;
    spec.format = QuantFormat::integer(4, true);
    spec.scheme = Scheme::Symmetric;
    spec.granularity = Granularity::Group;
    spec.groupSize = groupSize;
    return spec;
}

} // namespace

class TestModelQuantized : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<Executor> m_mlp;
    std::unique_ptr<Executor> m_cnn;
    std::unique_ptr<SampleSet> m_calib;
    std::unique_ptr<SampleSet> m_test;
    std::vector<int64_t> m_labels;

private slots:
    void initTestCase() {
        m_mlp = std::make_unique<Executor>(loadOnnxGraph(kDemo + "digits_mlp.onnx"));
        m_cnn = std::make_unique<Executor>(loadOnnxGraph(kDemo + "digits_cnn.onnx"));
        m_calib = std::make_unique<SampleSet>(SampleSet::load(kDemo + "digits_calib.npy"));
        m_test = std::make_unique<SampleSet>(SampleSet::load(kDemo + "digits_test.npy"));
        m_labels = loadLabels(kDemo + "digits_test_labels.npy");
        QCOMPARE(m_calib->count(), int64_t(1258));
        QCOMPARE(m_test->count(), int64_t(539));
        QCOMPARE(m_labels.size(), std::size_t(539));
    }

    void integerCoreEqualsReference() {
        // Every usable kernel path, shapes around the vector widths, uniform zero points (the SIMD
        // GEMM) and per-row ones (the portable fallback): the same integers as the reference loop.
        const unsigned seed = 20241126;
        qInfo("seed %u", seed);
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127), zp(-20, 20);
        int kernelRuns = 0;
        for (const auto& entry : kernels::KernelRegistry::entries()) {
            if (!kernels::KernelRegistry::isUsable(entry.path))
                continue;
            for (bool uniform : {true, false}) {
                for (int64_t k : {1, 7, 16, 33, 64, 255, 1000}) {
                    for (int64_t n : {1, 5, 16, 17, 40}) {
                        for (int64_t m : {1, 3, 8, 13}) {
                            std::vector<int8_t> w(static_cast<std::size_t>(n * k));
                            for (auto& v : w)
                                v = static_cast<int8_t>(s8(rng));
                            std::vector<int32_t> zeroPoints(static_cast<std::size_t>(n), uniform ? 0 : 1);
                            if (!uniform) {
                                for (auto& z : zeroPoints)
                                    z = zp(rng);
                                zeroPoints[0] = 21; // never all equal
                            }
                            std::vector<uint8_t> a(static_cast<std::size_t>(m * k));
                            for (auto& v : a)
                                v = static_cast<uint8_t>(u8(rng));
                            const Int8Linear linear(w, n, k, zeroPoints, entry.path);
                            const bool sameZeroPoints = uniform || n == 1;
                            QCOMPARE(QString::fromLatin1(linear.pathName()),
                                     sameZeroPoints ? QString::fromLatin1(kernels::isaName(entry.path))
                                                    : QStringLiteral("reference"));
                            kernelRuns += sameZeroPoints;
                            std::vector<int32_t> fast(static_cast<std::size_t>(m * n)), slow(fast.size());
                            const int32_t za = u8(rng);
                            linear.run(a.data(), m, za, fast.data());
                            linear.reference(a.data(), m, za, slow.data());
                            if (fast != slow)
                                QFAIL(qPrintable(QStringLiteral("%1: m %2 n %3 k %4 differs")
                                                     .arg(QString::fromLatin1(linear.pathName()))
                                                     .arg(m)
                                                     .arg(n)
                                                     .arg(k)));
                            // The reference is the definition: one entry by hand.
                            int32_t expected = 0;
                            for (int64_t t = 0; t < k; ++t)
                                expected +=
                                    (a[(m - 1) * k + t] - za) * (w[(n - 1) * k + t] - zeroPoints[n - 1]);
                            QCOMPARE(slow[(m - 1) * n + n - 1], expected);
                        }
                    }
                }
            }
        }
        QVERIFY(kernelRuns > 0);
        QVERIFY_THROWS_EXCEPTION(Error, Int8Linear(std::vector<int8_t>(40000), 1, 40000, {0}));
    }

    void int4KernelMatchesDequantizedWeights() {
        ModelQuantConfig config;
        config.weight = int4Groups(32);
        QuantizedModel int4(*m_mlp, config);
        Graph dequantized = m_mlp->graph();
        for (const auto& layer : int4.layers()) {
            QVERIFY2(layer.int4 != nullptr, layer.name.c_str());
            qInfo("%s: int4 path %s", layer.name.c_str(), layer.int4Path.c_str());
            dequantized.initializers[layer.weightName].data = layer.weight.dequantized;
        }
        const Executor reference(dequantized);
        const Value batch = m_test->batch(0, 64, m_mlp->graph().inputs[0]);
        const Value expected = reference.run({{"input", batch}}).at("logits");
        const Value actual = int4.run(QuantMode::WeightOnly, {{"input", batch}}).at("logits");
        QCOMPARE(actual.shape, expected.shape);
        for (std::size_t i = 0; i < expected.data.size(); ++i)
            QVERIFY(std::abs(actual.data[i] - expected.data[i]) <=
                    1e-4f * std::max(1.0f, std::abs(expected.data[i])));
        // On the model's thread pool (--threads) the kernel splits the weight panels between threads,
        // each output written by one of them: the same bits.
        kernels::ThreadPool pool(2);
        int4.setThreadPool(&pool);
        const Value threaded = int4.run(QuantMode::WeightOnly, {{"input", batch}}).at("logits");
        int4.setThreadPool(nullptr);
        QCOMPARE(threaded.shape, actual.shape);
        QVERIFY(std::memcmp(threaded.data.data(), actual.data.data(), actual.data.size() * sizeof(float)) ==
                0);
        // A group size the kernel cannot take (not a multiple of 8) runs on dequantized weights.
        config.weight = int4Groups(20);
        QuantizedModel odd(*m_mlp, config);
        QVERIFY(odd.layers()[0].int4 == nullptr);
    }

    void staticInt8KeepsMlpAccuracy() {
        QuantizedModel model(*m_mlp, {});
        QCOMPARE(model.layers().size(), std::size_t(3));
        for (const auto& layer : model.layers())
            QVERIFY2(layer.integerPath, layer.name.c_str());
        model.calibrate(*m_calib, 256);
        ModelEvaluator evaluator(model, *m_test, m_labels);
        const ModeResult fp32 = evaluator.evaluate(QuantMode::Fp32);
        const ModeResult stat = evaluator.evaluate(QuantMode::Static);
        qInfo("fp32 %.4f static %.4f agreement %.4f sqnr %.2f dB", *fp32.accuracy, *stat.accuracy,
              stat.agreement, stat.outputSqnr.db);
        QCOMPARE(*fp32.accuracy, 526.0 / 539.0); // the training script's figure
        QVERIFY(std::abs(*stat.accuracy - *fp32.accuracy) <= 0.01);
        QVERIFY(stat.agreement >= 0.98);
        QVERIFY(stat.outputSqnr.db > 20.0);
        QCOMPARE(fp32.outputShape, (std::vector<int64_t>{539, 10}));
        QVERIFY(fp32.outputSqnr.note == "exact");
    }

    void staticInt8Cnn() {
        QuantizedModel model(*m_cnn, {});
        QCOMPARE(model.layers().size(), std::size_t(3));
        model.calibrate(*m_calib, 128);
        ModelEvaluator evaluator(model, *m_test, m_labels);
        const ModeResult fp32 = evaluator.evaluate(QuantMode::Fp32);
        const ModeResult stat = evaluator.evaluate(QuantMode::Static);
        qInfo("cnn fp32 %.4f static %.4f sqnr %.2f dB", *fp32.accuracy, *stat.accuracy, stat.outputSqnr.db);
        QCOMPARE(*fp32.accuracy, 532.0 / 539.0);
        QVERIFY(std::abs(*stat.accuracy - *fp32.accuracy) <= 0.02);
        QVERIFY(stat.outputSqnr.db > 15.0);
    }

    void dynamicAndWeightOnly() {
        QuantizedModel int8(*m_mlp, {});
        ModelEvaluator evaluator(int8, *m_test, m_labels);
        const ModeResult fp32 = evaluator.evaluate(QuantMode::Fp32);
        const ModeResult dynamic = evaluator.evaluate(QuantMode::Dynamic);
        const ModeResult weightOnly = evaluator.evaluate(QuantMode::WeightOnly);
        // Dynamic quantizes a little less than static (no output requantization): high SQNR.
        QVERIFY(dynamic.outputSqnr.db > 25.0);
        QVERIFY(weightOnly.outputSqnr.db > dynamic.outputSqnr.db); // fp32 activations: less error
        QVERIFY(std::abs(*dynamic.accuracy - *fp32.accuracy) <= 0.01);

        ModelQuantConfig config;
        config.weight = int4Groups(32);
        QuantizedModel int4(*m_mlp, config);
        for (const auto& layer : int4.layers())
            QVERIFY(!layer.integerPath && layer.int4); // per-group int4 runs on the int4 kernel
        ModelEvaluator evaluator4(int4, *m_test, m_labels);
        const ModeResult w4 = evaluator4.evaluate(QuantMode::WeightOnly);
        qInfo("dynamic %.4f (%.2f dB) int8 weight-only %.2f dB int4 weight-only %.4f (%.2f dB)",
              *dynamic.accuracy, dynamic.outputSqnr.db, weightOnly.outputSqnr.db, *w4.accuracy,
              w4.outputSqnr.db);
        QVERIFY(w4.outputSqnr.db < weightOnly.outputSqnr.db - 12.0); // ~6 dB per bit, 4 bits fewer
        QVERIFY(std::abs(*w4.accuracy - *fp32.accuracy) <= 0.03);
    }

    void sizesPerMode() {
        // MLP: 50,432 weights and 394 biases.
        QuantizedModel int8(*m_mlp, {});
        QCOMPARE(int8.sizeBytes(QuantMode::Fp32), uint64_t(4 * (50432 + 394)));
        // int8 weights + one float scale per output channel (symmetric: no zero point) + fp32 biases.
        QCOMPARE(int8.sizeBytes(QuantMode::Dynamic), uint64_t(50432 + 4 * 394 + 4 * 394));
        QCOMPARE(int8.sizeBytes(QuantMode::WeightOnly), int8.sizeBytes(QuantMode::Dynamic));
        ModelQuantConfig config;
        config.weight = int4Groups(32);
        QuantizedModel int4(*m_mlp, config);
        // 4 bits per weight; groups of 32 along the inputs: 256*2 + 128*8 + 10*4 scales.
        QCOMPARE(int4.sizeBytes(QuantMode::WeightOnly),
                 uint64_t(50432 / 2 + 4 * (512 + 1024 + 40) + 4 * 394));
    }

    void layerSqnrLocalAndCumulative() {
        QuantizedModel model(*m_mlp, {});
        model.calibrate(*m_calib, 256);
        ModelEvaluator evaluator(model, *m_test, m_labels);
        const auto layers = evaluator.layerSqnr(QuantMode::Static);
        QCOMPARE(layers.size(), std::size_t(3));
        QCOMPARE(layers[0].name, std::string("fc1"));
        // Nothing precedes fc1 but the quantized input, so both measures coincide there.
        QCOMPARE(layers[0].local.db, layers[0].cumulative.db);
        for (const auto& layer : layers) {
            qInfo("%s local %.2f dB cumulative %.2f dB", layer.name.c_str(), layer.local.db,
                  layer.cumulative.db);
            QVERIFY(layer.local.db > 25.0);
            QVERIFY(layer.cumulative.db <= layer.local.db + 1.0); // error accumulates (within noise)
        }
        // Fewer weight bits: every layer's local SQNR falls.
        ModelQuantConfig config;
        config.weight.format = QuantFormat::integer(4, true);
        QuantizedModel coarse(*m_mlp, config);
        coarse.calibrate(*m_calib, 256);
        ModelEvaluator coarseEvaluator(coarse, *m_test, m_labels);
        const auto coarseLayers = coarseEvaluator.layerSqnr(QuantMode::Static);
        for (std::size_t l = 0; l < layers.size(); ++l)
            QVERIFY(coarseLayers[l].local.db < layers[l].local.db - 6.0);
    }

    void paramsDocumentReproducesTheModel() {
        QuantizedModel model(*m_mlp, {});
        model.calibrate(*m_calib, 256);
        const QParamsDocument doc = model.document();
        int activations = 0;
        for (const auto& entry : doc.tensors)
            activations += entry.kind == TensorKind::Activation;
        QCOMPARE(activations, 6); // input, fc1_out, fc1_relu, fc2_out, fc2_relu, logits
        QVERIFY(doc.calibration.has_value());
        QCOMPARE(*doc.calibration->samples, int64_t(1258));

        ModelQuantConfig config;
        config.params = QParamsDocument::fromJson(doc.toJson(), "roundtrip.json");
        QuantizedModel again(*m_mlp, config);
        SampleSet few(m_calib->path(), {64},
                      std::vector<float>(m_calib->values().begin(), m_calib->values().begin() + 64 * 10));
        again.calibrate(few, 256); // explicit scales win over what 10 samples would give
        for (const auto& entry : doc.tensors) {
            if (entry.kind != TensorKind::Activation)
                continue;
            QCOMPARE(again.activationParams(entry.name)->scale, entry.params->scale);
            QCOMPARE(again.activationParams(entry.name)->zeroPoint, entry.params->zeroPoint);
        }
        const Value batch = m_test->batch(0, 32, m_mlp->graph().inputs[0]);
        const auto a = model.run(QuantMode::Static, {{"input", batch}});
        const auto b = again.run(QuantMode::Static, {{"input", batch}});
        QCOMPARE(a.at("logits").data, b.at("logits").data);
    }

    void badInput() {
        QuantizedModel model(*m_mlp, {});
        // Static without calibration.
        QVERIFY_THROWS_EXCEPTION(
            Error, model.run(QuantMode::Static, {{"input", m_test->batch(0, 1, m_mlp->graph().inputs[0])}}));
        // Labels of the wrong length.
        std::vector<int64_t> shortLabels(m_labels.begin(), m_labels.end() - 1);
        try {
            ModelEvaluator evaluator(model, *m_test, shortLabels);
            QFAIL("538 labels for 539 samples were accepted");
        } catch (const Error& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(QLatin1String("538 labels for 539 samples")),
                     error.what());
        }
        // Zero samples.
        QVERIFY_THROWS_EXCEPTION(Error, SampleSet("empty.npy", {64}, {}));
        // Samples of the wrong shape for the model.
        SampleSet wrong("wrong.npy", {63}, std::vector<float>(63 * 2, 0.5f));
        try {
            ModelEvaluator evaluator(model, wrong, std::nullopt);
            evaluator.evaluate(QuantMode::Fp32);
            QFAIL("63 features were accepted for a 64-input model");
        } catch (const Error& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(QLatin1String("[63]")), error.what());
        }
        // Activations per channel are refused with the option named.
        ModelQuantConfig config;
        config.activation.granularity = Granularity::Channel;
        try {
            QuantizedModel refused(*m_mlp, config);
            QFAIL("per-channel activations were accepted");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), std::string("--granularity"));
        }
    }

    void samplesAndLabelsFromNpz() {
        // One archive with x and y: the samples loader takes x, the labels loader y.
        const std::string path = QUANTSCOPE_TEST_DATA "/model/samples_and_labels.npz";
        const SampleSet samples = SampleSet::load(path);
        QCOMPARE(samples.count(), int64_t(20));
        QCOMPARE(samples.sampleShape(), (std::vector<int64_t>{64}));
        for (int i = 0; i < 20 * 64; ++i)
            QCOMPARE(samples.values()[i], m_test->values()[i]);
        const auto labels = loadLabels(path);
        QCOMPARE(labels, std::vector<int64_t>(m_labels.begin(), m_labels.begin() + 20));
        // Fed to the CNN, the N x 64 samples become N x 1 x 8 x 8.
        QCOMPARE(samples.batch(0, 5, m_cnn->graph().inputs[0]).shape, (std::vector<int64_t>{5, 1, 8, 8}));
    }

    void samplesFromCsvAndLabelsColumn() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("s.csv")).toStdString();
        {
            QFile file(QString::fromStdString(path));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("a,b,label\n1,2,3\n4.5,-6,0\n\n7,8e-1,2\n");
        }
        const SampleSet samples = SampleSet::load(path, "label");
        QCOMPARE(samples.count(), int64_t(3));
        QCOMPARE(samples.sampleShape(), (std::vector<int64_t>{2}));
        QCOMPARE(samples.values()[2], 4.5f);
        QCOMPARE(samples.values()[5], 0.8f);
        QCOMPARE(loadLabels(path), (std::vector<int64_t>{3, 0, 2}));
        QCOMPARE(loadLabels(path, "2"), (std::vector<int64_t>{3, 0, 2})); // by index
        QVERIFY_THROWS_EXCEPTION(Error, loadLabels(path, "0"));           // 4.5 is no class index
        QVERIFY_THROWS_EXCEPTION(Error, loadLabels(path, "nope"));
    }
};

QTEST_GUILESS_MAIN(TestModelQuantized)
#include "tst_model_quantized.moc"
