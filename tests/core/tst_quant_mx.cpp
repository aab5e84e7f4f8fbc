// MX (OCP Microscaling v1.0) and NVFP4 formats: names, exact bits per value with their scales, the
// E2M1 grid, the shared scales and whole-tensor quantization on edge blocks derived by hand from
// the specifications (E8M0 scale = 2^(floor(log2 amax) - emax_elem), saturating elements; NVFP4's
// E4M3 block scale times a float32 tensor scale amax / (448 * 6)).

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/quant/FloatCodes.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/QuantFormat.h"
#include "quantscope/quant/StorageSize.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace quantscope;

namespace {

QuantSpec blockSpec(const char* format) {
    QuantSpec spec;
    spec.format = QuantFormat::parse(format);
    spec.scheme = Scheme::Symmetric;
    spec.granularity = Granularity::Group;
    spec.groupSize = spec.format.blockSize();
    return spec;
}

float e2m1(float x) {
    uint32_t code = 0;
    return roundToFp4E2M1(x, code);
}

} // namespace

class TestQuantMx : public QObject {
    Q_OBJECT

private slots:
    void namesAndBitsPerValue() {
        for (const char* name : {"mxfp4", "mxfp8_e4m3", "mxfp8_e5m2", "nvfp4"})
            QCOMPARE(QuantFormat::parse(name).name(), std::string(name));
        const QuantFormat mxfp4 = QuantFormat::parse("mxfp4");
        QCOMPARE(mxfp4.storageBits(), 4);
        QCOMPARE(mxfp4.blockSize(), 32);
        QCOMPARE(mxfp4.bitsPerValue(4096), 4.25);
        QCOMPARE(QuantFormat::parse("mxfp8_e4m3").bitsPerValue(4096), 8.25);
        QCOMPARE(QuantFormat::parse("mxfp8_e5m2").floatMax(), 57344.0f);
        const QuantFormat nvfp4 = QuantFormat::parse("nvfp4");
        QCOMPARE(nvfp4.blockSize(), 16);
        QCOMPARE(nvfp4.bitsPerValue(1024), 4.0 + 0.5 + 32.0 / 1024.0);
        QVERIFY(!QuantFormat::parse("fp8_e4m3").isBlockScaled());

        // Bytes: 64 mxfp4 values in 2 blocks = 32 bytes of values + 2 scale bytes; 32 nvfp4 values
        // in 2 blocks = 16 + 2 + 4 (the float32 tensor scale).
        QCOMPARE(quantizedStorageBytes(64, blockSpec("mxfp4"), 2), uint64_t{34});
        QCOMPARE(quantizedStorageBytes(64, blockSpec("mxfp8_e5m2"), 2), uint64_t{66});
        QCOMPARE(quantizedStorageBytes(32, blockSpec("nvfp4"), 2), uint64_t{22});

        try {
            QuantFormat::parse("mxfp6");
            QFAIL("mxfp6 was accepted");
        } catch (const Error& error) {
            QVERIFY(std::string(error.what()).find("mxfp4, mxfp8_e4m3, mxfp8_e5m2, nvfp4") !=
                    std::string::npos);
        }
    }

    void blockScaledFormatsNeedTheirBlocks() {
        QuantSpec spec = blockSpec("mxfp4");
        spec.validate();
        spec.groupSize = 128;
        try {
            spec.validate();
            QFAIL("mxfp4 with groups of 128 was accepted");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), std::string("--granularity"));
            QVERIFY(error.detail().find("--granularity group --group-size 32") != std::string::npos);
        }
    }

    void roundsToTheE2M1Grid() {
        // The E2M1 values are ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}; ties go to the even code.
        QCOMPARE(e2m1(0.25f), 0.0f); // between 0 and 0.5: even is 0
        QCOMPARE(e2m1(0.75f), 1.0f); // between 0.5 (code 1) and 1 (code 2)
        QCOMPARE(e2m1(1.25f), 1.0f); // between 1 (code 2) and 1.5 (code 3)
        QCOMPARE(e2m1(2.5f), 2.0f);  // between 2 (code 4) and 3 (code 5)
        QCOMPARE(e2m1(3.5f), 4.0f);  // between 3 (code 5) and 4 (code 6)
        QCOMPARE(e2m1(5.0f), 4.0f);  // between 4 (code 6) and 6 (code 7)
        QCOMPARE(e2m1(5.1f), 6.0f);
        QCOMPARE(e2m1(7.0f), 6.0f); // saturates
        QCOMPARE(e2m1(1e30f), 6.0f);
        QCOMPARE(e2m1(-3.2f), -3.0f);
        uint32_t code = 0;
        roundToFp4E2M1(-6.0f, code);
        QCOMPARE(code, 0xFu); // sign bit, exponent 3, mantissa 1
    }

    void mxScalesArePowersOfTwo() {
        const QuantFormat fp4 = QuantFormat::parse("mxfp4");
        const QuantFormat e4m3 = QuantFormat::parse("mxfp8_e4m3");
        const QuantFormat e5m2 = QuantFormat::parse("mxfp8_e5m2");
        QCOMPARE(mxBlockScale(4.0f, fp4), 1.0f); // amax a power of two: 2^(2 - 2)
        QCOMPARE(mxBlockScale(8.0f, fp4), 2.0f);
        QCOMPARE(mxBlockScale(7.9f, fp4), 1.0f);      // floor(log2 7.9) = 2: 7.9 then saturates to 6
        QCOMPARE(mxBlockScale(0.1f, fp4), 0.015625f); // floor(log2 0.1) = -4: 2^-6
        QCOMPARE(mxBlockScale(448.0f, e4m3), 1.0f);   // 2^(8 - 8)
        QCOMPARE(mxBlockScale(1.0f, e4m3), std::ldexp(1.0f, -8));
        QCOMPARE(mxBlockScale(1.0f, e5m2), std::ldexp(1.0f, -15));
        QCOMPARE(mxBlockScale(0.0f, fp4), std::ldexp(1.0f, -127)); // all zero: E8M0's smallest
        // Float subnormals: 2^(-133 - 2) is below E8M0's range and clamps to 2^-127.
        QCOMPARE(mxBlockScale(1e-40f, fp4), std::ldexp(1.0f, -127));
        QCOMPARE(mxBlockScale(std::numeric_limits<float>::max(), e5m2), std::ldexp(1.0f, 127 - 15));
    }

    void quantizesMxfp4Blocks() {
        // Block 0: amax 4 -> scale 1. Block 1: amax 0.1 -> scale 2^-6. Block 2: all zero.
        // Block 3: float subnormals -> scale 2^-127, every value rounds to 0.
        std::vector<float> values(128, 0.0f);
        const float block0[] = {4.0f, 3.2f, -1.3f, 0.3f, 0.25f, 0.75f, 2.5f, -3.5f};
        const float expected0[] = {4.0f, 3.0f, -1.5f, 0.5f, 0.0f, 1.0f, 2.0f, -4.0f};
        for (int i = 0; i < 8; ++i)
            values[static_cast<std::size_t>(i)] = block0[i];
        values[32] = 0.1f;   // 6.4 steps of 2^-6: saturates at 6 -> 0.09375
        values[33] = -0.05f; // 3.2 steps -> 3 -> -0.046875
        values[96] = 1e-40f;
        values[97] = -3e-39f;
        const Tensor tensor("w", {128}, values);
        AnalysisOptions options;
        options.keepDequantized = true;
        const TensorAnalysis result = analyzeTensor(tensor, blockSpec("mxfp4"), options);
        QCOMPARE(result.params.scale.size(), std::size_t{4});
        QCOMPARE(result.params.scale[0], 1.0f);
        QCOMPARE(result.params.scale[1], 0.015625f);
        QCOMPARE(result.params.scale[2], std::ldexp(1.0f, -127));
        QCOMPARE(result.params.scale[3], std::ldexp(1.0f, -127));
        for (int i = 0; i < 8; ++i)
            QCOMPARE(result.dequantized[static_cast<std::size_t>(i)], expected0[i]);
        QCOMPARE(result.dequantized[32], 0.09375f);
        QCOMPARE(result.dequantized[33], -0.046875f);
        QCOMPARE(result.dequantized[96], 0.0f);
        QCOMPARE(result.dequantized[97], 0.0f);
        QVERIFY(result.metrics.clippedFraction > 0.0); // 0.1 saturated
    }

    void refusesNothingButCountsNonFiniteValues() {
        // NaN and Inf are counted and left out of the block's amax, as for every format.
        std::vector<float> values(32, 0.0f);
        values[0] = 2.0f;
        values[1] = std::numeric_limits<float>::quiet_NaN();
        values[2] = std::numeric_limits<float>::infinity();
        const TensorAnalysis result = analyzeTensor(Tensor("w", {32}, values), blockSpec("mxfp8_e4m3"));
        QCOMPARE(result.metrics.nonfinite, int64_t{2});
        QCOMPARE(result.params.scale[0], std::ldexp(1.0f, 1 - 8)); // from amax 2
        QVERIFY(std::isfinite(result.metrics.mse));
    }

    void quantizesNvfp4Blocks() {
        // Tensor amax 10.5: tensor scale 10.5 / 2688 = 2^-8 exactly.
        // Block 0 (amax 10.5): E4M3 scale 10.5 / 6 / 2^-8 = 448 -> effective 1.75.
        // Block 1 (amax 0.3): 0.3 / 6 / 2^-8 = 12.8 -> E4M3 13 -> effective 13 * 2^-8 = 0.05078125.
        std::vector<float> values(32, 0.0f);
        values[0] = 10.5f;  // 6 steps
        values[1] = 1.0f;   // 0.571 steps -> 0.5 -> 0.875
        values[16] = 0.3f;  // 5.91 steps -> 6 -> 0.3046875
        values[17] = -0.1f; // 1.97 steps -> 2 -> -0.1015625
        QCOMPARE(nvfp4TensorScale(10.5f), std::ldexp(1.0f, -8));
        AnalysisOptions options;
        options.keepDequantized = true;
        const TensorAnalysis result = analyzeTensor(Tensor("w", {32}, values), blockSpec("nvfp4"), options);
        QCOMPARE(result.params.scale.size(), std::size_t{2});
        QCOMPARE(result.params.scale[0], 1.75f);
        QCOMPARE(result.params.scale[1], 0.05078125f);
        QCOMPARE(result.dequantized[0], 10.5f);
        QCOMPARE(result.dequantized[1], 0.875f);
        QCOMPARE(result.dequantized[16], 0.3046875f);
        QCOMPARE(result.dequantized[17], -0.1015625f);

        // A block far below the tensor's range: its E4M3 scale would round to 0 and becomes the
        // smallest subnormal 2^-9, so its scale stays positive.
        QCOMPARE(nvfp4BlockScale(1e-12f, 1.0f), std::ldexp(1.0f, -9));
    }
};

QTEST_GUILESS_MAIN(TestQuantMx)
#include "tst_quant_mx.moc"
