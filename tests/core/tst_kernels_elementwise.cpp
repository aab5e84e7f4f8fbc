// Quantize / dequantize / fake-quantize and the fp16 / bf16 conversions on every usable path:
// integers and converted bits equal the scalar rule exactly (IntegerQuantizer for integers).
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/ElementwiseKernels.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace quantscope;
using namespace quantscope::kernels;

namespace {

// Normal values, exact half-way points (ties must go to even), huge values, NaN and infinities.
std::vector<float> nastyValues(std::mt19937& rng, size_t count, float scale) {
    std::vector<float> x(count);
    std::normal_distribution<float> normal(0.0f, 40.0f * scale);
    std::uniform_int_distribution<int> kind(0, 19), level(-300, 300);
    for (auto& v : x) {
        switch (kind(rng)) {
        case 0:
            v = (static_cast<float>(level(rng)) + 0.5f) * scale;
            break;
        case 1:
            v = std::numeric_limits<float>::quiet_NaN();
            break;
        case 2:
            v = std::numeric_limits<float>::infinity();
            break;
        case 3:
            v = -std::numeric_limits<float>::infinity();
            break;
        case 4:
            v = 3e38f;
            break;
        case 5:
            v = -0.0f;
            break;
        default:
            v = normal(rng);
        }
    }
    return x;
}

int32_t storedValue(IntegerType type, const std::vector<uint8_t>& q, size_t i) {
    switch (type) {
    case IntegerType::Int8:
        return static_cast<int8_t>(q[i]);
    case IntegerType::Uint8:
        return q[i];
    case IntegerType::Int4: {
        const int nibble = i % 2 == 0 ? (q[i / 2] & 0x0F) : (q[i / 2] >> 4);
        return nibble >= 8 ? nibble - 16 : nibble;
    }
    case IntegerType::Uint4:
        return i % 2 == 0 ? (q[i / 2] & 0x0F) : (q[i / 2] >> 4);
    }
    return 0;
}

uint32_t bitsOf(float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
}

} // namespace

class TestKernelsElementwise : public QObject {
    Q_OBJECT

private slots:
    void quantizeMatchesIntegerQuantizer_data() { kerneltest::addPathRows(); }
    void quantizeMatchesIntegerQuantizer() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("quantizeMatchesIntegerQuantizer"));
        std::uniform_real_distribution<float> scaleDist(1e-3f, 0.5f);
        for (IntegerType type :
             {IntegerType::Int8, IntegerType::Uint8, IntegerType::Int4, IntegerType::Uint4}) {
            const int32_t lo = integerTypeMin(type), hi = integerTypeMax(type);
            std::uniform_int_distribution<int32_t> zpDist(lo, hi);
            // count, run length: per tensor (odd counts exercise the SIMD tails), per channel
            // (runs of 7 or 33 cycling over channels) and per group of 32 along the last axis.
            for (auto [count, runLength, paramCount] : {std::tuple<size_t, size_t, size_t>{1, 1, 1},
                                                        {15, 15, 1},
                                                        {17, 17, 1},
                                                        {1001, 1001, 1},
                                                        {4 * 3 * 7, 7, 3},
                                                        {5 * 33, 33, 5},
                                                        {6 * 128, 32, 24}}) {
                std::vector<float> scales(paramCount);
                std::vector<int32_t> zps(paramCount);
                for (size_t i = 0; i < paramCount; ++i) {
                    scales[i] = scaleDist(rng);
                    zps[i] = i == 0 ? (type == IntegerType::Uint8 ? 128 : 0) : zpDist(rng);
                }
                const std::vector<float> x = nastyValues(rng, count, scales[0]);
                const ParamRuns runs{runLength, paramCount, scales.data(), zps.data()};
                std::vector<uint8_t> q(quantizedBytes(type, count), 0xAA);
                quantize(table, x.data(), count, runs, type, q.data());
                std::vector<float> dq(count), fq(count);
                dequantize(table, q.data(), count, runs, type, dq.data());
                fakeQuantize(table, x.data(), count, runs, type, fq.data());
                for (size_t i = 0; i < count; ++i) {
                    const size_t param = (i / runLength) % paramCount;
                    const IntegerQuantizer rule(scales[param], zps[param], lo, hi);
                    const int32_t expected = rule.quantize(x[i]);
                    if (storedValue(type, q, i) != expected)
                        QFAIL(qPrintable(QStringLiteral("type %1 element %2 (x = %3): got %4, expected %5")
                                             .arg(static_cast<int>(type))
                                             .arg(i)
                                             .arg(x[i], 0, 'g', 9)
                                             .arg(storedValue(type, q, i))
                                             .arg(expected)));
                    QCOMPARE(bitsOf(dq[i]), bitsOf(rule.dequantize(expected)));
                    QCOMPARE(bitsOf(fq[i]), bitsOf(rule.dequantize(expected)));
                }
            }
        }
    }

    void badParametersAreRefused() {
        const KernelTable& table = KernelRegistry::scalarTable();
        std::vector<float> x(8, 1.0f);
        std::vector<uint8_t> q(8);
        float scale = 0.0f;
        int32_t zp = 0;
        QVERIFY_THROWS_EXCEPTION(
            Error, quantize(table, x.data(), 8, ParamRuns{8, 1, &scale, &zp}, IntegerType::Int8, q.data()));
        scale = 1e-45f; // reciprocal overflows
        QVERIFY_THROWS_EXCEPTION(
            Error, quantize(table, x.data(), 8, ParamRuns{8, 1, &scale, &zp}, IntegerType::Int8, q.data()));
        scale = 1.0f;
        zp = 300;
        QVERIFY_THROWS_EXCEPTION(
            Error, quantize(table, x.data(), 8, ParamRuns{8, 1, &scale, &zp}, IntegerType::Uint8, q.data()));
        zp = 0;
        QVERIFY_THROWS_EXCEPTION(
            Error, quantize(table, x.data(), 8, ParamRuns{3, 1, &scale, &zp}, IntegerType::Int8, q.data()));
    }

    // Every float16 bit pattern converts to the same float; random and edge float32 values round
    // to the same float16 bits as the reference (round to nearest even, F16C's NaN rule).
    void fp16Conversion_data() { kerneltest::addPathRows(); }
    void fp16Conversion() {
        KERNEL_PATH_OR_SKIP(table);
        std::vector<uint16_t> all(65536);
        for (size_t i = 0; i < all.size(); ++i)
            all[i] = static_cast<uint16_t>(i);
        std::vector<float> wide(all.size());
        table.f16ToF32(all.data(), all.size(), wide.data());
        for (size_t i = 0; i < all.size(); ++i)
            QCOMPARE(bitsOf(wide[i]), bitsOf(reference::f16ToF32(all[i])));

        std::mt19937 rng(kerneltest::seed("fp16Conversion"));
        std::vector<float> x = {0.0f,
                                -0.0f,
                                65504.0f,
                                65519.99f,
                                65520.0f,
                                1e-8f,
                                2.98e-8f,
                                2.9802322e-8f,
                                5.96e-8f,
                                6.1035156e-05f,
                                6.1e-05f,
                                std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::denorm_min()};
        std::uniform_int_distribution<uint32_t> bits;
        for (int i = 0; i < 200000; ++i) {
            // Mostly values near the fp16 range, plus arbitrary bit patterns.
            uint32_t b = bits(rng);
            if (i % 4 != 0)
                b = (b & 0x807FFFFFu) | ((100u + b % 50u) << 23);
            float v;
            std::memcpy(&v, &b, 4);
            x.push_back(v);
        }
        std::vector<uint16_t> h(x.size());
        table.f32ToF16(x.data(), x.size(), h.data());
        for (size_t i = 0; i < x.size(); ++i)
            if (h[i] != reference::f32ToF16(x[i]))
                QFAIL(qPrintable(QStringLiteral("f32 bits %1 -> fp16 %2, expected %3")
                                     .arg(bitsOf(x[i]), 8, 16, QLatin1Char('0'))
                                     .arg(h[i], 4, 16)
                                     .arg(reference::f32ToF16(x[i]), 4, 16)));
        // A few values checked by hand: ties to even and overflow.
        QCOMPARE(reference::f32ToF16(1.0f), uint16_t{0x3C00});
        QCOMPARE(reference::f32ToF16(1.0f + 1.0f / 2048.0f), uint16_t{0x3C00}); // half-way, even stays
        QCOMPARE(reference::f32ToF16(1.0f + 3.0f / 2048.0f), uint16_t{0x3C02}); // half-way, rounds up to even
        QCOMPARE(reference::f32ToF16(65520.0f), uint16_t{0x7C00});
        QCOMPARE(reference::f32ToF16(5.9604645e-08f), uint16_t{0x0001});
    }

    void bf16Conversion_data() { kerneltest::addPathRows(); }
    void bf16Conversion() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("bf16Conversion"));
        std::vector<float> x = {0.0f,
                                -0.0f,
                                1.0f,
                                3.4028235e38f,
                                std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::denorm_min(),
                                1e-39f};
        std::uniform_int_distribution<uint32_t> bits;
        for (int i = 0; i < 200000; ++i) {
            const uint32_t b =
                i % 3 == 0 ? (bits(rng) & 0xFFFF0000u) | 0x8000u : bits(rng); // many exact ties
            float v;
            std::memcpy(&v, &b, 4);
            x.push_back(v);
        }
        std::vector<uint16_t> h(x.size());
        table.f32ToBf16(x.data(), x.size(), h.data());
        std::vector<float> back(x.size());
        table.bf16ToF32(h.data(), h.size(), back.data());
        for (size_t i = 0; i < x.size(); ++i) {
            QCOMPARE(h[i], reference::f32ToBf16(x[i]));
            QCOMPARE(bitsOf(back[i]), static_cast<uint32_t>(h[i]) << 16);
        }
        QCOMPARE(reference::f32ToBf16(1.0f + 1.0f / 256.0f), uint16_t{0x3F80}); // tie, even stays
        QCOMPARE(reference::f32ToBf16(1.0f + 3.0f / 256.0f), uint16_t{0x3F82}); // tie, up to even
        QCOMPARE(reference::f32ToBf16(3.4028235e38f), uint16_t{0x7F80});        // rounds to infinity
    }
};

QTEST_GUILESS_MAIN(TestKernelsElementwise)
#include "tst_kernels_elementwise.moc"
