// The requantizing output stage on every usable path, bit for bit against an independent 64-bit
// reference of gemmlowp's arithmetic: the table's requantizeU8 / requantizeS8 on chosen and random
// int32 values (INT32_MIN / MAX, rounding ties, shifts 0 and -31, multipliers >= 1), and the same
// through the int8 GEMM (bias values near the int32 limits reach every input), with fused clamps.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/Reference.h"

#include <QtTest>

#include <algorithm>
#include <climits>
#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

using namespace quantscope::kernels;

namespace {

int64_t floorDivide(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// x * m0 * 2^shift / 2^31 as gemmlowp and TFLite define it, written with floor divisions:
// shift <= 0: round half up of x * m0 / 2^31, then divide by 2^-shift rounding half away from zero;
// shift > 0: x * m0 / 2^(31 - shift) rounded half away from zero, saturated to int32.
int64_t fixedPointReference(int32_t x, int32_t m0, int shift) {
    const int64_t product = int64_t{x} * m0;
    if (shift > 0) {
        const int64_t divisor = int64_t{1} << (31 - shift);
        const int64_t magnitude = floorDivide(std::abs(product) * 2 + divisor, 2 * divisor);
        return std::clamp<int64_t>(product < 0 ? -magnitude : magnitude, INT32_MIN, INT32_MAX);
    }
    const int64_t high = floorDivide(product + (int64_t{1} << 30), int64_t{1} << 31);
    const int64_t divisor = int64_t{1} << -shift;
    const int64_t magnitude = floorDivide(std::abs(high) * 2 + divisor, 2 * divisor);
    return high < 0 ? -magnitude : magnitude;
}

int32_t expectedOutput(int32_t value, int32_t bias, int32_t m0, int shift, int32_t zeroPoint, int32_t lo,
                       int32_t hi) {
    const auto x = static_cast<int32_t>(static_cast<uint32_t>(value) + static_cast<uint32_t>(bias));
    return static_cast<int32_t>(std::clamp<int64_t>(fixedPointReference(x, m0, shift) + zeroPoint, lo, hi));
}

// Accumulators that stress the arithmetic: the int32 limits, zero, +-1, and values whose product
// with m0 lands exactly on a rounding tie for the multiplier under test.
std::vector<int32_t> edgeValues(int32_t m0, int shift, std::mt19937& rng) {
    std::vector<int32_t> v = {INT32_MIN, INT32_MIN + 1, INT32_MAX,  INT32_MAX - 1, 0,     1, -1, 2, -2, 3,
                              -3,        1 << 30,       -(1 << 30), 65535,         -65536};
    // Ties of the final shift: with m0 = 2^30 the high multiply halves x exactly, so
    // x = (2k + 1) * 2^(e) gives a remainder of exactly half at exponent e = -shift.
    if (shift <= 0 && m0 == (1 << 30))
        for (int k = -3; k <= 3; ++k) {
            const int64_t tie = (2 * int64_t{k} + 1) << (-shift);
            if (tie >= INT32_MIN && tie <= INT32_MAX)
                v.push_back(static_cast<int32_t>(tie));
        }
    std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX), small(-100000, 100000);
    for (int i = 0; i < 64; ++i)
        v.push_back(i % 2 ? any(rng) : small(rng));
    return v;
}

struct Multiplier {
    int32_t m0;
    int shift;
};

// m0 at its limits and random; shifts 0, -31 (the smallest), ordinary ones and M >= 1 (up to 2^16).
std::vector<Multiplier> testMultipliers(std::mt19937& rng) {
    std::vector<Multiplier> list;
    for (int shift : {0, -1, -7, -13, -30, -31, 1, 2, 8, 16})
        for (int32_t m0 : {int32_t{1} << 30, INT32_MAX, int32_t{1518500250}})
            list.push_back({m0, shift});
    list.push_back({0, 0}); // the zero multiplier
    std::uniform_int_distribution<int32_t> m0Dist(1 << 30, INT32_MAX);
    std::uniform_int_distribution<int> shiftDist(-31, 16);
    for (int i = 0; i < 40; ++i)
        list.push_back({m0Dist(rng), shiftDist(rng)});
    for (const double real : {1.0, 0.5, 3.0, 0.003921568859368563, 1e-9, 65535.0}) {
        const FixedPointMultiplier m(real);
        list.push_back({m.multiplier(), m.shift()});
    }
    return list;
}

template <class T>
bool checkValues(const KernelTable& table, const std::vector<int32_t>& values, const RequantizeSpec& spec,
                 const char* what) {
    std::vector<T> got(values.size(), T{42});
    if constexpr (std::is_same_v<T, uint8_t>)
        table.requantizeU8(values.data(), values.size(), spec, got.data());
    else
        table.requantizeS8(values.data(), values.size(), spec, got.data());
    for (size_t i = 0; i < values.size(); ++i) {
        const size_t c = spec.perChannel ? i : 0;
        const int32_t expected = expectedOutput(values[i], spec.bias ? spec.bias[c] : 0, spec.multipliers[c],
                                                spec.shifts[c], spec.zeroPoint, spec.clampMin, spec.clampMax);
        if (static_cast<int32_t>(got[i]) != expected) {
            qWarning("%s: value %d (bias %d, m0 %d, shift %d, zp %d, clamp [%d, %d]) gave %d, expected %d",
                     what, values[i], spec.bias ? spec.bias[c] : 0, spec.multipliers[c], spec.shifts[c],
                     spec.zeroPoint, spec.clampMin, spec.clampMax, static_cast<int>(got[i]), expected);
            return false;
        }
    }
    return true;
}

} // namespace

class TestKernelsRequantize : public QObject {
    Q_OBJECT

private slots:
    // The reference itself against values worked out by hand.
    void referenceByHand() {
        QCOMPARE(fixedPointReference(3, 1 << 30, 0), 2);    // 1.5 rounds half up
        QCOMPARE(fixedPointReference(-3, 1 << 30, 0), -1);  // -1.5 rounds half up too
        QCOMPARE(fixedPointReference(6, 1 << 30, -1), 2);   // 3 / 2 = 1.5, away from zero
        QCOMPARE(fixedPointReference(-6, 1 << 30, -1), -2); // -1.5 away from zero
        QCOMPARE(fixedPointReference(INT32_MAX, 1 << 30, 2), int64_t{INT32_MAX}); // x * 2 saturates
        QCOMPARE(fixedPointReference(INT32_MIN, 1 << 30, 1), int64_t{INT32_MIN});
        QCOMPARE(fixedPointReference(5, 1 << 30, 2), 10);
        // and the kernels' scalar routine against it on the same inputs
        QCOMPARE(FixedPointMultiplier::apply(-3, 1 << 30, 0), -1);
        QCOMPARE(FixedPointMultiplier::apply(-6, 1 << 30, -1), -2);
    }

    void valuesMatchReference_data() { kerneltest::addPathRows(); }
    void valuesMatchReference() {
        KERNEL_PATH_OR_SKIP(table);
        QVERIFY(table.requantizeU8 && table.requantizeS8);
        std::mt19937 rng(kerneltest::seed("valuesMatchReference"));
        for (const Multiplier& m : testMultipliers(rng)) {
            const std::vector<int32_t> values = edgeValues(m.m0, m.shift, rng);
            for (int32_t bias : {0, 1000, INT32_MAX}) {
                RequantizeSpec spec;
                spec.bias = &bias;
                spec.multipliers = &m.m0;
                spec.shifts = &m.shift;
                spec.zeroPoint = 3;
                spec.clampMin = 0;
                spec.clampMax = 255;
                QVERIFY(checkValues<uint8_t>(table, values, spec, "u8 per tensor"));
                spec.zeroPoint = 7;
                spec.clampMin = -128;
                spec.clampMax = 127;
                QVERIFY(checkValues<int8_t>(table, values, spec, "s8 per tensor"));
                spec.clampMin = 7; // a fused Relu
                spec.clampMax = 100;
                QVERIFY(checkValues<int8_t>(table, values, spec, "s8 per tensor, clamped"));
            }
        }
    }

    // Per element parameters, every length 1..40 (the vector bodies and all tail lengths).
    void perChannelMatchesReference_data() { kerneltest::addPathRows(); }
    void perChannelMatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("perChannelMatchesReference"));
        const std::vector<Multiplier> multipliers = testMultipliers(rng);
        std::uniform_int_distribution<size_t> pick(0, multipliers.size() - 1);
        std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX), small(-5000000, 5000000);
        for (int count = 1; count <= 40; ++count)
            for (bool withBias : {false, true}) {
                std::vector<int32_t> values(static_cast<size_t>(count)), bias(values.size()),
                    m0(values.size()), shifts(values.size());
                for (size_t i = 0; i < values.size(); ++i) {
                    values[i] = i % 3 ? small(rng) : any(rng);
                    bias[i] = small(rng);
                    const Multiplier& m = multipliers[pick(rng)];
                    m0[i] = m.m0;
                    shifts[i] = m.shift;
                }
                RequantizeSpec spec;
                spec.bias = withBias ? bias.data() : nullptr;
                spec.multipliers = m0.data();
                spec.shifts = shifts.data();
                spec.perChannel = true;
                spec.zeroPoint = 128;
                spec.clampMin = 0;
                spec.clampMax = 255;
                QVERIFY(checkValues<uint8_t>(table, values, spec, "u8 per channel"));
                spec.zeroPoint = -1;
                spec.clampMin = -128;
                spec.clampMax = 127;
                QVERIFY(checkValues<int8_t>(table, values, spec, "s8 per channel"));
            }
    }

    // Through the GEMM: random data, multipliers from tiny to >= 1, bias near the int32 limits (so
    // the multiplier sees every kind of input), zero points, per-tensor and per-channel, clamps.
    void gemmEpilogueMatchesReference_data() { kerneltest::addPathRows(); }
    void gemmEpilogueMatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("gemmEpilogueMatchesReference"));
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
        std::uniform_real_distribution<double> logReal(-30.0, 15.0);
        std::uniform_int_distribution<int32_t> anyBias(INT32_MIN, INT32_MAX), smallBias(-30000, 30000);
        struct Shape {
            int m, n, k;
        };
        for (Shape s :
             {Shape{1, 7, 5}, Shape{1, 100, 33}, Shape{7, 49, 64}, Shape{13, 17, 3}, Shape{20, 97, 130}})
            for (bool perChannel : {false, true})
                for (bool signedOutput : {false, true})
                    for (int clampCase = 0; clampCase < 3; ++clampCase) {
                        std::vector<uint8_t> a(static_cast<size_t>(s.m) * s.k);
                        std::vector<int8_t> w(static_cast<size_t>(s.n) * s.k);
                        for (auto& v : a)
                            v = static_cast<uint8_t>(u8(rng));
                        for (auto& v : w)
                            v = static_cast<int8_t>(s8(rng));
                        const int32_t za = u8(rng), zb = s8(rng);
                        std::vector<FixedPointMultiplier> multipliers;
                        for (int i = 0; i < (perChannel ? s.n : 1); ++i)
                            multipliers.emplace_back(std::exp2(logReal(rng)));
                        std::vector<int32_t> bias(static_cast<size_t>(s.n));
                        for (size_t i = 0; i < bias.size(); ++i)
                            bias[i] = i % 4 == 0 ? anyBias(rng) : smallBias(rng);
                        const int32_t outZp = signedOutput ? -3 : 77;
                        const int32_t typeLo = signedOutput ? -128 : 0, typeHi = signedOutput ? 127 : 255;
                        // no clamp; a fused Relu; a Clip-like window
                        const int32_t clampMin = clampCase == 0 ? INT32_MIN : outZp;
                        const int32_t clampMax = clampCase == 2 ? outZp + 40 : INT32_MAX;
                        const int32_t lo = std::max(typeLo, clampMin), hi = std::min(typeHi, clampMax);

                        const PackedInt8Weights packed(table, w.data(), s.n, s.k, zb);
                        std::vector<int32_t> acc(static_cast<size_t>(s.m) * s.n);
                        reference::gemmInt32(a.data(), s.m, s.k, za, w.data(), s.n, zb, acc.data());
                        const QuantizedActivations qa{a.data(), s.m, s.k, za, 1.0f};
                        std::vector<int32_t> got(acc.size());
                        if (signedOutput) {
                            std::vector<int8_t> out(acc.size());
                            int8GemmRequantizeS8(table, qa, packed, multipliers.data(), perChannel,
                                                 bias.data(), outZp, out.data(), nullptr, clampMin, clampMax);
                            std::copy(out.begin(), out.end(), got.begin());
                        } else {
                            std::vector<uint8_t> out(acc.size());
                            int8GemmRequantizeU8(table, qa, packed, multipliers.data(), perChannel,
                                                 bias.data(), outZp, out.data(), nullptr, clampMin, clampMax);
                            std::copy(out.begin(), out.end(), got.begin());
                        }
                        for (size_t i = 0; i < got.size(); ++i) {
                            const size_t col = i % static_cast<size_t>(s.n);
                            const FixedPointMultiplier& m = multipliers[perChannel ? col : 0];
                            const int32_t expected =
                                expectedOutput(acc[i], bias[col], m.multiplier(), m.shift(), outZp, lo, hi);
                            if (got[i] != expected)
                                QFAIL(qPrintable(QStringLiteral("M=%1 N=%2 K=%3 C[%4] = %5, expected %6")
                                                     .arg(s.m)
                                                     .arg(s.n)
                                                     .arg(s.k)
                                                     .arg(i)
                                                     .arg(got[i])
                                                     .arg(expected)));
                        }
                    }
    }

    void emptyClampIsRefused() {
        const KernelTable& scalar = KernelRegistry::scalarTable();
        std::vector<int8_t> w(16, 1);
        const PackedInt8Weights packed(scalar, w.data(), 4, 4, 0);
        std::vector<uint8_t> a(4, 1), c(4);
        const FixedPointMultiplier m(0.5);
        const QuantizedActivations qa{a.data(), 1, 4, 0, 1.0f};
        QVERIFY_THROWS_EXCEPTION(
            quantscope::Error,
            int8GemmRequantizeU8(scalar, qa, packed, &m, false, nullptr, 0, c.data(), nullptr, 10, 5));
        QVERIFY_THROWS_EXCEPTION(quantscope::Error,
                                 int8GemmRequantizeU8(scalar, qa, packed, &m, false, nullptr, 0, c.data(),
                                                      nullptr, 300, INT32_MAX));
        // A clamp reaching past the type is cut to it, not refused.
        int8GemmRequantizeU8(scalar, qa, packed, &m, false, nullptr, 0, c.data(), nullptr, -5, 1000);
        QCOMPARE(static_cast<int>(c[0]), 2); // 4 * 0.5
    }
};

QTEST_GUILESS_MAIN(TestKernelsRequantize)
#include "tst_kernels_requantize.moc"
