// The mapping and tensor lessons show the core's numbers: each step of x_q = clamp(round(x/S + Z))
// equals what analyzeTensor / IntegerQuantizer / computeBlockParams compute, and the sweeps equal
// analyzeTensor run directly.
#include "ui/UiTestUtils.h"

#include "learn/LearnMappingPage.h"
#include "learn/LearnMappingSteps.h"
#include "learn/LearnTensorStudy.h"
#include "quantscope/analysis/FineHistogram.h"
#include "quantscope/analysis/TensorResultBuilder.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/StorageSize.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QTest>
#include <QTextDocument>

#include <cmath>
#include <random>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

QuantSpec integerSpec(int bits, bool isSigned, Scheme scheme, bool narrow = false) {
    QuantSpec spec;
    spec.format = QuantFormat::integer(bits, isSigned);
    spec.scheme = scheme;
    spec.narrowRange = narrow;
    return spec;
}

} // namespace

class TestLearnMapping : public QObject {
    Q_OBJECT
private slots:
    void stepsEqualTheCoreForEveryElement_data() {
        QTest::addColumn<int>("bits");
        QTest::addColumn<bool>("isSigned");
        QTest::addColumn<int>("scheme");
        QTest::addColumn<bool>("narrow");
        QTest::newRow("int8 affine") << 8 << true << int(Scheme::Affine) << false;
        QTest::newRow("int8 symmetric") << 8 << true << int(Scheme::Symmetric) << false;
        QTest::newRow("int8 symmetric narrow") << 8 << true << int(Scheme::Symmetric) << true;
        QTest::newRow("uint8 symmetric") << 8 << false << int(Scheme::Symmetric) << false;
        QTest::newRow("uint4 affine") << 4 << false << int(Scheme::Affine) << false;
        QTest::newRow("int3 affine") << 3 << true << int(Scheme::Affine) << false;
        QTest::newRow("int16 symmetric") << 16 << true << int(Scheme::Symmetric) << false;
    }

    void stepsEqualTheCoreForEveryElement() {
        QFETCH(int, bits);
        QFETCH(bool, isSigned);
        QFETCH(int, scheme);
        QFETCH(bool, narrow);
        const uint32_t seed = 20261126u + static_cast<uint32_t>(bits);
        qInfo() << "seed" << seed;
        std::vector<float> values = test::gaussianWithOutliers(4000, 0.05f, seed);
        values[17] = 0.0f;
        const Tensor tensor("w", {40, 100}, values);
        QuantSpec spec = integerSpec(bits, isSigned, static_cast<Scheme>(scheme), narrow);
        spec.calib = CalibMethod::Percentile; // some values clip
        spec.percentile = 99.9;
        AnalysisOptions options;
        options.keepIntegers = true;
        options.keepDequantized = true;
        const TensorAnalysis analysis = analyzeTensor(tensor, spec, options);
        const Range range{analysis.params.min.front(), analysis.params.max.front()};
        int clipped = 0;
        for (std::size_t i = 0; i < values.size(); ++i) {
            const LearnMappingSteps s = LearnMappingSteps::compute(values[i], range, spec);
            QCOMPARE(s.scale, analysis.params.scale.front());
            QCOMPARE(s.zeroPoint, analysis.params.zeroPoint.front());
            QCOMPARE(s.quantized, analysis.integers[i]);
            QCOMPARE(s.dequantized, analysis.dequantized[i]);
            QCOMPARE(s.qmin, analysis.params.qmin);
            QCOMPARE(s.qmax, analysis.params.qmax);
            clipped += s.clipped ? 1 : 0;
        }
        // The clipped flag counts what the core counts as clipped.
        QCOMPARE(static_cast<int64_t>(clipped), analysis.metrics.clippedCount);
        QVERIFY(clipped > 0);
    }

    void eachStepIsTheFormula() {
        const QuantSpec spec = integerSpec(8, true, Scheme::Affine);
        const Range range{-0.3f, 1.7f};
        float scale = 0.0f;
        int32_t zp = 0;
        computeBlockParams(range, spec, scale, zp);
        const float x = 0.4321f;
        const LearnMappingSteps s = LearnMappingSteps::compute(x, range, spec);
        QCOMPARE(s.inverseScale, 1.0f / scale);
        QCOMPARE(s.divided, x * (1.0f / scale));
        QCOMPARE(s.shifted, static_cast<double>(s.divided) + zp);
        QCOMPARE(s.rounded, std::nearbyint(s.divided) + static_cast<float>(zp));
        const IntegerQuantizer q(scale, zp, -128, 127);
        QCOMPARE(s.quantized, q.quantize(x));
        QCOMPARE(s.dequantized, q.dequantize(s.quantized));
        QCOMPARE(s.error, static_cast<double>(x) - static_cast<double>(s.dequantized));
        QVERIFY(std::abs(s.error) <= scale / 2.0 + 1e-9);
        QCOMPARE(s.minNeg, -0.3f);
        QCOMPARE(s.maxPos, 1.7f);
        QCOMPARE(s.gridLow, static_cast<double>(q.dequantize(-128)));
        QCOMPARE(s.gridHigh, static_cast<double>(q.dequantize(127)));
    }

    void roundsHalfToEven() {
        // S = 1 exactly (range ±127.5 over 255 steps), so x/S lands exactly on halves.
        const QuantSpec spec = integerSpec(8, true, Scheme::Symmetric);
        const Range range{-127.5f, 127.5f};
        QCOMPARE(LearnMappingSteps::compute(2.5f, range, spec).scale, 1.0f);
        QCOMPARE(LearnMappingSteps::compute(2.5f, range, spec).quantized, 2);
        QCOMPARE(LearnMappingSteps::compute(3.5f, range, spec).quantized, 4);
        QCOMPARE(LearnMappingSteps::compute(-2.5f, range, spec).quantized, -2);
        const LearnMappingSteps far = LearnMappingSteps::compute(500.0f, range, spec);
        QVERIFY(far.clipped);
        QCOMPARE(far.quantized, 127);
    }

    void symmetricWastesHalfTheLevelsOnNonNegativeValues() {
        const Range relu{0.0f, 6.0f};
        const LearnMappingSteps symmetric =
            LearnMappingSteps::compute(1.0f, relu, integerSpec(8, true, Scheme::Symmetric));
        const LearnMappingSteps affine =
            LearnMappingSteps::compute(1.0f, relu, integerSpec(8, true, Scheme::Affine));
        // Symmetric int8: S = 6/127.5, Z = 0, levels -128..-1 are below 0: 128 unused.
        QCOMPARE(symmetric.zeroPoint, 0);
        QCOMPARE(symmetric.wastedLevels, int64_t{128});
        QCOMPARE(affine.zeroPoint, -128);
        QCOMPARE(affine.wastedLevels, int64_t{0});
        QVERIFY(symmetric.scale > 1.99f * affine.scale);
    }

    void floatFormatsAreRefused() {
        QuantSpec spec;
        spec.format = QuantFormat::parse("fp8_e4m3");
        QVERIFY_THROWS_EXCEPTION(Error, LearnMappingSteps::compute(1.0f, {-1.0f, 1.0f}, spec));
    }

    void studyEqualsAnalyzeTensor() {
        const uint32_t seed = 77u;
        qInfo() << "seed" << seed;
        const Tensor tensor("w", {64, 96}, test::gaussianWithOutliers(64 * 96, 0.1f, seed));
        TensorSettings settings;
        settings.spec = integerSpec(8, true, Scheme::Affine);
        const LearnTensorStudy study = LearnTensorStudy::compute(tensor, settings, {});
        QCOMPARE(static_cast<int>(study.bitSweep.size()), 15);
        QCOMPARE(study.bitSweep.front().bits, 16);
        QCOMPARE(study.bitSweep.back().bits, 2);
        for (const auto& point : study.bitSweep) {
            QuantSpec spec = settings.spec;
            spec.format = QuantFormat::integer(point.bits, true);
            const ErrorMetrics direct = analyzeTensor(tensor, spec).metrics;
            QCOMPARE(point.metrics.sqnrDb, direct.sqnrDb);
            QCOMPARE(point.metrics.levelsUsed, direct.levelsUsed);
            QCOMPARE(point.metrics.clippedFraction, direct.clippedFraction);
        }
        // Each bit is worth about 6 dB in the middle of the sweep.
        const double perBit =
            (study.bitSweep[16 - 8].metrics.sqnrDb - study.bitSweep[16 - 6].metrics.sqnrDb) / 2.0;
        QVERIFY2(perBit > 5.0 && perBit < 7.0, qPrintable(QString::number(perBit)));

        // Granularity points: 3 widths x (tensor, channel, groups of 64 and 32; 128 >= the 96
        // inputs is per channel again and left out), bits per value with the scale overhead.
        QCOMPARE(static_cast<int>(study.granularity.size()), 12);
        for (const auto& point : study.granularity) {
            QuantSpec spec = settings.spec;
            spec.format = QuantFormat::integer(point.bits, true);
            spec.granularity = point.granularity;
            spec.axis = point.axis;
            if (point.groupSize > 0)
                spec.groupSize = point.groupSize;
            const TensorAnalysis direct = analyzeTensor(tensor, spec);
            QCOMPARE(point.metrics.mse, direct.metrics.mse);
            QCOMPARE(point.blocks, static_cast<int64_t>(direct.params.blockCount()));
            QCOMPARE(point.bitsPerValue,
                     8.0 * static_cast<double>(quantizedStorageBytes(tensor.size(), spec, point.blocks)) /
                         static_cast<double>(tensor.size()));
            QVERIFY(point.bitsPerValue > point.bits);
        }
        // Per channel: 64 blocks; groups of 32 along the 96 inputs: 64 x 3 blocks.
        QCOMPARE(study.granularity[1].label(), std::string("channel"));
        QCOMPARE(study.granularity[1].blocks, int64_t{64});
        QCOMPARE(study.granularity[2].label(), std::string("group 64"));
        QCOMPARE(study.granularity[3].label(), std::string("group 32"));
        QCOMPARE(study.granularity[3].blocks, int64_t{64 * 3});

        // Calibration: every method's range is the core's calibrateBlocks, and MSE splits into clip + round.
        QCOMPARE(static_cast<int>(study.calibration.size()), 5);
        for (const auto& point : study.calibration) {
            QuantSpec spec = settings.spec;
            spec.calib = point.method;
            const Range range = calibrateBlocks(tensor, spec).front();
            QCOMPARE(point.range.min, range.min);
            QCOMPARE(point.range.max, range.max);
            QVERIFY(std::abs(point.metrics.clipMse + point.metrics.roundMse - point.metrics.mse) <=
                    1e-12 + 1e-9 * point.metrics.mse);
        }
        QCOMPARE(study.calibration.front().method, CalibMethod::MinMax);
        QCOMPARE(study.calibration.front().metrics.clipMse, 0.0);
        QCOMPARE(study.affineRange.min, calibrateBlocks(tensor, settings.spec).front().min);

        // The sweep keeps a per-channel setting.
        TensorSettings perChannel = settings;
        perChannel.spec.granularity = Granularity::Channel;
        const LearnTensorStudy channelStudy = LearnTensorStudy::compute(tensor, perChannel, {});
        QuantSpec four = perChannel.spec;
        four.format = QuantFormat::integer(4, true);
        QCOMPARE(channelStudy.bitSweep[16 - 4].bits, 4);
        QCOMPARE(channelStudy.bitSweep[16 - 4].metrics.mse, analyzeTensor(tensor, four).metrics.mse);
    }

    void pageShowsTheCoreNumbers() {
        const Tensor tensor("layer.weight", {32, 50}, test::gaussianWithOutliers(1600, 0.2f, 5u));
        TensorSettings settings;
        settings.spec = integerSpec(4, true, Scheme::Affine);
        auto study =
            std::make_shared<const LearnTensorStudy>(LearnTensorStudy::compute(tensor, settings, {}));
        auto histogram = std::make_shared<const FineHistogram>(FineHistogram::build(tensor.values()));
        LearnMappingPage page;
        page.resize(1200, 800);
        page.show();
        page.setStudy(study, histogram);
        page.setValue(0.123456);
        QVERIFY(page.symmetricSteps() && page.affineSteps());
        const TensorAnalysis affine = analyzeTensor(tensor, settings.spec);
        QCOMPARE(page.affineSteps()->scale, affine.params.scale.front());
        QCOMPARE(page.affineSteps()->zeroPoint, affine.params.zeroPoint.front());
        const IntegerQuantizer q(affine.params.scale.front(), affine.params.zeroPoint.front(), -8, 7);
        QCOMPARE(page.affineSteps()->quantized, q.quantize(0.123456f));
        QuantSpec symmetricSpec = settings.spec;
        symmetricSpec.scheme = Scheme::Symmetric;
        const TensorAnalysis symmetric = analyzeTensor(tensor, symmetricSpec);
        QCOMPARE(page.symmetricSteps()->scale, symmetric.params.scale.front());
        QCOMPARE(page.symmetricSteps()->zeroPoint, 0);
        // The text shows the integer and the scale (as read: numbers sit in no-wrap spans).
        QTextDocument document;
        document.setHtml(page.stepsText());
        const QString shown = document.toPlainText();
        QVERIFY2(shown.contains(QStringLiteral("x_q = %1").arg(page.affineSteps()->quantized)),
                 qPrintable(shown));
        QVERIFY(shown.contains(QString::number(static_cast<double>(affine.params.scale.front()), 'g', 7)));
    }
};

QTEST_MAIN(TestLearnMapping)
#include "tst_learnmapping.moc"
