// Properties every quantization result must have, checked on random tensors of several
// distributions and on degenerate ones.
#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/quant/BlockLayout.h"
#include "quantscope/quant/FloatCodes.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

using namespace quantscope;

namespace {

constexpr unsigned kSeed = 20261126;

std::vector<float> randomValues(const QString& distribution, std::size_t count, std::mt19937& rng) {
    std::vector<float> values(count);
    std::normal_distribution<float> normal(0.1f, 1.3f);
    std::uniform_real_distribution<float> uniform(-0.7f, 2.3f);
    std::exponential_distribution<float> exponential(2.0f);
    for (auto& v : values) {
        if (distribution == QLatin1String("normal"))
            v = normal(rng);
        else if (distribution == QLatin1String("uniform"))
            v = uniform(rng);
        else if (distribution == QLatin1String("relu"))
            v = std::max(0.0f, normal(rng));
        else
            v = (rng() % 100 == 0 ? 40.0f : 1.0f) * (exponential(rng) - 0.5f); // heavy tail, outliers
    }
    return values;
}

QuantSpec integerSpec(int bits, bool isSigned, Scheme scheme) {
    QuantSpec spec;
    spec.format = QuantFormat::integer(bits, isSigned);
    spec.scheme = scheme;
    return spec;
}

std::vector<QuantSpec> integerSpecs() {
    std::vector<QuantSpec> specs;
    for (int bits : {2, 3, 4, 8, 12, 16})
        for (bool isSigned : {true, false})
            for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric})
                for (bool reduce : {false, true}) {
                    QuantSpec spec = integerSpec(bits, isSigned, scheme);
                    spec.reduceRange = reduce && bits > 2;
                    specs.push_back(spec);
                }
    QuantSpec narrow = integerSpec(8, true, Scheme::Symmetric);
    narrow.narrowRange = true;
    specs.push_back(narrow);
    return specs;
}

QString describe(const QuantSpec& spec) {
    return QString::fromStdString(spec.format.name() + " " + std::string(schemeName(spec.scheme)) +
                                  (spec.reduceRange ? " reduce" : "") + (spec.narrowRange ? " narrow" : ""));
}

// torch keeps zero point 128 for symmetric quint8 even with reduce_range ([0, 127]): zero is then
// not representable. We reproduce that on purpose, so the property does not hold there.
bool isTorchReducedUint8Symmetric(const QuantSpec& spec) {
    return spec.format.bits == 8 && !spec.format.isSigned && spec.scheme == Scheme::Symmetric &&
           spec.reduceRange;
}

} // namespace

class TestQuantProperties : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { qInfo("random seed %u", kSeed); }

    void properties_data() {
        QTest::addColumn<QString>("distribution");
        for (const char* name : {"normal", "uniform", "relu", "heavy"})
            QTest::newRow(name) << QString::fromLatin1(name);
    }

    void properties() {
        QFETCH(QString, distribution);
        std::mt19937 rng(kSeed);
        const Tensor tensor("t", {64, 50}, randomValues(distribution, 64 * 50, rng));
        for (const QuantSpec& spec : integerSpecs()) {
            AnalysisOptions options;
            options.keepIntegers = true;
            options.keepDequantized = true;
            const TensorAnalysis result = analyzeTensor(tensor, spec, options);
            const float scale = result.params.scale[0];
            const int32_t zp = result.params.zeroPoint[0];
            const int64_t qmin = spec.qmin(), qmax = spec.qmax();
            const IntegerQuantizer quantizer(scale, zp, static_cast<int32_t>(qmin),
                                             static_cast<int32_t>(qmax));

            if (!isTorchReducedUint8Symmetric(spec)) {
                QVERIFY2(quantizer.dequantize(quantizer.quantize(0.0f)) == 0.0f, qPrintable(describe(spec)));
            }
            const float lo = quantizer.dequantize(static_cast<int32_t>(qmin));
            const float hi = quantizer.dequantize(static_cast<int32_t>(qmax));
            const auto values = tensor.values();
            for (std::size_t i = 0; i < values.size(); ++i) {
                const int32_t q = result.integers[i];
                QVERIFY2(q >= qmin && q <= qmax, qPrintable(describe(spec)));
                QCOMPARE(result.dequantized[i], quantizer.dequantize(q));
                if (values[i] >= lo && values[i] <= hi) {
                    // Half a step, plus the rounding of x * (1/scale) in float32.
                    const float bound = scale / 2 * (1 + 1e-5f) + std::fabs(values[i]) * 1e-6f;
                    QVERIFY2(std::fabs(values[i] - result.dequantized[i]) <= bound,
                             qPrintable(describe(spec) + QStringLiteral(" value %1").arg(values[i])));
                }
            }
            // Min-max calibration clips at most the half step lost to the zero point's rounding.
            if (!isTorchReducedUint8Symmetric(spec) &&
                !(spec.scheme == Scheme::Symmetric && !spec.format.isSigned))
                QVERIFY2(result.metrics.maxAbsError <= scale * (1 + 1e-5), qPrintable(describe(spec)));

            // Fake quantization is idempotent: quantizing x̂ with the same parameters gives x̂.
            AnalysisOptions again;
            again.keepDequantized = true;
            again.fixedParams = result.params;
            const Tensor dequantized("t", tensor.shape(), result.dequantized);
            const TensorAnalysis second = analyzeTensor(dequantized, spec, again);
            QVERIFY2(second.dequantized == result.dequantized, qPrintable(describe(spec)));
            QCOMPARE(second.metrics.mse, 0.0);
            QCOMPARE(QString::fromStdString(second.metrics.sqnrNote), QStringLiteral("exact"));
            // MSE splits into clipping and rounding parts.
            QCOMPARE(result.metrics.clipMse + result.metrics.roundMse, result.metrics.mse);
        }
    }

    void perChannelEqualsPerTensorOnEachSlice() {
        std::mt19937 rng(kSeed + 1);
        const std::vector<int64_t> shape{6, 7, 5};
        const Tensor tensor("w", shape, randomValues(QStringLiteral("normal"), 6 * 7 * 5, rng));
        for (int axis = 0; axis < 3; ++axis) {
            for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
                QuantSpec spec = integerSpec(8, true, scheme);
                spec.granularity = Granularity::Channel;
                spec.axis = axis;
                AnalysisOptions options;
                options.keepIntegers = true;
                const TensorAnalysis perChannel = analyzeTensor(tensor, spec, options);
                const BlockLayout layout(shape, spec);
                QCOMPARE(static_cast<int64_t>(perChannel.params.blockCount()),
                         shape[static_cast<std::size_t>(axis)]);
                for (int64_t channel = 0; channel < layout.blockCount(); ++channel) {
                    std::vector<float> slice;
                    std::vector<int32_t> expected;
                    for (int64_t i = 0; i < tensor.size(); ++i)
                        if (layout.blockOf(i) == channel) {
                            slice.push_back(tensor.values()[static_cast<std::size_t>(i)]);
                            expected.push_back(perChannel.integers[static_cast<std::size_t>(i)]);
                        }
                    QuantSpec tensorSpec = spec;
                    tensorSpec.granularity = Granularity::Tensor;
                    const auto count = static_cast<int64_t>(slice.size());
                    const TensorAnalysis single = analyzeTensor(Tensor("s", {count}, slice), tensorSpec,
                                                                AnalysisOptions{true, false, false, {}, {}});
                    QCOMPARE(single.params.scale[0],
                             perChannel.params.scale[static_cast<std::size_t>(channel)]);
                    QCOMPARE(single.params.zeroPoint[0],
                             perChannel.params.zeroPoint[static_cast<std::size_t>(channel)]);
                    QCOMPARE(single.integers, expected);
                }
            }
        }
    }

    void groupsAlongAnAxisWithAPartialLastGroup() {
        // 2 x 10 tensor, groups of 4 along axis 1: groups [0..3], [4..7], [8..9] per row.
        std::vector<float> values(20);
        for (int i = 0; i < 20; ++i)
            values[static_cast<std::size_t>(i)] = static_cast<float>(i * i) / 10.0f - 3.0f;
        const Tensor tensor("g", {2, 10}, values);
        QuantSpec spec = integerSpec(4, true, Scheme::Affine);
        spec.granularity = Granularity::Group;
        spec.axis = 1;
        spec.groupSize = 4;
        const TensorAnalysis result = analyzeTensor(tensor, spec);
        QCOMPARE(result.params.blockCount(), std::size_t{6});
        QCOMPARE(BlockLayout(tensor.shape(), spec).gridShape(), (std::vector<int64_t>{2, 3}));
        // Row 1, last group holds elements 18 and 19.
        QCOMPARE(result.params.min[5], values[18]);
        QCOMPARE(result.params.max[5], values[19]);
        QCOMPARE(result.params.min[3], values[10]);
        QCOMPARE(result.params.max[3], values[13]);
        // Along axis 0 with groups of 1, each group is one element (inner dimension 10).
        spec.axis = 0;
        spec.groupSize = 1;
        const TensorAnalysis columnGroups = analyzeTensor(tensor, spec);
        QCOMPARE(columnGroups.params.blockCount(), std::size_t{20});
        QCOMPARE(columnGroups.params.max[13], values[13]);
    }

    void sqnrRisesAboutSixDbPerBit() {
        std::mt19937 rng(kSeed + 2);
        std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
        std::vector<float> values(1 << 16);
        for (auto& v : values)
            v = uniform(rng);
        const Tensor tensor("u", {static_cast<int64_t>(values.size())}, values);
        double previous = 0.0;
        for (int bits = 4; bits <= 12; ++bits) {
            const TensorAnalysis result = analyzeTensor(tensor, integerSpec(bits, true, Scheme::Affine));
            const double sqnr = result.metrics.sqnrDb;
            // Uniform data over the whole range: signal power 1/3, noise step^2 / 12 with
            // step = 2 / (2^b - 1), so SQNR = 20 log10(2^b - 1), about 6.02 dB per bit.
            const double expected = 20.0 * std::log10(std::ldexp(1.0, bits) - 1.0);
            QVERIFY2(
                std::fabs(sqnr - expected) < 0.2,
                qPrintable(QStringLiteral("%1 bits: %2 dB, expected %3").arg(bits).arg(sqnr).arg(expected)));
            if (bits > 5)
                QVERIFY2(std::fabs(sqnr - previous - 6.02) < 0.2,
                         qPrintable(QStringLiteral("%1 bits").arg(bits)));
            previous = sqnr;
        }
    }

    void degenerateTensorsGiveFiniteResults_data() {
        QTest::addColumn<std::vector<float>>("values");
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const float inf = std::numeric_limits<float>::infinity();
        QTest::newRow("all zero") << std::vector<float>(16, 0.0f);
        QTest::newRow("constant") << std::vector<float>(16, 2.5f);
        QTest::newRow("negative constant") << std::vector<float>(16, -0.75f);
        QTest::newRow("one element") << std::vector<float>{3.0f};
        QTest::newRow("only NaN") << std::vector<float>(4, nan);
        QTest::newRow("NaN and Inf present") << std::vector<float>{1.0f, nan, -2.0f, inf, -inf, 0.5f};
        QTest::newRow("tiny") << std::vector<float>{1e-30f, -1e-30f, 0.0f};
    }

    void degenerateTensorsGiveFiniteResults() {
        QFETCH(std::vector<float>, values);
        const auto count = static_cast<int64_t>(values.size());
        int64_t nonfinite = 0;
        for (float v : values)
            nonfinite += std::isfinite(v) ? 0 : 1;
        for (const QuantSpec& spec : integerSpecs()) {
            AnalysisOptions options;
            options.keepDequantized = true;
            const TensorAnalysis result = analyzeTensor(Tensor("d", {count}, values), spec, options);
            QVERIFY(std::isfinite(result.params.scale[0]) && result.params.scale[0] >= kScaleEpsilon);
            QVERIFY(result.params.zeroPoint[0] >= spec.qmin() || isTorchReducedUint8Symmetric(spec));
            const ErrorMetrics& m = result.metrics;
            QCOMPARE(m.nonfinite, nonfinite);
            QCOMPARE(m.count, count - nonfinite);
            for (double metric : {m.mse, m.rmse, m.meanAbsError, m.maxAbsError, m.cosine, m.clippedFraction,
                                  m.clipMse, m.roundMse})
                QVERIFY2(std::isfinite(metric), qPrintable(describe(spec)));
            QVERIFY(std::isfinite(m.sqnrDb) != !m.sqnrNote.empty());
            for (float xhat : result.dequantized)
                QVERIFY(std::isfinite(xhat));
        }
        // The range of the finite values only.
        const TensorAnalysis minmax =
            analyzeTensor(Tensor("d", {count}, values), integerSpec(8, true, Scheme::Affine));
        if (count == 6) {
            QCOMPARE(minmax.params.min[0], -2.0f);
            QCOMPARE(minmax.params.max[0], 1.0f);
        }
    }

    void zeroSignalAndExactAreNamed() {
        const TensorAnalysis zeros =
            analyzeTensor(Tensor("z", {8}, std::vector<float>(8, 0.0f)), QuantSpec{});
        QCOMPARE(QString::fromStdString(zeros.metrics.sqnrNote), QStringLiteral("zero signal"));
        QVERIFY(std::isnan(zeros.metrics.sqnrDb));
        // Values on the grid of a given scale quantize exactly.
        AnalysisOptions options;
        options.fixedParams = QParams{{0.0f}, {0.0f}, {0.25f}, {0}, -128, 127};
        const TensorAnalysis exact = analyzeTensor(Tensor("e", {4}, {-1.0f, 0.0f, 0.5f, 1.0f}),
                                                   integerSpec(8, true, Scheme::Affine), options);
        QCOMPARE(exact.metrics.levelsUsed, int64_t{4});
        QCOMPARE(exact.metrics.mse, 0.0);
        QCOMPARE(QString::fromStdString(exact.metrics.sqnrNote), QStringLiteral("exact"));
    }

    void pytorchRuleOnHandComputedCases() {
        // affine uint8 on [-1, 3]: scale = 4/255, zp = 0 - round(-1 / scale) = round(63.75) = 64.
        float scale = 0;
        int32_t zp = 0;
        computeBlockParams({-1.0f, 3.0f}, integerSpec(8, false, Scheme::Affine), scale, zp);
        QCOMPARE(scale, 4.0f / 255.0f);
        QCOMPARE(zp, 64);
        // Symmetric int8: scale = 3 / 127.5.
        computeBlockParams({-1.0f, 3.0f}, integerSpec(8, true, Scheme::Symmetric), scale, zp);
        QCOMPARE(scale, 3.0f / 127.5f);
        QCOMPARE(zp, 0);
        // Symmetric uint8: zero point 128; uint4: (0 + 15) / 2 = 7.
        computeBlockParams({-1.0f, 3.0f}, integerSpec(8, false, Scheme::Symmetric), scale, zp);
        QCOMPARE(zp, 128);
        computeBlockParams({-1.0f, 3.0f}, integerSpec(4, false, Scheme::Symmetric), scale, zp);
        QCOMPARE(zp, 7);
        QCOMPARE(scale, 3.0f / 7.5f);
        // Ranges: the range always includes zero.
        computeBlockParams({2.0f, 6.0f}, integerSpec(8, false, Scheme::Affine), scale, zp);
        QCOMPARE(scale, 6.0f / 255.0f);
        QCOMPARE(zp, 0);
        // Narrow and reduced ranges.
        QuantSpec narrow = integerSpec(8, true, Scheme::Symmetric);
        narrow.narrowRange = true;
        QCOMPARE(narrow.qmin(), int64_t{-127});
        QCOMPARE(narrow.qmax(), int64_t{127});
        QuantSpec reduced = integerSpec(8, false, Scheme::Affine);
        reduced.reduceRange = true;
        QCOMPARE(reduced.qmax(), int64_t{127});
        QCOMPARE(integerSpec(16, true, Scheme::Affine).qmin(), int64_t{-32768});
        // Half to even, zero point added after rounding: 2.5 -> 2, 3.5 -> 4, -2.5 -> -2.
        const IntegerQuantizer q(1.0f, 0, -128, 127);
        QCOMPARE(q.quantize(2.5f), 2);
        QCOMPARE(q.quantize(3.5f), 4);
        QCOMPARE(q.quantize(-2.5f), -2);
        const IntegerQuantizer shifted(1.0f, 3, 0, 255);
        QCOMPARE(shifted.quantize(0.5f), 3); // round(0.5) = 0, then + 3 (rounding after adding would give 4)
        QCOMPARE(shifted.quantize(1000.0f), 255);
        QCOMPARE(shifted.quantize(std::numeric_limits<float>::quiet_NaN()), 3);
    }

    void floatFormats() {
        uint32_t code = 0;
        QCOMPARE(roundToFp16(1.0f + 1.0f / 2048, code), 1.0f); // tie to even
        QCOMPARE(roundToFp16(1.0f + 3.0f / 2048, code), 1.0f + 2.0f / 1024);
        QCOMPARE(roundToFp16(1e6f, code), 65504.0f); // saturates
        QCOMPARE(code, 0x7BFFu);
        QCOMPARE(roundToFp16(-2.0f, code), -2.0f);
        QCOMPARE(code, 0xC000u);
        QCOMPARE(roundToFp16(std::ldexp(1.0f, -24), code), std::ldexp(1.0f, -24)); // smallest subnormal
        QCOMPARE(code, 1u);
        QCOMPARE(roundToBf16(1.0f + 1.0f / 256, code), 1.0f);
        QCOMPARE(roundToBf16(3.14159265f, code), 3.140625f);
        QCOMPARE(roundToFp8E4M3(500.0f, code), 448.0f);
        QCOMPARE(code, 0x7Eu);
        QCOMPARE(roundToFp8E4M3(0.3f, code), 0.3125f);
        QCOMPARE(roundToFp8E4M3(std::ldexp(1.0f, -9), code), std::ldexp(1.0f, -9)); // smallest subnormal
        QCOMPARE(roundToFp8E5M2(60000.0f, code), 57344.0f);
        QCOMPARE(roundToFp8E5M2(5.0f, code), 5.0f);
        QCOMPARE(roundToFp8E5M2(5.5f, code), 6.0f); // 5, 6 are neighbours; the tie goes to even (6)
        QCOMPARE(nf4CodeBook()[nearestNf4(0.0f)], 0.0f);
        QCOMPARE(nf4CodeBook()[nearestNf4(0.99f)], 1.0f);
        QCOMPARE(nf4CodeBook()[nearestNf4(-0.6f)], -0.5250730514526367f);

        // fp8 scales the absolute maximum onto 448: the maximum is reproduced exactly.
        QuantSpec fp8;
        fp8.format = QuantFormat::parse("fp8_e4m3");
        fp8.scheme = Scheme::Symmetric;
        AnalysisOptions options;
        options.keepDequantized = true;
        const TensorAnalysis result =
            analyzeTensor(Tensor("f", {4}, {-3.5f, 0.0f, 0.1f, 7.0f}), fp8, options);
        QCOMPARE(result.params.scale[0], 7.0f / 448.0f);
        QCOMPARE(result.dequantized[3], 7.0f);
        QCOMPARE(result.dequantized[0], -3.5f);
        QCOMPARE(result.metrics.clippedCount, int64_t{0});
        // nf4 per group of 2: absmax per group.
        QuantSpec nf4;
        nf4.format = QuantFormat::parse("nf4");
        nf4.scheme = Scheme::Symmetric;
        nf4.granularity = Granularity::Group;
        nf4.groupSize = 2;
        const TensorAnalysis grouped =
            analyzeTensor(Tensor("n", {4}, {-2.0f, 1.0f, 0.5f, 0.25f}), nf4, options);
        QCOMPARE(grouped.params.scale, (std::vector<float>{2.0f, 0.5f}));
        QCOMPARE(grouped.dequantized[0], -2.0f);
        QCOMPARE(grouped.dequantized[2], 0.5f);
        QCOMPARE(grouped.metrics.levelsUsed, int64_t{3});
    }

    void invalidSettingsNameTheOption_data() {
        QTest::addColumn<QString>("option");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bits 1") << QStringLiteral("int1") << QStringLiteral("--dtype: bit width 1");
        QTest::newRow("bits 17") << QStringLiteral("int17") << QStringLiteral("allowed: 2..16");
        QTest::newRow("unknown") << QStringLiteral("float7") << QStringLiteral("allowed: int2..int16");
    }

    void invalidSettingsNameTheOption() {
        QFETCH(QString, option);
        QFETCH(QString, expected);
        try {
            QuantFormat::parse(option.toStdString());
            QFAIL("no error");
        } catch (const Error& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(expected), error.what());
        }
    }

    void invalidSpecsAreRefused() {
        auto expectError = [](const QuantSpec& spec, const std::vector<int64_t>& shape, const char* text) {
            try {
                spec.validateFor(shape);
            } catch (const Error& error) {
                return QString::fromUtf8(error.what()).contains(QLatin1String(text));
            }
            return false;
        };
        QuantSpec spec;
        spec.granularity = Granularity::Group;
        spec.groupSize = 0;
        QVERIFY(expectError(spec, {4}, "--group-size: group size 0 is out of range (allowed: 1 or more)"));
        spec = QuantSpec{};
        spec.granularity = Granularity::Channel;
        spec.axis = 2;
        QVERIFY(expectError(spec, {4, 5},
                            "--axis: axis 2 is past the rank of a tensor of shape [4, 5] (allowed: 0..1)"));
        spec = QuantSpec{};
        spec.percentile = 0.0;
        QVERIFY(expectError(spec, {4}, "--percentile: percentile 0 is out of range"));
        spec.percentile = 101.0;
        QVERIFY(expectError(spec, {4}, "percentile 101 is out of range (allowed: above 0, at most 100)"));
        spec = QuantSpec{};
        spec.format.bits = 1;
        QVERIFY(expectError(spec, {4}, "allowed: 2..16"));
    }
};

QTEST_GUILESS_MAIN(TestQuantProperties)
#include "tst_quant_properties.moc"
