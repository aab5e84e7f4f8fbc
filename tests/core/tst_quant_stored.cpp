// applyStoredParameters: the settings and exact (scale, zero point) of weights stored quantized — an
// ONNX QDQ model (tools/make_qdq_weight_data.py) and packed GPTQ / AWQ / compressed-tensors
// checkpoints (tools/make_packed_checkpoint_data.py). The parameters are compared with the stored
// tensors read directly, and the dequantized weights must lie exactly on the grid they describe.

#include "tst_io_support.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/SafetensorsReader.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/quant/StoredParameters.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <cmath>

using namespace quantscope;

namespace {

std::string packedPath(const std::string& folder) {
    return iotest::dataPath("packed/" + folder + "/model.safetensors");
}

const std::string kWeight = "model.layers.0.mlp.down_proj.weight";
const std::string kModule = "model.layers.0.mlp.down_proj";

// The stored settings of a weight, or nullopt when they are refused.
struct Applied {
    QuantSpec spec;
    QParams params;
};
std::optional<Applied> applied(const WeightFile& file, const std::string& name) {
    const auto stored = file.storedQuantization(name);
    if (!stored)
        return std::nullopt;
    Applied result;
    result.spec.calib = CalibMethod::Percentile; // kept: only the stored grid is replaced
    if (!applyStoredParameters(*stored, file.find(name)->shape, result.spec, result.params))
        return std::nullopt;
    return result;
}

// Quantizing the loaded (dequantized) weight with the stored parameters gives it back exactly.
bool onItsOwnGrid(const WeightFile& file, const std::string& name, const Applied& settings) {
    AnalysisOptions options;
    options.fixedParams = settings.params;
    const TensorAnalysis analysis = analyzeTensor(file.load(name), settings.spec, options);
    if (analysis.metrics.mse != 0.0 || analysis.metrics.clippedCount != 0)
        qWarning("%s: mse %g, clipped %lld", name.c_str(), analysis.metrics.mse,
                 static_cast<long long>(analysis.metrics.clippedCount));
    return analysis.metrics.mse == 0.0 && analysis.metrics.clippedCount == 0;
}

// `quantscope-cli analyze` of the packed weight as JSON, with extra options.
QJsonObject analyzedByCli(const std::string& folder, const QStringList& options) {
    QProcess cli;
    cli.start(QUANTSCOPE_CLI_PATH, QStringList{"analyze", QString::fromStdString(packedPath(folder)),
                                               "--tensor", QString::fromStdString(kWeight), "--json", "-"} +
                                       options);
    if (!cli.waitForFinished(120000) || cli.exitStatus() != QProcess::NormalExit || cli.exitCode() != 0)
        qFatal("analyze failed: %s", cli.readAllStandardError().constData());
    return QJsonDocument::fromJson(cli.readAllStandardOutput())
        .object()
        .value("tensors")
        .toArray()
        .at(0)
        .toObject();
}

} // namespace

class TestQuantStored : public QObject {
    Q_OBJECT

private slots:
    void qdqPerAxisWeight() {
        const auto file = openWeightFile(QUANTSCOPE_TEST_DATA "/model/qdq_weights.onnx");
        const auto result = applied(*file, "fc.weight_quantized");
        QVERIFY(result.has_value());
        QCOMPARE(result->spec.format.name(), std::string("int8"));
        QCOMPARE(result->spec.granularity, Granularity::Channel);
        QCOMPARE(result->spec.axis, 0);
        QCOMPARE(result->spec.scheme, Scheme::Affine); // zero points 0, 3, -2, 0
        QCOMPARE(result->spec.calib, CalibMethod::Percentile);
        QCOMPARE(result->params.scale, (std::vector<float>{0.01f, 0.02f, 0.005f, 0.1f}));
        QCOMPARE(result->params.zeroPoint, (std::vector<int32_t>{0, 3, -2, 0}));
        // The grid's ends: (qmin - Z) * S and (qmax - Z) * S.
        QCOMPARE(result->params.min[1], -131.0f * 0.02f);
        QCOMPARE(result->params.max[1], 124.0f * 0.02f);
        QVERIFY(onItsOwnGrid(*file, "fc.weight_quantized", *result));
    }

    void qdqPerTensorBias() {
        const auto file = openWeightFile(QUANTSCOPE_TEST_DATA "/model/qdq_weights.onnx");
        const auto result = applied(*file, "bias_quantized");
        QVERIFY(result.has_value());
        QCOMPARE(result->spec.format.name(), std::string("uint8"));
        QCOMPARE(result->spec.granularity, Granularity::Tensor);
        QCOMPARE(result->params.scale, std::vector<float>{0.5f});
        QCOMPARE(result->params.zeroPoint, std::vector<int32_t>{128});
        QCOMPARE(result->params.min, std::vector<float>{-64.0f});
        QCOMPARE(result->params.max, std::vector<float>{63.5f});
        QVERIFY(onItsOwnGrid(*file, "bias_quantized", *result));
    }

    void packedCheckpoints_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("format");
        QTest::addColumn<bool>("scalesTransposed"); // GPTQ / AWQ store [groups, out]
        QTest::addColumn<QString>("zerosName");
        QTest::newRow("gptq v1 (sequential g_idx)") << "gptq_v1"
                                                    << "uint4" << true << "qzeros";
        QTest::newRow("gptq v2") << "gptq_v2_inferred"
                                 << "uint4" << true << "qzeros";
        QTest::newRow("awq") << "awq"
                             << "uint4" << true << "qzeros";
        QTest::newRow("compressed-tensors asymmetric") << "ct_int4_asym"
                                                       << "int4" << false << "weight_zero_point";
        QTest::newRow("compressed-tensors symmetric") << "ct_int4_sym"
                                                      << "int4" << false << "";
    }

    void packedCheckpoints() {
        QFETCH(QString, folder);
        QFETCH(QString, format);
        QFETCH(bool, scalesTransposed);
        QFETCH(QString, zerosName);
        const auto file = openWeightFile(packedPath(folder.toStdString()));
        const auto result = applied(*file, kWeight);
        QVERIFY(result.has_value());
        // [16 out, 32 in] in groups of 8 inputs: 16 × 4 blocks along axis 1.
        QCOMPARE(result->spec.format.name(), format.toStdString());
        QCOMPARE(result->spec.granularity, Granularity::Group);
        QCOMPARE(result->spec.axis, 1);
        QCOMPARE(result->spec.groupSize, int64_t{8});
        QCOMPARE(result->params.blockCount(), std::size_t{64});
        // The scales as the file stores them, read without the packed reader.
        const SafetensorsReader raw(packedPath(folder.toStdString()));
        const Tensor scalesTensor = raw.load(kModule + (scalesTransposed ? ".scales" : ".weight_scale"));
        const auto scales = scalesTensor.values();
        for (int64_t o = 0; o < 16; ++o)
            for (int64_t g = 0; g < 4; ++g)
                QCOMPARE(result->params.scale[static_cast<std::size_t>(o * 4 + g)],
                         scales[static_cast<std::size_t>(scalesTransposed ? g * 16 + o : o * 4 + g)]);
        if (zerosName.isEmpty()) {
            QCOMPARE(result->spec.scheme, Scheme::Symmetric);
            QCOMPARE(result->params.zeroPoint, std::vector<int32_t>(64, 0));
        } else {
            QCOMPARE(result->spec.scheme, Scheme::Affine);
        }
        QVERIFY(onItsOwnGrid(*file, kWeight, *result));
    }

    void gptqSymmetricZeros() {
        // GPTQ v1 stores 7 for the symmetric 4-bit zero 8: the grid uses 8.
        const auto file = openWeightFile(packedPath("gptq_v1"));
        const auto result = applied(*file, kWeight);
        QVERIFY(result.has_value());
        QCOMPARE(result->params.zeroPoint, std::vector<int32_t>(64, 8));
        QCOMPARE(result->params.qmin, int64_t{0});
        QCOMPARE(result->params.qmax, int64_t{15});
    }

    // Without storage options, `analyze` reports a packed weight with the parameters its file
    // stores, marked "stored"; with them it recomputes.
    void analyzeCommandUsesThePackedParameters() {
        const QJsonObject stored = analyzedByCli("gptq_v1", {});
        QCOMPARE(stored.value("dtype").toString(), QStringLiteral("uint4"));
        QCOMPARE(stored.value("granularity").toString(), QStringLiteral("group"));
        QCOMPARE(stored.value("axis").toInt(), 1);
        QCOMPARE(stored.value("group_size").toInt(), 8);
        QVERIFY(stored.value("stored").toBool());
        // GPTQ stores its scales [groups, out]; the document lists them per (output, group).
        const Tensor scalesTensor = SafetensorsReader(packedPath("gptq_v1")).load(kModule + ".scales");
        const auto scales = scalesTensor.values();
        const QJsonArray listed = stored.value("scale").toArray();
        QCOMPARE(listed.size(), 64);
        for (int o = 0; o < 16; ++o)
            for (int g = 0; g < 4; ++g)
                QCOMPARE(static_cast<float>(listed.at(o * 4 + g).toDouble()),
                         scales[static_cast<std::size_t>(g * 16 + o)]);
        for (const auto& zero : stored.value("zero_point").toArray())
            QCOMPARE(zero.toInt(), 8); // GPTQ v1 writes 7 for the symmetric zero 8
        // The loaded weight lies on its stored grid: no error at all.
        const QJsonObject metrics = stored.value("metrics").toObject();
        QCOMPARE(metrics.value("mse").toDouble(), 0.0);
        QCOMPARE(metrics.value("clipped_fraction").toDouble(), 0.0);

        const QJsonObject recomputed = analyzedByCli("gptq_v1", {"--granularity", "tensor"});
        QCOMPARE(recomputed.value("granularity").toString(), QStringLiteral("tensor"));
        QCOMPARE(recomputed.value("scale").toArray().size(), 1);
        QVERIFY(!recomputed.value("stored").toBool());

        // nvfp4 codes have no integer grid: the command line's default settings (int8 per channel).
        const QJsonObject floatCodes = analyzedByCli("nvfp4", {});
        QVERIFY(!floatCodes.value("stored").toBool());
        QCOMPARE(floatCodes.value("dtype").toString(), QStringLiteral("int8"));
    }

    void refusedWithoutAnIntegerGrid_data() {
        QTest::addColumn<QString>("folder");
        QTest::newRow("gptq desc_act: g_idx reorders the inputs") << "gptq_desc_act";
        QTest::newRow("nvfp4: float codes") << "nvfp4";
        QTest::newRow("fp8: float codes") << "fp8_e4m3_channel";
    }

    void refusedWithoutAnIntegerGrid() {
        QFETCH(QString, folder);
        const auto file = openWeightFile(packedPath(folder.toStdString()));
        const auto stored = file->storedQuantization(kWeight);
        QVERIFY(stored.has_value());
        QuantSpec spec;
        spec.calib = CalibMethod::Mse;
        QParams params;
        QVERIFY(!applyStoredParameters(*stored, file->find(kWeight)->shape, spec, params));
        QCOMPARE(spec, [] {
            QuantSpec unchanged;
            unchanged.calib = CalibMethod::Mse;
            return unchanged;
        }());
        QVERIFY(params.scale.empty());
    }
};

QTEST_GUILESS_MAIN(TestQuantStored)
#include "tst_quant_stored.moc"
