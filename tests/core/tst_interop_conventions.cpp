// Each toolchain's rule for a tensor's scale and zero point, on cases derived by hand from the
// toolchains' sources, and PyTorch's against the committed torch reference data.
#include "quantscope/Error.h"
#include "quantscope/interop/ToolchainRules.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>

using namespace quantscope;

namespace {

QuantSpec specOf(const char* dtype, Scheme scheme, bool reduceRange = false) {
    QuantSpec spec;
    spec.format = QuantFormat::parse(dtype);
    spec.scheme = scheme;
    spec.reduceRange = reduceRange;
    return spec;
}

const Range kCase{-1.0f, 0.5f};

} // namespace

class TestInteropConventions : public QObject {
    Q_OBJECT

private slots:
    void onnxRuntime() {
        // Symmetric int8 of [-1, 0.5]: [-127, 127], scale 2 / 254 = 1/127, zero point 0.
        ToolchainParams p = onnxRuntimeParams(kCase, specOf("int8", Scheme::Symmetric));
        QCOMPARE(p.scale, 1.0f / 127.0f);
        QCOMPARE(p.zeroPoint, 0);
        QCOMPARE(p.qmin, int64_t(-127));
        QCOMPARE(p.qmax, int64_t(127));
        // Asymmetric uint8: scale 1.5 / 255 (float64, then float32), zero point round(1 / scale) = 170.
        p = onnxRuntimeParams(kCase, specOf("uint8", Scheme::Affine));
        QCOMPARE(p.scale, static_cast<float>(1.5 / 255.0));
        QCOMPARE(p.zeroPoint, 170);
        // Symmetric uint8: zero point round(255 / 2) = 128 (ties to even); uint4: round(7.5) = 8,
        // where PyTorch's custom-range rule gives 7.
        QCOMPARE(onnxRuntimeParams(kCase, specOf("uint8", Scheme::Symmetric)).zeroPoint, 128);
        QCOMPARE(onnxRuntimeParams(kCase, specOf("uint4", Scheme::Symmetric)).zeroPoint, 8);
        QCOMPARE(pytorchParams(kCase, specOf("uint4", Scheme::Symmetric)).zeroPoint, 7);
        // reduce_range: int8 [-64, 64], uint8 [0, 127].
        p = onnxRuntimeParams(kCase, specOf("int8", Scheme::Symmetric, true));
        QCOMPARE(p.qmin, int64_t(-64));
        QCOMPARE(p.qmax, int64_t(64));
        QCOMPARE(p.scale, 1.0f / 64.0f);
        QCOMPARE(onnxRuntimeParams(kCase, specOf("uint8", Scheme::Affine, true)).qmax, int64_t(127));
        // An all-zero tensor: scale 1, zero point 0 (below float's smallest normal).
        p = onnxRuntimeParams({0.0f, 0.0f}, specOf("uint8", Scheme::Affine));
        QCOMPARE(p.scale, 1.0f);
        QCOMPARE(p.zeroPoint, 0);
    }

    void pytorch() {
        // qint8 symmetric of [-1, 0.5]: amax / ((127 - -128) / 2) = 1 / 127.5.
        const ToolchainParams p = pytorchParams(kCase, specOf("int8", Scheme::Symmetric));
        QCOMPARE(p.scale, 1.0f / 127.5f);
        QCOMPARE(p.zeroPoint, 0);
        QCOMPARE(p.qmin, int64_t(-128));
    }

    void tensorRt() {
        const ToolchainParams p = tensorRtParams(kCase);
        QCOMPARE(tensorRtCacheHex(p.scale), std::string("3c010204"));
        QCOMPARE(p.qmin, int64_t(-127));
        QCOMPARE(quantizeWith(p, -1.0f), int64_t(-127));
    }

    void aimet() {
        // TF symmetric at 8 bits: delta = 1 / 127, offset -128, i.e. zero point 0 on [-128, 127].
        ToolchainParams p = aimetTfParams(kCase, specOf("int8", Scheme::Symmetric));
        QCOMPARE(p.scale, 1.0f / 127.0f);
        QCOMPARE(p.zeroPoint, 0);
        QCOMPARE(p.qmin, int64_t(-128));
        QCOMPARE(p.note, std::string("offset -128"));
        // Asymmetric: delta = 1.5 / 255, offset = -round(1 / delta) = -170.
        p = aimetTfParams(kCase, specOf("uint8", Scheme::Affine));
        QCOMPARE(p.scale, static_cast<float>(1.5 / 255.0));
        QCOMPARE(p.zeroPoint, 170);
        QCOMPARE(p.note, std::string("offset -170"));
        // A zero tensor keeps AIMET's minimum range of 0.01.
        p = aimetTfParams({0.0f, 0.0f}, specOf("uint8", Scheme::Affine));
        QCOMPARE(p.scale, static_cast<float>(0.01 / 255.0));
    }

    void tflite() {
        // Asymmetric int8 of [-1, 0.5]: scale 1.5 / 255 in float32, zero point
        // round(-128 - (-1) / scale) = round(-128 + 170) = 42.
        ToolchainParams p = tfliteParams(kCase, specOf("int8", Scheme::Affine));
        QCOMPARE(p.scale, 1.5f / 255.0f);
        QCOMPARE(p.zeroPoint, 42);
        // Symmetric weights: amax / 127 on [-127, 127].
        p = tfliteParams(kCase, specOf("int8", Scheme::Symmetric));
        QCOMPARE(p.scale, 1.0f / 127.0f);
        QCOMPARE(p.qmin, int64_t(-127));
        // Ties: TFLite rounds 2.5 away from zero, ONNX Runtime to even.
        ToolchainParams unit = p;
        unit.scale = 1.0f;
        QCOMPARE(quantizeWith(unit, 2.5f), int64_t(3));
        QCOMPARE(quantizeWith(unit, -2.5f), int64_t(-3));
        unit.rounding = RoundingRule::DivideHalfEven;
        QCOMPARE(quantizeWith(unit, 2.5f), int64_t(2));
    }

    void llamaCpp() {
        std::vector<float> block(32);
        for (int i = 0; i < 32; ++i)
            block[i] = static_cast<float>(i) - 20.5f; // -20.5 .. 10.5, largest magnitude -20.5
        // Q8_0: d = 20.5 / 127, q = roundf(x / d); the largest magnitude maps to -127.
        ToolchainParams q8 = llamaQ8_0Params(block);
        QCOMPARE(q8.scale, 20.5f / 127.0f);
        QCOMPARE(quantizeWith(q8, -20.5f), int64_t(-127));
        // Q4_0: max = -20.5 (sign kept), d = -20.5 / -8 = 2.5625; x = -20.5 -> trunc(-8 + 8.5) = 0,
        // x = 10.5 -> trunc(4.097... + 8.5) = 12.
        ToolchainParams q4 = llamaQ4_0Params(block);
        QCOMPARE(q4.scale, 2.5625f);
        QCOMPARE(q4.zeroPoint, 8);
        QCOMPARE(quantizeWith(q4, -20.5f), int64_t(0));
        QCOMPARE(quantizeWith(q4, 10.5f), int64_t(12));
        // A positive largest magnitude makes d negative: 8.0 -> d = -1, 8 -> trunc(0.5) = 0.
        const std::vector<float> positive{8.0f, -7.0f, 1.0f};
        q4 = llamaQ4_0Params(positive);
        QCOMPARE(q4.scale, -1.0f);
        QCOMPARE(quantizeWith(q4, 8.0f), int64_t(0));
        QCOMPARE(quantizeWith(q4, -7.0f), int64_t(15));
    }

    void aimetTfEnhanced() {
        // {-1, 1}: AIMET's histogram spans [-3, 3] in 512 buckets of 6/512; -1 falls in bucket 170
        // (left edge -1.0078125), 1 in bucket 341 (left edge 0.99609375). The symmetric candidates
        // are f * 2 * 1.0078125 / 255. At f = 1 the top bucket is the largest representable one
        // (127 * delta = 1.00386 >= 0.99609375 + 3 - 3), so it costs nothing, and -1.001953125
        // (bucket 170's middle) rounds to -127 * delta, an error of 0.0019: cost 0.5 * 0.0019^2.
        // f = 0.99 saturates the top bucket (3 * 0.5 * (6/512)^2 = 2.1e-4); f = 1.01 rounds -1.0020
        // to -126 * delta, an error of 0.0040. So delta = 2 * 1.0078125 / 255, offset -128 (zero point 0).
        const std::vector<float> pair{-1.0f, 1.0f};
        const ToolchainParams symmetric = aimetTfEnhancedParams(pair, specOf("int8", Scheme::Symmetric));
        QCOMPARE(symmetric.toolchain, std::string("AIMET TF-enhanced"));
        QCOMPARE(symmetric.scale, static_cast<float>(2.0 * 1.0078125 / 255.0));
        QCOMPARE(symmetric.zeroPoint, 0);
        QCOMPARE(symmetric.qmin, int64_t(-128));
        QVERIFY(symmetric.note.rfind("offset -128", 0) == 0);

        // Uniform values on [-1, 1] (asymmetric uint8): every candidate is clamped to the observed
        // range, so no delta exceeds the observed one, and clipping the dense ends costs three times
        // their squared distance: the search keeps (nearly) the whole range.
        std::vector<float> uniform(1000);
        for (std::size_t i = 0; i < uniform.size(); ++i)
            uniform[i] = -1.0f + 2.0f * static_cast<float>(i) / 999.0f;
        const QuantSpec affine = specOf("uint8", Scheme::Affine);
        const ToolchainParams enhanced = aimetTfEnhancedParams(uniform, affine);
        QCOMPARE(enhanced.qmin, int64_t(0));
        QCOMPARE(enhanced.qmax, int64_t(255));
        // Histogram of [-3, 3] in buckets of 6/512: the observed range is [-1.0078125, 0.99609375].
        const double observedDelta = (0.99609375 + 1.0078125) / 255.0;
        QVERIFY2(enhanced.scale <= static_cast<float>(observedDelta) * 1.000001f,
                 std::to_string(enhanced.scale).c_str());
        const float low = static_cast<float>(enhanced.qmin - enhanced.zeroPoint) * enhanced.scale;
        const float high = static_cast<float>(enhanced.qmax - enhanced.zeroPoint) * enhanced.scale;
        QVERIFY2(low <= -0.95f && high >= 0.95f, (std::to_string(low) + " " + std::to_string(high)).c_str());

        // A zero tensor falls back to TF's minimum range, never a division by zero.
        const std::vector<float> zeros(10, 0.0f);
        const ToolchainParams zero = aimetTfEnhancedParams(zeros, affine);
        QVERIFY(std::isfinite(zero.scale) && zero.scale > 0.0f);
    }

    void comparisonOfAllToolchains() {
        std::vector<float> values(70);
        for (std::size_t i = 0; i < values.size(); ++i)
            values[i] = std::sin(static_cast<float>(i)) * (i == 40 ? 3.0f : 1.0f);
        const auto results = compareToolchains(values, specOf("int8", Scheme::Symmetric), 0.5f, 1);
        QCOMPARE(results.size(), std::size_t(8));
        QCOMPARE(results[4].params.toolchain, std::string("AIMET TF-enhanced"));
        QCOMPARE(results[0].params.toolchain, std::string("PyTorch"));
        for (const auto& r : results) {
            QVERIFY2(r.sqnrNote.empty() && r.sqnrDb > 10.0, r.params.toolchain.c_str());
            QVERIFY(!r.params.source.empty());
        }
        // llama.cpp shows block 1 (values 32..63, holding the 3x outlier at 40).
        QVERIFY(results[6].params.note.rfind("block 1", 0) == 0);
        QCOMPARE(results[6].params.scale, std::fabs(values[40]) / 127.0f);
        // Per-block scales fit the data better than one scale for the outlier's whole tensor.
        QVERIFY(results[6].sqnrDb > results[0].sqnrDb);
        QVERIFY_THROWS_EXCEPTION(Error,
                                 compareToolchains(values, specOf("int8", Scheme::Symmetric), 0.5f, 3));
        QVERIFY_THROWS_EXCEPTION(Error,
                                 compareToolchains(values, specOf("fp16", Scheme::Symmetric), 0.5f, 0));
        // A zero tensor: finite parameters and "zero signal", never a division by zero.
        const std::vector<float> zeros(40, 0.0f);
        for (const auto& r : compareToolchains(zeros, specOf("uint8", Scheme::Affine), 0.0f, 0)) {
            QVERIFY(std::isfinite(r.params.scale) && r.params.scale != 0.0f);
            QCOMPARE(r.sqnrNote, std::string("zero signal"));
        }
    }

    void pytorchAgainstTorchReference() {
        const QString dir = QStringLiteral(QUANTSCOPE_TEST_DATA "/torch/");
        QFile manifestFile(dir + QLatin1String("manifest.json"));
        QVERIFY(manifestFile.open(QIODevice::ReadOnly));
        const QJsonObject manifest = QJsonDocument::fromJson(manifestFile.readAll()).object();
        QFile tensorFile(dir + QLatin1String("tensors.bin"));
        QFile integerFile(dir + QLatin1String("integers.bin"));
        QVERIFY(tensorFile.open(QIODevice::ReadOnly) && integerFile.open(QIODevice::ReadOnly));
        const QByteArray tensorBytes = tensorFile.readAll();
        const QByteArray integerBytes = integerFile.readAll();
        std::map<QString, std::vector<float>> tensors;
        for (const auto& item : manifest.value(QLatin1String("tensors")).toArray()) {
            const QJsonObject t = item.toObject();
            const auto offset = static_cast<std::size_t>(t.value(QLatin1String("offset")).toInteger());
            const auto count = static_cast<std::size_t>(t.value(QLatin1String("elements")).toInteger());
            std::vector<float> values(count);
            std::memcpy(values.data(), tensorBytes.constData() + offset * 4, count * 4);
            tensors[t.value(QLatin1String("name")).toString()] = std::move(values);
        }
        int checked = 0;
        for (const auto& item : manifest.value(QLatin1String("cases")).toArray()) {
            const QJsonObject c = item.toObject();
            if (c.value(QLatin1String("observer")).toString() != QLatin1String("minmax"))
                continue;
            const QuantSpec spec =
                specOf(c.value(QLatin1String("dtype")).toString().toLatin1().constData(),
                       parseScheme(c.value(QLatin1String("scheme")).toString().toStdString()),
                       c.value(QLatin1String("reduce_range")).toBool());
            const auto& values = tensors.at(c.value(QLatin1String("tensor")).toString());
            const Range range{static_cast<float>(c.value(QLatin1String("min")).toArray()[0].toDouble()),
                              static_cast<float>(c.value(QLatin1String("max")).toArray()[0].toDouble())};
            const ToolchainParams p = pytorchParams(range, spec);
            const auto id = c.value(QLatin1String("id")).toString().toStdString();
            QVERIFY2(std::bit_cast<uint32_t>(p.scale) ==
                         static_cast<uint32_t>(c.value(QLatin1String("scale_bits")).toArray()[0].toInteger()),
                     id.c_str());
            QCOMPARE(p.zeroPoint, c.value(QLatin1String("zero_point")).toArray()[0].toInt());
            const auto offset =
                static_cast<std::size_t>(c.value(QLatin1String("integers_fake_quant")).toInteger());
            QVERIFY((offset + values.size()) * 2 <= static_cast<std::size_t>(integerBytes.size()));
            for (std::size_t i = 0; i < values.size(); ++i) {
                int16_t expected = 0;
                std::memcpy(&expected, integerBytes.constData() + (offset + i) * 2, 2);
                if (quantizeWith(p, values[i]) != expected)
                    QFAIL(
                        qPrintable(QStringLiteral("%1: element %2").arg(QString::fromStdString(id)).arg(i)));
            }
            ++checked;
        }
        QVERIFY2(checked >= 20, qPrintable(QString::number(checked)));
    }
};

QTEST_GUILESS_MAIN(TestInteropConventions)
#include "tst_interop_conventions.moc"
