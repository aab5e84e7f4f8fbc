// A quantized model reconfigured in place (what the live Compare view does after each settings
// change) equals one built from scratch with the new settings: only the weights whose settings
// changed are quantized again, activation parameters come from the observers calibration kept
// (a new method observes the samples once more, a method seen before does not), and the evaluator
// scores a first slice of the samples against fp32's outputs of the same slice. Dynamic mode runs
// every convolution on the int8 core, so a convolution's weight bits change its result.
#include "quantscope/Error.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"

#include <QtTest>

#include <memory>

using namespace quantscope;

namespace {

const std::string kData = QUANTSCOPE_TEST_DATA "/real_models/";

struct Loaded {
    std::unique_ptr<Executor> executor;
    std::unique_ptr<SampleSet> samples;
};

// The small ResNet (three stages of BasicBlocks) on its 10 images.
Loaded loadResnet() {
    Loaded loaded;
    loaded.executor = std::make_unique<Executor>(loadOnnxGraph(kData + "resnet_op13_dyn.onnx"));
    loaded.samples = std::make_unique<SampleSet>(SampleSet::load(kData + "images.npy"));
    return loaded;
}

std::string firstConvWeight(const Executor& executor) {
    for (const auto& node : executor.graph().nodes)
        if (node.opType == "Conv")
            return node.inputs[1];
    return {};
}

// Settings for one weight, the others keep the model's default.
ModelQuantConfig withWeight(const std::string& name, const QuantSpec& spec) {
    ModelQuantConfig config;
    QParamsDocument document;
    QParamsEntry entry;
    entry.name = name;
    entry.kind = TensorKind::Weight;
    entry.spec = spec;
    document.tensors.push_back(entry);
    config.params = document;
    return config;
}

QuantSpec weightSpec(int bits, bool isSigned = true) {
    QuantSpec spec = ModelQuantConfig::defaultWeightSpec();
    spec.format = QuantFormat::integer(bits, isSigned);
    spec.scheme = isSigned ? Scheme::Symmetric : Scheme::Affine;
    return spec;
}

std::vector<float> outputOf(const QuantizedModel& model, QuantMode mode, const SampleSet& samples) {
    const auto& inputs = model.executor().graph().inputs;
    std::map<std::string, Value> feed;
    feed[inputs[0].name] = samples.batch(0, samples.count(), inputs[0]);
    auto outputs = model.run(mode, std::move(feed));
    return outputs.at(model.executor().graph().outputs[0].name).data;
}

// Both models quantize every weight and activation with the same parameters and give the same
// outputs in every quantized mode.
void compareModels(const QuantizedModel& kept, const QuantizedModel& fresh, const SampleSet& samples) {
    QCOMPARE(kept.layers().size(), fresh.layers().size());
    for (std::size_t l = 0; l < kept.layers().size(); ++l) {
        QCOMPARE(kept.layers()[l].weight.params.scale, fresh.layers()[l].weight.params.scale);
        QCOMPARE(kept.layers()[l].weight.integers, fresh.layers()[l].weight.integers);
    }
    const QParamsDocument keptDoc = kept.document();
    const QParamsDocument freshDoc = fresh.document();
    QCOMPARE(keptDoc.tensors.size(), freshDoc.tensors.size());
    for (std::size_t t = 0; t < keptDoc.tensors.size(); ++t) {
        QCOMPARE(keptDoc.tensors[t].name, freshDoc.tensors[t].name);
        QCOMPARE(keptDoc.tensors[t].params->scale, freshDoc.tensors[t].params->scale);
        QCOMPARE(keptDoc.tensors[t].params->zeroPoint, freshDoc.tensors[t].params->zeroPoint);
    }
    for (QuantMode mode : {QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly})
        QCOMPARE(outputOf(kept, mode, samples), outputOf(fresh, mode, samples));
}

} // namespace

class TestModelReconfigure : public QObject {
    Q_OBJECT
private slots:
    void onlyTouchedWeightsAreQuantizedAgain() {
        const Loaded loaded = loadResnet();
        QuantizedModel model(*loaded.executor, ModelQuantConfig{});
        model.calibrate(*loaded.samples, 256);
        const std::size_t layers = model.layers().size();
        QVERIFY(layers > 3);

        const ModelQuantConfig config = withWeight(firstConvWeight(*loaded.executor), weightSpec(3));
        const QuantizedModel::Reconfiguration done = model.reconfigure(config);
        QCOMPARE(done.weightsRequantized, 1);
        QVERIFY(!done.needsCalibration);
        QCOMPARE(model.layers()[0].weight.spec.format.bits, 3);
        // 3-bit symmetric: the codes stay within [-4, 3].
        for (int32_t q : model.layers()[0].weight.integers)
            QVERIFY(q >= -4 && q <= 3);

        QuantizedModel fresh(*loaded.executor, config);
        fresh.calibrate(*loaded.samples, 256);
        compareModels(model, fresh, *loaded.samples);
        QCOMPARE(model.reconfigure(config).weightsRequantized, 0); // nothing changed

        // An invalid setting is refused and leaves the model as it was.
        QuantSpec bad = weightSpec(8);
        bad.axis = 7;
        QVERIFY_THROWS_EXCEPTION(Error,
                                 model.reconfigure(withWeight(firstConvWeight(*loaded.executor), bad)));
        compareModels(model, fresh, *loaded.samples);
    }

    void activationParametersComeFromTheKeptObservers() {
        const Loaded loaded = loadResnet();
        QuantizedModel model(*loaded.executor, ModelQuantConfig{});
        model.calibrate(*loaded.samples, 256);

        const auto expectLike = [&](const ModelQuantConfig& config, bool needsCalibration) {
            const QuantizedModel::Reconfiguration done = model.reconfigure(config);
            QCOMPARE(done.weightsRequantized, 0);
            QCOMPARE(done.needsCalibration, needsCalibration);
            QCOMPARE(model.calibrated(), !needsCalibration);
            QCOMPARE(model.calibrateMissing(*loaded.samples, 256), needsCalibration);
            QuantizedModel fresh(*loaded.executor, config);
            fresh.calibrate(*loaded.samples, 256);
            compareModels(model, fresh, *loaded.samples);
        };
        ModelQuantConfig config;
        config.activation.format = QuantFormat::integer(4, false); // min-max at 4 bits: no new pass
        expectLike(config, false);
        config.activation.calib = CalibMethod::Histogram; // a new method: the samples once more
        expectLike(config, true);
        config.activation.format = QuantFormat::integer(6, false); // the kept histograms serve 6 bits
        expectLike(config, false);
        config.activation.calib = CalibMethod::MinMax; // min-max was kept too
        expectLike(config, false);
        config.activation.calib = CalibMethod::Percentile;
        config.activation.scheme = Scheme::Affine;
        expectLike(config, true);
        config.activation.scheme = Scheme::Symmetric; // percentile keeps |x| or x: another pass
        expectLike(config, true);
    }

    void dynamicModeFollowsAConvolutionsWeightBits() {
        const Loaded loaded = loadResnet();
        QuantizedModel model(*loaded.executor, ModelQuantConfig{});
        model.calibrate(*loaded.samples, 256);
        ModelEvaluator evaluator(model, *loaded.samples, std::nullopt);
        const ModeResult at8 = evaluator.score(QuantMode::Dynamic, loaded.samples->count());

        // Every convolution runs on the int8 core with ranges measured as the model runs.
        const auto dynamic = model.execution(QuantMode::Dynamic);
        int convs = 0;
        for (const auto& node : dynamic) {
            if (node.opType == "Conv") {
                ++convs;
                QVERIFY2(node.quantized && node.integer, node.node.c_str());
            } else if (node.opType != "Gemm") {
                QVERIFY2(!node.quantized, node.node.c_str());
            }
        }
        QVERIFY(convs >= 5);

        const std::string conv = firstConvWeight(*loaded.executor);
        model.reconfigure(withWeight(conv, weightSpec(2)));
        const ModeResult at2 = evaluator.score(QuantMode::Dynamic, loaded.samples->count());
        QVERIFY2(at2.outputSqnr.db < at8.outputSqnr.db - 3.0,
                 qPrintable(QStringLiteral("%1 -> %2 dB").arg(at8.outputSqnr.db).arg(at2.outputSqnr.db)));
        QuantizedModel fresh(*loaded.executor, withWeight(conv, weightSpec(2)));
        QCOMPARE(outputOf(model, QuantMode::Dynamic, *loaded.samples),
                 outputOf(fresh, QuantMode::Dynamic, *loaded.samples));

        // Unsigned weights do not fit the int8 core: that convolution stays fp32, and says so.
        model.reconfigure(withWeight(conv, weightSpec(8, false)));
        const auto unsignedConv = model.execution(QuantMode::Dynamic);
        const auto first = std::find_if(unsignedConv.begin(), unsignedConv.end(),
                                        [](const auto& node) { return node.opType == "Conv"; });
        QVERIFY(!first->quantized);
        QVERIFY(std::count_if(unsignedConv.begin(), unsignedConv.end(), [](const auto& node) {
                    return node.opType == "Conv" && node.quantized;
                }) == convs - 1);
        // Weight-only runs every layer on its quantized weights; static as the pipeline placed it.
        for (const auto& node : model.execution(QuantMode::WeightOnly))
            QCOMPARE(node.quantized, node.opType == "Conv" || node.opType == "Gemm");
        const auto placed = model.staticExecution();
        const auto staticNodes = model.execution(QuantMode::Static);
        QCOMPARE(staticNodes.size(), placed.size());
        for (std::size_t i = 0; i < placed.size(); ++i)
            QCOMPARE(staticNodes[i].quantized, placed[i].integer);
    }

    void firstSlicesScoreAgainstFp32OfTheSameSamples() {
        const Loaded loaded = loadResnet();
        QuantizedModel model(*loaded.executor, ModelQuantConfig{});
        model.calibrate(*loaded.samples, 256);
        EvalOptions options;
        options.minSeconds = 0.0;
        options.latencySamples = 2;
        ModelEvaluator evaluator(model, *loaded.samples, std::nullopt, options);
        // The whole set scored equals evaluate()'s figures.
        const ModeResult evaluated = evaluator.evaluate(QuantMode::Static);
        const ModeResult scored = evaluator.score(QuantMode::Static, loaded.samples->count());
        QCOMPARE(scored.agreement, evaluated.agreement);
        QCOMPARE(scored.outputSqnr.db, evaluated.outputSqnr.db);
        QCOMPARE(scored.outputs, evaluated.outputs);
        QVERIFY(evaluated.latencyMs > 0.0 && evaluated.throughputSps > 0.0);

        // The first 4 samples: the same figures as an evaluation on a set of just those samples.
        const std::vector<float> values(loaded.samples->values().begin(),
                                        loaded.samples->values().begin() + 4 * 3 * 32 * 32);
        const SampleSet four(loaded.samples->path(), loaded.samples->sampleShape(), values);
        ModelEvaluator fourOnly(model, four, std::nullopt, options);
        for (QuantMode mode : {QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly}) {
            const ModeResult slice = evaluator.score(mode, 4);
            const ModeResult alone = fourOnly.score(mode, 4);
            QCOMPARE(slice.outputShape, (std::vector<int64_t>{4, 10}));
            QCOMPARE(slice.outputs, alone.outputs);
            QCOMPARE(slice.outputSqnr.db, alone.outputSqnr.db);
            QCOMPARE(slice.agreement, alone.agreement);
        }
    }
};

QTEST_GUILESS_MAIN(TestModelReconfigure)
#include "tst_model_reconfigure.moc"
