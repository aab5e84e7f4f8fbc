// int8 GEMM on every usable path against the plain triple-loop reference: int32 results and
// requantized outputs exactly, float outputs within a written tolerance.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/kernels/ThreadPool.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

// Sizes from the issue: 1..10, tile edges and powers of two +- 1.
const std::vector<int> kSizes = {1,  2,  3,  4,  5,  6,  7,  8,  9,   10,  15,
                                 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129};

struct Case {
    int m, n, k;
    int32_t za, zb;
};

struct Data {
    std::vector<uint8_t> a;
    std::vector<int8_t> w;
};

Data randomData(std::mt19937& rng, const Case& c) {
    Data d;
    d.a.resize(static_cast<size_t>(c.m) * c.k);
    d.w.resize(static_cast<size_t>(c.n) * c.k);
    std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
    for (auto& v : d.a)
        v = static_cast<uint8_t>(u8(rng));
    for (auto& v : d.w)
        v = static_cast<int8_t>(s8(rng));
    return d;
}

// Compares int32 output of `table` with the reference; returns false (after a QCOMPARE failure) on mismatch.
bool checkInt32(const KernelTable& table, const Case& c, const Data& d, ThreadPool* pool = nullptr) {
    const PackedInt8Weights packed(table, d.w.data(), c.n, c.k, c.zb);
    std::vector<int32_t> expected(static_cast<size_t>(c.m) * c.n), got(expected.size(), -1);
    reference::gemmInt32(d.a.data(), c.m, c.k, c.za, d.w.data(), c.n, c.zb, expected.data());
    int8GemmInt32(table, QuantizedActivations{d.a.data(), c.m, c.k, c.za, 1.0f}, packed, got.data(), pool);
    for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != expected[i]) {
            qWarning("M=%d N=%d K=%d za=%d zb=%d: C[%zu][%zu] = %d, expected %d", c.m, c.n, c.k, c.za, c.zb,
                     i / c.n, i % c.n, got[i], expected[i]);
            return false;
        }
    return true;
}

int32_t randomZeroPoint(std::mt19937& rng, int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// gemmlowp's requantization (fixedpoint.h: SaturatingRoundingDoublingHighMul, then
// RoundingDivideByPOT), written out again in 64-bit integers with floor divisions instead of the
// kernel's nudged truncations: x * m0 / 2^31 rounded half up, then / 2^-shift rounded half away
// from zero. Only multipliers below 1 (shift <= 0) occur in this test.
int64_t floorDivide(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

int64_t requantizeLikeGemmlowp(int64_t x, int32_t m0, int shift) {
    const int64_t high = floorDivide(x * m0 + (int64_t{1} << 30), int64_t{1} << 31);
    const int exponent = -shift;
    if (exponent == 0)
        return high;
    const int64_t half = int64_t{1} << (exponent - 1);
    const int64_t magnitude = ((high < 0 ? -high : high) + half) >> exponent;
    return high < 0 ? -magnitude : magnitude;
}

} // namespace

class TestKernelsInt8Gemm : public QObject {
    Q_OBJECT

private slots:
    void int32MatchesReference_data() { kerneltest::addPathRows(); }
    void int32MatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("int32MatchesReference"));
        // The activation zero point cycles through 0, 128 and a random value; the weight one
        // through 0 and a random value. Cross products: all M x N at odd K = 31, all K (odd ones
        // included) at a few (M, N), and all N x K at M = 3.
        int index = 0;
        auto zeroPoints = [&](Case& c) {
            c.za = index % 3 == 0 ? 0 : index % 3 == 1 ? 128 : randomZeroPoint(rng, 0, 255);
            c.zb = index % 2 == 0 ? 0 : randomZeroPoint(rng, -128, 127);
            ++index;
        };
        std::vector<Case> cases;
        for (int m : kSizes)
            for (int n : kSizes)
                cases.push_back({m, n, 31, 0, 0});
        for (int k : kSizes)
            for (auto [m, n] : {std::pair{1, 1}, {8, 48}, {9, 49}, {17, 129}, {129, 33}})
                cases.push_back({m, n, k, 0, 0});
        for (int n : kSizes)
            for (int k : kSizes)
                cases.push_back({3, n, k, 0, 0});
        // Several L2-sized blocks of weight panels (the AVX2 path sweeps the row tiles per block of
        // 256 KB of panels), each swept by several row tiles, the last one partial.
        cases.push_back({13, 80, 4100, 0, 0});
        for (Case& c : cases) {
            zeroPoints(c);
            const Data d = randomData(rng, c);
            QVERIFY2(checkInt32(table, c, d), "int32 result differs from the reference");
        }
    }

    // All 255 x all -128 (and x 127): the largest products; a vpmaddubsw pair sum would saturate
    // at -65280. K up to the largest allowed K, where the corrected sum nearly fills int32.
    void saturatingInputs_data() { kerneltest::addPathRows(); }
    void saturatingInputs() {
        KERNEL_PATH_OR_SKIP(table);
        for (int k : {1, 2, 3, 4, 17, 64, 129, 4096, PackedInt8Weights::kMaxK})
            for (int8_t weight : {int8_t{-128}, int8_t{127}})
                for (auto [za, zb] : {std::pair{0, 0}, {255, 0}, {0, 127}, {255, -128}}) {
                    const Case c{3, 17, k, za, zb};
                    Data d;
                    d.a.assign(static_cast<size_t>(c.m) * k, 255);
                    d.w.assign(static_cast<size_t>(c.n) * k, weight);
                    QVERIFY2(checkInt32(table, c, d), "saturating inputs differ from the reference");
                }
        // The sum itself: 255 * -128 * K with no zero points.
        const int k = 1000;
        std::vector<uint8_t> a(static_cast<size_t>(k), 255);
        std::vector<int8_t> w(static_cast<size_t>(2) * k, -128);
        const PackedInt8Weights packed(table, w.data(), 2, k, 0);
        int32_t c[2] = {0, 0};
        int8GemmInt32(table, QuantizedActivations{a.data(), 1, k, 0, 1.0f}, packed, c);
        QCOMPARE(c[0], -255 * 128 * k);
        QCOMPARE(c[1], -255 * 128 * k);
    }

    void twoThreadsMatchOne_data() { kerneltest::addPathRows(); }
    void twoThreadsMatchOne() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("twoThreadsMatchOne"));
        ThreadPool pool(2);
        for (Case c : {Case{1, 129, 65, 3, -5}, Case{17, 200, 33, 128, 0}, Case{65, 97, 129, 0, 9}}) {
            const Data d = randomData(rng, c);
            QVERIFY(checkInt32(table, c, d, &pool));
        }
    }

    // Float output: c = float(acc) * (sa * sw[n]) + bias[n]. Tolerance: 2^-20 relative to
    // |float(acc) * scale| + |bias| (the paths may round the scale product and the addition in a
    // different but equally accurate order; in practice they agree bit for bit).
    void floatOutput_data() { kerneltest::addPathRows(); }
    void floatOutput() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("floatOutput"));
        std::uniform_real_distribution<float> scaleDist(1e-4f, 1e-1f), biasDist(-3.0f, 3.0f);
        for (Case c : {Case{1, 1, 1, 0, 0}, Case{1, 200, 64, 7, 3}, Case{5, 17, 33, 128, 0},
                       Case{9, 65, 64, 17, -3}, Case{33, 129, 127, 255, 127}})
            for (bool perChannel : {false, true})
                for (bool withBias : {false, true}) {
                    const Data d = randomData(rng, c);
                    const float sa = scaleDist(rng);
                    std::vector<float> sw(perChannel ? c.n : 1), bias(static_cast<size_t>(c.n));
                    for (auto& s : sw)
                        s = scaleDist(rng);
                    for (auto& b : bias)
                        b = biasDist(rng);
                    const PackedInt8Weights packed(table, d.w.data(), c.n, c.k, c.zb);
                    std::vector<int32_t> acc(static_cast<size_t>(c.m) * c.n);
                    reference::gemmInt32(d.a.data(), c.m, c.k, c.za, d.w.data(), c.n, c.zb, acc.data());
                    std::vector<float> got(acc.size());
                    int8GemmFloat(table, QuantizedActivations{d.a.data(), c.m, c.k, c.za, sa}, packed,
                                  sw.data(), perChannel, withBias ? bias.data() : nullptr, got.data());
                    for (size_t i = 0; i < got.size(); ++i) {
                        const int col = static_cast<int>(i % c.n);
                        const double scaled = static_cast<double>(acc[i]) * sa * sw[perChannel ? col : 0];
                        const double b = withBias ? bias[col] : 0.0;
                        const double tolerance = std::ldexp(std::fabs(scaled) + std::fabs(b), -20);
                        if (std::fabs(got[i] - (scaled + b)) > tolerance)
                            QFAIL(qPrintable(QStringLiteral("M=%1 N=%2 K=%3: C[%4] = %5, expected %6")
                                                 .arg(c.m)
                                                 .arg(c.n)
                                                 .arg(c.k)
                                                 .arg(i)
                                                 .arg(got[i], 0, 'g', 9)
                                                 .arg(scaled + b, 0, 'g', 9)));
                    }
                }
    }

    // Requantized uint8/int8 output equals the reference accumulator requantized by an independent
    // 64-bit implementation of gemmlowp's arithmetic (below), exactly, with per-tensor and
    // per-channel multipliers and int32 bias; that value is also checked against x * M in double.
    void requantizedOutput_data() { kerneltest::addPathRows(); }
    void requantizedOutput() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("requantizedOutput"));
        std::uniform_real_distribution<double> multiplierDist(1e-5, 2e-3);
        std::uniform_int_distribution<int32_t> biasDist(-20000, 20000);
        for (Case c : {Case{1, 17, 33, 128, 0}, Case{1, 150, 65, 128, 5}, Case{7, 49, 64, 3, 0},
                       Case{16, 33, 129, 255, -7}})
            for (bool perChannel : {false, true})
                for (bool signedOutput : {false, true}) {
                    const Data d = randomData(rng, c);
                    std::vector<double> reals;
                    std::vector<FixedPointMultiplier> multipliers;
                    for (int i = 0; i < (perChannel ? c.n : 1); ++i) {
                        reals.push_back(multiplierDist(rng));
                        multipliers.emplace_back(reals.back());
                    }
                    std::vector<int32_t> bias(static_cast<size_t>(c.n));
                    for (auto& b : bias)
                        b = biasDist(rng);
                    const int32_t outZp = signedOutput ? -5 : 131;
                    const PackedInt8Weights packed(table, d.w.data(), c.n, c.k, c.zb);
                    std::vector<int32_t> acc(static_cast<size_t>(c.m) * c.n);
                    reference::gemmInt32(d.a.data(), c.m, c.k, c.za, d.w.data(), c.n, c.zb, acc.data());
                    const QuantizedActivations a{d.a.data(), c.m, c.k, c.za, 1.0f};
                    std::vector<int32_t> got(acc.size());
                    if (signedOutput) {
                        std::vector<int8_t> out(acc.size());
                        int8GemmRequantizeS8(table, a, packed, multipliers.data(), perChannel, bias.data(),
                                             outZp, out.data());
                        std::copy(out.begin(), out.end(), got.begin());
                    } else {
                        std::vector<uint8_t> out(acc.size());
                        int8GemmRequantizeU8(table, a, packed, multipliers.data(), perChannel, bias.data(),
                                             outZp, out.data());
                        std::copy(out.begin(), out.end(), got.begin());
                    }
                    int saturated = 0;
                    for (size_t i = 0; i < got.size(); ++i) {
                        const int col = static_cast<int>(i % c.n);
                        const int channel = perChannel ? col : 0;
                        const int64_t x = int64_t{acc[i]} + bias[col];
                        const int64_t scaled = requantizeLikeGemmlowp(x, multipliers[channel].multiplier(),
                                                                      multipliers[channel].shift());
                        // The documented tolerance against the real multiplier: within
                        // 1 + |x M| 2^-31 of x * M (two roundings and m0's own).
                        const double real = static_cast<double>(x) * reals[static_cast<size_t>(channel)];
                        QVERIFY(std::abs(static_cast<double>(scaled) - real) <=
                                1.0 + std::abs(real) * 0x1p-31);
                        const int64_t value = scaled + outZp;
                        const int64_t expected =
                            std::clamp<int64_t>(value, signedOutput ? -128 : 0, signedOutput ? 127 : 255);
                        saturated += expected != value;
                        QCOMPARE(got[i], static_cast<int32_t>(expected));
                    }
                    QVERIFY(saturated < static_cast<int>(got.size())); // the data is not all clamped
                }
    }

    void packedForAnotherPathIsRefused() {
        const KernelTable& scalar = KernelRegistry::scalarTable();
        std::vector<int8_t> w(16, 1);
        const PackedInt8Weights packed(scalar, w.data(), 4, 4, 0);
        std::vector<uint8_t> a(4, 1);
        int32_t c[4];
        for (const auto& entry : KernelRegistry::entries()) {
            if (!entry.table || entry.path == IsaPath::Scalar)
                continue;
            QVERIFY_THROWS_EXCEPTION(
                quantscope::Error,
                int8GemmInt32(*entry.table, QuantizedActivations{a.data(), 1, 4, 0, 1.0f}, packed, c));
        }
        QVERIFY_THROWS_EXCEPTION(quantscope::Error,
                                 PackedInt8Weights(scalar, w.data(), 1, PackedInt8Weights::kMaxK + 1, 0));
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, PackedInt8Weights(scalar, w.data(), 0, 4, 0));
        QVERIFY_THROWS_EXCEPTION(
            quantscope::Error,
            int8GemmInt32(scalar, QuantizedActivations{a.data(), 1, 3, 0, 1.0f}, packed, c));
    }
};

QTEST_GUILESS_MAIN(TestKernelsInt8Gemm)
#include "tst_kernels_int8gemm.moc"
