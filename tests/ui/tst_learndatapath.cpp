// The integer datapath lesson: its step-by-step integer arithmetic for one output of a quantized
// demo layer equals, bit for bit, what the SIMD kernels compute for the same integers, on every
// layer, for several samples and outputs, with symmetric and affine weights.
#include "learn/LearnDatapath.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QTest>

#include <cmath>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

LearnDatapath::Request demoRequest(int layer, int sample, int output, bool affine) {
    const std::string dir = QUANTSCOPE_SOURCE_DIR "/resources/demo/";
    LearnDatapath::Request r;
    r.modelPath = dir + "digits_mlp.onnx";
    r.samplesPath = dir + "digits_test.npy";
    r.calibrationPath = dir + "digits_calib.npy";
    r.layer = layer;
    r.sample = sample;
    r.output = output;
    r.affineWeights = affine;
    return r;
}

} // namespace

class TestLearnDatapath : public QObject {
    Q_OBJECT
private slots:
    void stepsEqualTheKernel_data() {
        QTest::addColumn<int>("layer");
        QTest::addColumn<int>("sample");
        QTest::addColumn<int>("output");
        QTest::addColumn<bool>("affine");
        QTest::newRow("fc1 s0 o0 symmetric") << 0 << 0 << 0 << false;
        QTest::newRow("fc1 s7 o200 affine") << 0 << 7 << 200 << true;
        QTest::newRow("fc2 s0 o0 symmetric") << 1 << 0 << 0 << false;
        QTest::newRow("fc2 s123 o77 affine") << 1 << 123 << 77 << true;
        QTest::newRow("fc3 s5 o3 symmetric") << 2 << 5 << 3 << false;
        QTest::newRow("fc3 s538 o9 affine") << 2 << 538 << 9 << true;
    }

    void stepsEqualTheKernel() {
        QFETCH(int, layer);
        QFETCH(int, sample);
        QFETCH(int, output);
        QFETCH(bool, affine);
        const LearnDatapath d = LearnDatapath::compute(demoRequest(layer, sample, output, affine));
        qInfo() << QString::fromStdString(d.layerName) << "path" << QString::fromStdString(d.kernelPath)
                << "acc" << d.accumulator << "q3" << d.output << "fp32" << d.fp32Output << "dq"
                << d.dequantizedOutput;
        QCOMPARE(static_cast<int>(d.layerNames.size()), 3);
        QCOMPARE(d.kernelPath, std::string(kernels::isaName(kernels::KernelRegistry::active().path)));
        // Bit for bit: the accumulator, this output, and every output of the layer.
        QCOMPARE(static_cast<int64_t>(d.kernelAccumulator), d.accumulator);
        QCOMPARE(d.kernelOutput, d.output);
        QCOMPARE(d.stepOutputs.size(), static_cast<std::size_t>(d.n));
        QVERIFY(d.stepOutputs == d.kernelOutputs);
        QVERIFY(d.matchesKernel());

        // The accumulator is Σ (q1 − Z1)(q2 − Z2), the plain reference of the kernels.
        int32_t reference = 0;
        kernels::reference::gemmInt32(d.inputs.data(), 1, d.k, d.z1, d.weights.data(), 1, d.z2, &reference);
        QCOMPARE(static_cast<int64_t>(reference), d.accumulator);
        QCOMPARE(d.sumProducts - static_cast<int64_t>(d.z2) * d.sumInputs -
                     static_cast<int64_t>(d.z1) * d.sumWeights + static_cast<int64_t>(d.k) * d.z1 * d.z2,
                 d.accumulator);
        // Symmetric weights have Z2 = 0; affine ones (per tensor) here do not.
        if (!affine)
            QCOMPARE(d.z2, 0);
        // The multiplier: M0·2^exponent is M to within int32 precision, M0 in [0.5, 1).
        QVERIFY(d.m0 >= (1 << 30));
        const double m = std::ldexp(static_cast<double>(d.m0), d.exponent - 31);
        QVERIFY(std::abs(m - d.realMultiplier) <= 1e-8 * d.realMultiplier);
        QCOMPARE(d.realMultiplier, static_cast<double>(d.s1) * d.s2 / d.s3);
        // The steps follow gemmlowp's functions.
        if (d.exponent <= 0) {
            QCOMPARE(d.highMul, kernels::FixedPointMultiplier::saturatingRoundingDoublingHighMul(
                                    d.accumulatorWithBias, d.m0));
            QCOMPARE(d.scaled,
                     kernels::FixedPointMultiplier::roundingDivideByPowerOfTwo(d.highMul, -d.exponent));
        }
        QCOMPARE(d.withZeroPoint, d.scaled + d.z3);
        QCOMPARE(static_cast<int>(d.output), std::clamp(d.withZeroPoint, 0, 255));
        // Inputs: uint8 with Z1 = 0 (pixels and ReLU outputs are never negative).
        QCOMPARE(d.z1, 0);
        // And it approximates the fp32 model: within a few output steps unless saturated.
        if (!d.saturated)
            QVERIFY2(std::abs(static_cast<double>(d.dequantizedOutput) - d.fp32Output) <
                         4.0 * d.s3 + 0.02 * std::abs(d.fp32Output),
                     qPrintable(QStringLiteral("%1 vs %2").arg(d.dequantizedOutput).arg(d.fp32Output)));
    }

    void badChoicesAreErrors() {
        QVERIFY_THROWS_EXCEPTION(Error, LearnDatapath::compute(demoRequest(3, 0, 0, false)));
        QVERIFY_THROWS_EXCEPTION(Error, LearnDatapath::compute(demoRequest(0, 0, 256, false)));
        QVERIFY_THROWS_EXCEPTION(Error, LearnDatapath::compute(demoRequest(0, 100000, 0, false)));
        LearnDatapath::Request missing = demoRequest(0, 0, 0, false);
        missing.modelPath = "/nonexistent/model.onnx";
        QVERIFY_THROWS_EXCEPTION(Error, LearnDatapath::compute(missing));
    }
};

QTEST_GUILESS_MAIN(TestLearnDatapath)
#include "tst_learndatapath.moc"
