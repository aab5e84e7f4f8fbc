// Small versions of real architectures exported by torch.onnx (tests/data/real_models, made by
// tools/make_real_model_data.py): fp32 outputs equal PyTorch's, the quantized modes run, and a
// model with a fixed batch N is fed N rows per run with the padded rows dropped from every result
// (outputs, accuracy, SQNR, calibration, captured activations). Models with several inputs take
// an .npz keyed by the input names.
#include "quantscope/Error.h"
#include "quantscope/calib/Observer.h"
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/model/ActivationCapture.h"
#include "quantscope/model/BatchPlan.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace quantscope;

namespace {

const std::string kData = QUANTSCOPE_TEST_DATA "/real_models/";
constexpr int64_t kSamples = 10;

Tensor loadNpy(const std::string& name) {
    const NpyReader reader(kData + name);
    return reader.load(reader.tensors()[0].name);
}

// The samples file and PyTorch's outputs of a model family ("resnet", "mobilenet", "masked_mlp").
std::string samplesOf(const std::string& family) {
    if (family == "masked_mlp" || family == "encoder")
        return family + "_inputs.npz";
    return "images.npy";
}

struct Loaded {
    std::unique_ptr<Executor> executor;
    std::unique_ptr<SampleSet> samples;
};

Loaded loadModel(const std::string& family, const std::string& variant) {
    Loaded loaded;
    loaded.executor = std::make_unique<Executor>(loadOnnxGraph(kData + family + "_" + variant + ".onnx"));
    loaded.samples = std::make_unique<SampleSet>(
        SampleSet::loadForInputs(kData + samplesOf(family), loaded.executor->graph().inputs));
    return loaded;
}

EvalOptions quickOptions() {
    EvalOptions options;
    options.minSeconds = 0.0;
    options.latencySamples = 2;
    return options;
}

// Largest |a - b| over the largest |b|: the error relative to the output's scale.
double relativeError(std::span<const float> actual, std::span<const float> expected) {
    double largest = 0.0, error = 0.0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        largest = std::max(largest, std::fabs(static_cast<double>(expected[i])));
        error = std::max(error, std::fabs(static_cast<double>(actual[i]) - expected[i]));
    }
    return error / std::max(largest, 1e-30);
}

// 10 log10(Σx² / Σ(x - x̂)²), computed here from the two output arrays.
double sqnrDb(std::span<const float> reference, std::span<const float> actual) {
    double signal = 0.0, noise = 0.0;
    for (std::size_t i = 0; i < reference.size(); ++i) {
        signal += static_cast<double>(reference[i]) * reference[i];
        noise +=
            (static_cast<double>(reference[i]) - actual[i]) * (static_cast<double>(reference[i]) - actual[i]);
    }
    return 10.0 * std::log10(signal / noise);
}

void addRunnableModels() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("variant");
    QTest::addColumn<int>("fixedBatch"); // 0 = dynamic
    for (const char* family : {"resnet", "mobilenet", "masked_mlp", "encoder"}) {
        for (const char* opset : {"op9", "op11", "op13", "op17"}) {
            for (const auto& [tag, batch] : {std::pair{"b1", 1}, std::pair{"b4", 4}, std::pair{"dyn", 0}}) {
                const std::string variant = std::string(opset) + "_" + tag;
                QTest::newRow((std::string(family) + "_" + variant).c_str())
                    << QString::fromLatin1(family) << QString::fromStdString(variant) << batch;
            }
        }
    }
}

} // namespace

class TestModelReal : public QObject {
    Q_OBJECT

private slots:
    void fp32MatchesTorch_data() { addRunnableModels(); }
    void fp32MatchesTorch() {
        QFETCH(QString, family);
        QFETCH(QString, variant);
        QFETCH(int, fixedBatch);
        const Loaded loaded = loadModel(family.toStdString(), variant.toStdString());
        QCOMPARE(loaded.samples->count(), kSamples);
        const BatchPlan plan(loaded.executor->graph(), 256);
        QCOMPARE(plan.fixedBatch().value_or(0), int64_t{fixedBatch});

        QuantizedModel model(*loaded.executor, {});
        ModelEvaluator evaluator(model, *loaded.samples, std::nullopt, quickOptions());
        const ModeResult fp32 = evaluator.evaluate(QuantMode::Fp32);
        const Tensor torch = loadNpy(family.toStdString() + "_outputs.npy");
        QCOMPARE(fp32.outputShape, torch.shape());
        QCOMPARE(fp32.outputs.size(), static_cast<std::size_t>(torch.size()));
        const double error = relativeError(fp32.outputs, torch.values());
        if (error > 1e-4)
            qWarning("largest error %g of the largest |output|", error);
        QVERIFY(error <= 1e-4);
        QCOMPARE(fp32.batch, fixedBatch ? int64_t{fixedBatch} : int64_t{256});
        QCOMPARE(fp32.latencyBatch, fixedBatch ? int64_t{fixedBatch} : int64_t{1});
    }

    void quantizedModesRun_data() { addRunnableModels(); }
    void quantizedModesRun() {
        QFETCH(QString, family);
        QFETCH(QString, variant);
        const Loaded loaded = loadModel(family.toStdString(), variant.toStdString());
        QuantizedModel model(*loaded.executor, {});
        model.calibrate(*loaded.samples, 256);
        ModelEvaluator evaluator(model, *loaded.samples, std::nullopt, quickOptions());
        const ModeResult fp32 = evaluator.evaluate(QuantMode::Fp32);
        for (QuantMode mode : {QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly}) {
            const ModeResult result = evaluator.evaluate(mode);
            QCOMPARE(result.outputs.size(), fp32.outputs.size());
            QVERIFY2(result.outputSqnr.note.empty() && std::isfinite(result.outputSqnr.db),
                     std::string(quantModeName(mode)).c_str());
            // int8 weights (and activations) of random-weight models: well above noise level.
            QVERIFY2(result.outputSqnr.db > 10.0,
                     (std::string(quantModeName(mode)) + " " + std::to_string(result.outputSqnr.db)).c_str());
            QCOMPARE(result.outputSqnr.db, sqnrDb(fp32.outputs, result.outputs));
        }
    }

    // N = 1 and N = 4 models on 10 samples (the N = 4 model's last run holds 2 real rows and 2
    // padded ones) give the outputs of running each sample on its own through the dynamic model.
    void fixedBatchEqualsOneByOne_data() {
        QTest::addColumn<QString>("variant");
        QTest::newRow("b1") << QStringLiteral("op13_b1");
        QTest::newRow("b4") << QStringLiteral("op13_b4");
    }
    void fixedBatchEqualsOneByOne() {
        QFETCH(QString, variant);
        const Loaded fixed = loadModel("resnet", variant.toStdString());
        QuantizedModel model(*fixed.executor, {});
        ModelEvaluator evaluator(model, *fixed.samples, std::nullopt, quickOptions());
        const ModeResult all = evaluator.evaluate(QuantMode::Fp32);
        QCOMPARE(all.outputShape, (std::vector<int64_t>{kSamples, 10}));

        const Loaded dynamic = loadModel("resnet", "op13_dyn");
        const GraphValueInfo& input = dynamic.executor->graph().inputs[0];
        for (int64_t i = 0; i < kSamples; ++i) {
            const auto outputs = dynamic.executor->run({{input.name, dynamic.samples->batch(i, 1, input)}});
            const Value& row = outputs.at("output");
            QCOMPARE(row.shape, (std::vector<int64_t>{1, 10}));
            const std::span<const float> fixedRow =
                std::span<const float>(all.outputs).subspan(static_cast<std::size_t>(i * 10), 10);
            QVERIFY2(relativeError(fixedRow, row.data) <= 1e-5, std::to_string(i).c_str());
        }

        // One sample alone through the fixed model (padded to N rows) gives the same row too.
        const auto& images = fixed.samples->arrays().front();
        const std::size_t size = images.values.size() / kSamples;
        const SampleSet last(
            "last.npy", images.sampleShape,
            std::vector<float>(images.values.end() - static_cast<std::ptrdiff_t>(size), images.values.end()));
        ModelEvaluator alone(model, last, std::nullopt, quickOptions());
        const ModeResult one = alone.evaluate(QuantMode::Fp32);
        QCOMPARE(one.outputShape, (std::vector<int64_t>{1, 10}));
        QVERIFY(relativeError(one.outputs, std::span<const float>(all.outputs).last(10)) <= 1e-5);
    }

    // Accuracy counts the 10 real samples only: 5 labels are PyTorch's top-1 and 5 are not, so
    // fp32 scores exactly 0.5 (a padded copy of sample 9, labelled wrong, would make it 5/12).
    void accuracyOverRealSamples() {
        const Loaded fixed = loadModel("resnet", "op13_b4");
        const Tensor torch = loadNpy("resnet_outputs.npy");
        std::vector<int64_t> labels;
        for (int64_t i = 0; i < kSamples; ++i) {
            const auto row = torch.values().subspan(static_cast<std::size_t>(i * 10), 10);
            const int64_t top = std::max_element(row.begin(), row.end()) - row.begin();
            labels.push_back(i < 5 ? top : (top + 1) % 10);
        }
        QuantizedModel model(*fixed.executor, {});
        model.calibrate(*fixed.samples, 256);
        ModelEvaluator evaluator(model, *fixed.samples, labels, quickOptions());
        const ModeResult fp32 = evaluator.evaluate(QuantMode::Fp32);
        QCOMPARE(*fp32.accuracy, 0.5);
        QCOMPARE(fp32.agreement, 1.0);
        const ModeResult stat = evaluator.evaluate(QuantMode::Static);
        int64_t correct = 0;
        for (int64_t i = 0; i < kSamples; ++i) {
            const auto row =
                std::span<const float>(stat.outputs).subspan(static_cast<std::size_t>(i * 10), 10);
            correct +=
                std::max_element(row.begin(), row.end()) - row.begin() == labels[static_cast<std::size_t>(i)];
        }
        QCOMPARE(*stat.accuracy, static_cast<double>(correct) / 10.0);
        QCOMPARE(stat.outputSqnr.db, sqnrDb(fp32.outputs, stat.outputs));

        // Per-layer SQNR runs the same padded batches.
        const auto layers = evaluator.layerSqnr(QuantMode::Static);
        QCOMPARE(layers.size(), std::size_t{10}); // 9 Conv + 1 Gemm
        for (const auto& layer : layers)
            QVERIFY2(std::isfinite(layer.local.db) && std::isfinite(layer.cumulative.db), layer.name.c_str());
    }

    // The capture of a fixed-batch model holds the 10 real samples: its input is the images
    // exactly, and every activation equals the dynamic model's capture of the same samples.
    void captureDropsPadding() {
        const Loaded fixed = loadModel("resnet", "op13_b4");
        const Loaded dynamic = loadModel("resnet", "op13_dyn");
        ActivationCaptureOptions options;
        options.batchSize = 4; // the dynamic model runs the same 4 + 4 + 2 split, unpadded
        const CapturedActivations fromFixed = captureActivations(*fixed.executor, *fixed.samples, options);
        const CapturedActivations fromDynamic =
            captureActivations(*dynamic.executor, *dynamic.samples, options);
        QCOMPARE(fromFixed.samplesCaptured, kSamples);
        const Tensor input = fromFixed.file->load("input");
        QCOMPARE(input.shape(), (std::vector<int64_t>{kSamples, 3, 32, 32}));
        const Tensor images = loadNpy("images.npy");
        QVERIFY(std::equal(input.values().begin(), input.values().end(), images.values().begin()));
        QCOMPARE(fromFixed.file->tensors().size(), fromDynamic.file->tensors().size());
        for (const auto& info : fromDynamic.file->tensors()) {
            const Tensor a = fromFixed.file->load(info.name);
            const Tensor b = fromDynamic.file->load(info.name);
            QCOMPARE(a.shape(), b.shape());
            QCOMPARE(a.shape()[0], kSamples);
            QVERIFY2(relativeError(a.values(), b.values()) <= 1e-5, info.name.c_str());
        }
        const Tensor logits = fromFixed.file->load("output");
        const Tensor torch = loadNpy("resnet_outputs.npy");
        const auto [lo, hi] = std::minmax_element(logits.values().begin(), logits.values().end());
        const auto [tlo, thi] = std::minmax_element(torch.values().begin(), torch.values().end());
        QVERIFY(std::fabs(*lo - *tlo) <= 1e-4 * std::fabs(*tlo));
        QVERIFY(std::fabs(*hi - *thi) <= 1e-4 * std::fabs(*thi));
    }

    // Static calibration with a histogram observer (which, unlike min/max, counts repeated
    // values) sees the 10 real images in runs of 4, 4 and 2: the input's parameters equal an
    // observer fed exactly those values, and differ from one that also saw the 2 padded rows.
    void calibrationDropsPadding() {
        const Loaded fixed = loadModel("resnet", "op13_b4");
        ModelQuantConfig config;
        config.activation.calib = CalibMethod::Percentile;
        config.activation.percentile = 99.0;
        QuantizedModel model(*fixed.executor, config);
        model.calibrate(*fixed.samples, 256);
        const QParams* params = model.activationParams("input");
        QVERIFY(params != nullptr);

        const Tensor images = loadNpy("images.npy");
        const std::size_t sample = static_cast<std::size_t>(images.size() / kSamples);
        const auto expected = [&](bool withPadding) {
            auto observer = makeObserver(config.activation);
            for (std::size_t first = 0; first < 10; first += 4) {
                const std::size_t n = std::min<std::size_t>(4, 10 - first);
                observer->observe(images.values().subspan(first * sample, n * sample));
                for (std::size_t pad = n; withPadding && pad < 4; ++pad)
                    observer->observe(images.values().subspan(9 * sample, sample));
            }
            const Range range = observer->range();
            return range;
        };
        const Range real = expected(false);
        const Range padded = expected(true);
        QVERIFY(real.min != padded.min || real.max != padded.max); // the check can tell them apart
        QCOMPARE(params->min[0], real.min);
        QCOMPARE(params->max[0], real.max);
    }

    // Two float inputs fed from an .npz keyed by the input names; dynamic and fixed batch agree.
    void multiInputCaptureAndCalibration() {
        const Loaded fixed = loadModel("masked_mlp", "op13_b4");
        QCOMPARE(fixed.samples->arrays().size(), std::size_t{2});
        const CapturedActivations captured = captureActivations(*fixed.executor, *fixed.samples);
        const Tensor features = captured.file->load("features");
        const Tensor mask = captured.file->load("mask");
        QCOMPARE(features.shape(), (std::vector<int64_t>{kSamples, 16}));
        QCOMPARE(mask.shape(), (std::vector<int64_t>{kSamples, 16}));
        const auto file = openWeightFile(kData + "masked_mlp_inputs.npz");
        const Tensor expectedMask = file->load("mask");
        QVERIFY(std::equal(mask.values().begin(), mask.values().end(), expectedMask.values().begin()));
        QuantizedModel model(*fixed.executor, {});
        model.calibrate(*fixed.samples, 256);
        const QParams* maskParams = model.activationParams("mask");
        QVERIFY(maskParams != nullptr);
        QCOMPARE(maskParams->min[0], 0.0f);
        QCOMPARE(maskParams->max[0], 1.0f);
    }

    // The encoder's token ids, mask and token types are int64 arrays: fed as exact integer tensors.
    void integerInputsFeedExactIntegers() {
        GraphValueInfo ids{"input_ids", {4, 16}, true, DType::I64};
        GraphValueInfo attention{"attention_mask", {4, 16}, true, DType::I64};
        GraphValueInfo types{"token_type_ids", {4, 16}, true, DType::I64};
        const std::vector<GraphValueInfo> inputs{ids, attention, types};
        const SampleSet samples = SampleSet::loadForInputs(kData + "encoder_inputs.npz", inputs);
        QCOMPARE(samples.count(), kSamples);
        const auto fed = samples.feed(inputs, 8, 2, 4);
        const Value& value = fed.at("input_ids");
        QVERIFY(value.isInteger());
        QCOMPARE(value.shape, (std::vector<int64_t>{4, 16}));
        const Tensor all = openWeightFile(kData + "encoder_inputs.npz")->load("input_ids");
        for (std::size_t i = 0; i < 32; ++i)
            QCOMPARE(value.ints[i], static_cast<int64_t>(all.values()[8 * 16 + i]));
        // Rows 2 and 3 repeat the last real sample (9).
        for (std::size_t i = 0; i < 16; ++i) {
            QCOMPARE(value.ints[32 + i], value.ints[16 + i]);
            QCOMPARE(value.ints[48 + i], value.ints[16 + i]);
        }
        QVERIFY(fed.at("attention_mask").isInteger());
    }

    void badMultiInputSamples() {
        const auto messageOf = [](const std::function<void()>& call) {
            try {
                call();
            } catch (const Error& error) {
                return std::string(error.what());
            }
            return std::string();
        };
        const Executor mlp(loadOnnxGraph(kData + "masked_mlp_op13_dyn.onnx"));
        // The encoder's inputs have none of the MLP's keys.
        std::string message =
            messageOf([&] { SampleSet::loadForInputs(kData + "encoder_inputs.npz", mlp.graph().inputs); });
        QVERIFY2(message.find("'features'") != std::string::npos &&
                     message.find("input_ids") != std::string::npos,
                 message.c_str());
        // A single .npy cannot feed two inputs.
        message = messageOf([&] { SampleSet::loadForInputs(kData + "images.npy", mlp.graph().inputs); });
        QVERIFY2(message.find("features, mask") != std::string::npos, message.c_str());
        // Float samples for int64 inputs.
        std::vector<GraphValueInfo> integerInputs = mlp.graph().inputs;
        for (auto& input : integerInputs)
            input.dtype = DType::I64;
        message =
            messageOf([&] { SampleSet::loadForInputs(kData + "masked_mlp_inputs.npz", integerInputs); });
        QVERIFY2(message.find("I64") != std::string::npos && message.find("features") != std::string::npos,
                 message.c_str());
        // Arrays with different sample counts.
        message = messageOf([] {
            SampleSet("two.npz", {SampleSet::Array{"a", {2}, std::vector<float>(20), false},
                                  SampleSet::Array{"b", {2}, std::vector<float>(18), false}});
        });
        QVERIFY2(message.find("'b'") == std::string::npos &&
                     message.find("b: holds 9 samples") != std::string::npos &&
                     message.find("'a' holds 10") != std::string::npos,
                 message.c_str());
        // Inputs declaring different fixed batches.
        Graph graph;
        graph.path = "two_batches.onnx";
        graph.inputs = {{"a", {4, 2}, true, DType::F32}, {"b", {2, 2}, true, DType::F32}};
        message = messageOf([&] { BatchPlan(graph, 256); });
        QVERIFY2(message.find("'a'") != std::string::npos && message.find("'b'") != std::string::npos,
                 message.c_str());
    }

    // quantscope-cli eval on a fixed-batch model: the JSON records the batch and --out-logits
    // holds the 10 real rows.
    void cliRecordsBatch() {
        QTemporaryDir dir;
        const QString logits = dir.filePath(QStringLiteral("logits.npy"));
        QProcess process;
        process.start(QStringLiteral(QUANTSCOPE_CLI_PATH),
                      {QStringLiteral("eval"), QString::fromStdString(kData + "resnet_op13_b4.onnx"),
                       QStringLiteral("--samples"), QString::fromStdString(kData + "images.npy"),
                       QStringLiteral("--mode"), QStringLiteral("fp32"), QStringLiteral("--mode"),
                       QStringLiteral("static"), QStringLiteral("--min-time"), QStringLiteral("0"),
                       QStringLiteral("--out-logits"), logits, QStringLiteral("--json"),
                       QStringLiteral("-")});
        QVERIFY(process.waitForFinished(600000));
        QCOMPARE(process.exitCode(), 0);
        const QJsonObject document = QJsonDocument::fromJson(process.readAllStandardOutput()).object();
        QCOMPARE(document.value(QLatin1String("batch")).toInt(), 4);
        QVERIFY(document.value(QLatin1String("batch_fixed_by_model")).toBool());
        for (const auto& result : document.value(QLatin1String("results")).toArray())
            QCOMPARE(result.toObject().value(QLatin1String("batch")).toInt(), 4);
        const Tensor written = NpyReader(logits.toStdString()).load("logits");
        QCOMPARE(written.shape(), (std::vector<int64_t>{kSamples, 10}));
        QVERIFY(relativeError(written.values(), loadNpy("resnet_outputs.npy").values()) <= 1e-4);
    }
};

QTEST_GUILESS_MAIN(TestModelReal)
#include "tst_model_real.moc"
