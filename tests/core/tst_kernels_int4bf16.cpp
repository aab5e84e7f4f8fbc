// int4 weight-only GEMV/GEMM and bf16 GEMM on every usable path against double-precision
// references, within the written tolerances (both accumulate in fp32).
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Bf16Gemm.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Reference.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace quantscope;
using namespace quantscope::kernels;

namespace {

struct Int4Case {
    int m, n, k, groupSize;
};

const std::vector<Int4Case> kInt4Cases = {{1, 1, 32, 32},
                                          {1, 15, 64, 32},
                                          {1, 16, 128, 128},
                                          {1, 17, 128, 64},
                                          {3, 33, 256, 32},
                                          {2, 65, 192, 64},
                                          {1, 129, 384, 128},
                                          {4, 31, 64, 64},
                                          {1, 200, 1024, 128},
                                          {6, 47, 64, 32},
                                          {9, 16, 128, 64},
                                          // Many rows (the AVX-512 GEMM, 6-row tiles over pairs of panels):
                                          // row counts off the tile, a lone last panel, a partial one.
                                          {13, 47, 192, 32},
                                          {31, 50, 512, 128},
                                          {20, 130, 256, 128}};

} // namespace

class TestKernelsInt4Bf16 : public QObject {
    Q_OBJECT

private slots:
    // fp32 activations: |y - ref| <= K * 2^-22 * sum_k |x_k| (|w_k| + 8) s: the fp32 accumulation
    // bound over K terms, on the magnitude a path sees when it applies the +8 storage offset as
    // a separate sum (AVX2 does).
    void int4FloatActivations_data() { kerneltest::addPathRows(); }
    void int4FloatActivations() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("int4FloatActivations"));
        std::uniform_int_distribution<int> q4(-8, 7);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::uniform_real_distribution<float> scaleDist(0.001f, 0.1f);
        ThreadPool pool(2);
        for (const Int4Case& c : kInt4Cases) {
            const int groups = c.k / c.groupSize;
            std::vector<int8_t> q(static_cast<size_t>(c.n) * c.k);
            std::vector<float> scales(static_cast<size_t>(c.n) * groups), x(static_cast<size_t>(c.m) * c.k);
            for (auto& v : q)
                v = static_cast<int8_t>(q4(rng));
            for (auto& s : scales)
                s = scaleDist(rng);
            for (auto& v : x)
                v = normal(rng);
            const PackedInt4Weights w =
                PackedInt4Weights::fromIntegers(q.data(), scales.data(), c.n, c.k, c.groupSize);
            for (int row = 0; row < c.n; row += 7)
                QCOMPARE(w.value(row, c.k - 1), q[static_cast<size_t>(row) * c.k + c.k - 1]);
            std::vector<float> y(static_cast<size_t>(c.m) * c.n);
            int4Gemm(table, x.data(), c.m, w, y.data(), Int4Activations::Float32,
                     c.n > 100 ? &pool : nullptr);
            for (int i = 0; i < c.m; ++i)
                for (int j = 0; j < c.n; ++j) {
                    double ref = 0.0, magnitude = 0.0;
                    for (int kk = 0; kk < c.k; ++kk) {
                        const double s = scales[static_cast<size_t>(j) * groups + kk / c.groupSize];
                        const double xv = x[static_cast<size_t>(i) * c.k + kk];
                        const int wv = q[static_cast<size_t>(j) * c.k + kk];
                        ref += xv * wv * s;
                        magnitude += std::fabs(xv) * (std::abs(wv) + 8) * s;
                    }
                    const double got = y[static_cast<size_t>(i) * c.n + j];
                    if (std::fabs(got - ref) > c.k * std::ldexp(magnitude, -22))
                        QFAIL(qPrintable(QStringLiteral("M=%1 N=%2 K=%3 G=%4: y[%5][%6] = %7, expected %8")
                                             .arg(c.m)
                                             .arg(c.n)
                                             .arg(c.k)
                                             .arg(c.groupSize)
                                             .arg(i)
                                             .arg(j)
                                             .arg(got, 0, 'g', 9)
                                             .arg(ref, 0, 'g', 9)));
                }
        }
    }

    // int8 activations: the test quantizes x per group with the documented rule, so the integer
    // group dots are exact; the float combination sum_g dot_g * (xs_g * s) is within
    // groups * 2^-22 * sum_g |dot_g * xs_g * s|.
    void int4Int8Activations_data() { kerneltest::addPathRows(); }
    void int4Int8Activations() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("int4Int8Activations"));
        std::uniform_int_distribution<int> q4(-8, 7);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::uniform_real_distribution<float> scaleDist(0.001f, 0.1f);
        for (const Int4Case& c : kInt4Cases) {
            const int groups = c.k / c.groupSize;
            std::vector<int8_t> q(static_cast<size_t>(c.n) * c.k);
            std::vector<float> scales(static_cast<size_t>(c.n) * groups), x(static_cast<size_t>(c.m) * c.k);
            for (auto& v : q)
                v = static_cast<int8_t>(q4(rng));
            for (auto& s : scales)
                s = scaleDist(rng);
            for (auto& v : x)
                v = normal(rng);
            x[0] = 1e3f; // one outlier: its group's scale is large, the others are not affected
            const PackedInt4Weights w =
                PackedInt4Weights::fromIntegers(q.data(), scales.data(), c.n, c.k, c.groupSize);
            std::vector<float> y(static_cast<size_t>(c.m) * c.n);
            int4Gemm(table, x.data(), c.m, w, y.data(), Int4Activations::Int8);
            for (int i = 0; i < c.m; ++i) {
                std::vector<int32_t> xq(static_cast<size_t>(c.k));
                std::vector<float> xs(static_cast<size_t>(groups));
                for (int g = 0; g < groups; ++g) {
                    float absMax = 0.0f;
                    for (int kk = g * c.groupSize; kk < (g + 1) * c.groupSize; ++kk)
                        absMax = std::max(absMax, std::fabs(x[static_cast<size_t>(i) * c.k + kk]));
                    xs[g] = std::max(absMax / 127.0f, 1.1920929e-07f);
                    const IntegerQuantizer rule(xs[g], 0, -127, 127);
                    for (int kk = g * c.groupSize; kk < (g + 1) * c.groupSize; ++kk)
                        xq[kk] = rule.quantize(x[static_cast<size_t>(i) * c.k + kk]);
                }
                for (int j = 0; j < c.n; ++j) {
                    double ref = 0.0, magnitude = 0.0;
                    for (int g = 0; g < groups; ++g) {
                        int64_t dot = 0;
                        for (int kk = g * c.groupSize; kk < (g + 1) * c.groupSize; ++kk)
                            dot += static_cast<int64_t>(xq[kk]) * q[static_cast<size_t>(j) * c.k + kk];
                        const double term =
                            static_cast<double>(dot) *
                            (static_cast<double>(xs[g]) * scales[static_cast<size_t>(j) * groups + g]);
                        ref += term;
                        magnitude += std::fabs(term);
                    }
                    const double got = y[static_cast<size_t>(i) * c.n + j];
                    if (std::fabs(got - ref) > (groups + 1) * std::ldexp(magnitude, -22))
                        QFAIL(qPrintable(QStringLiteral("M=%1 N=%2 K=%3 G=%4: y[%5][%6] = %7, expected %8")
                                             .arg(c.m)
                                             .arg(c.n)
                                             .arg(c.k)
                                             .arg(c.groupSize)
                                             .arg(i)
                                             .arg(j)
                                             .arg(got, 0, 'g', 9)
                                             .arg(ref, 0, 'g', 9)));
                }
            }
        }
    }

    void int4QuantizeAndBadShapes() {
        std::mt19937 rng(kerneltest::seed("int4QuantizeAndBadShapes"));
        std::normal_distribution<float> normal(0.0f, 0.2f);
        const int n = 5, k = 64, g = 32;
        std::vector<float> w(static_cast<size_t>(n) * k);
        for (auto& v : w)
            v = normal(rng);
        const PackedInt4Weights packed = PackedInt4Weights::quantize(w.data(), n, k, g);
        for (int row = 0; row < n; ++row)
            for (int col = 0; col < k; ++col) {
                const float s = packed.scale(row, col / g);
                // symmetric int4: |w - q s| <= s / 2 inside the range, and the group's absmax maps to +-7.5 s
                QVERIFY(std::fabs(w[static_cast<size_t>(row) * k + col] - packed.value(row, col) * s) <=
                        s * 0.5f + 1e-7f);
            }
        std::vector<int8_t> q(64, 0);
        std::vector<float> s(2, 1.0f);
        QVERIFY_THROWS_EXCEPTION(Error, PackedInt4Weights::fromIntegers(q.data(), s.data(), 1, 64, 48));
        QVERIFY_THROWS_EXCEPTION(Error, PackedInt4Weights::fromIntegers(q.data(), s.data(), 1, 64, 0));
        q[3] = 8;
        QVERIFY_THROWS_EXCEPTION(Error, PackedInt4Weights::fromIntegers(q.data(), s.data(), 1, 64, 32));
    }

    // bf16 GEMM: |c - ref| <= (K + 2) * 2^-23 * sum_k |a_k b_k| + 2^-23 |bias|, ref in double over the
    // bf16-rounded inputs (fp32 accumulation; vdpbf16ps adds two products per step).
    void bf16GemmMatchesReference_data() { kerneltest::addPathRows(); }
    void bf16GemmMatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("bf16GemmMatchesReference"));
        std::normal_distribution<float> normal(0.0f, 1.0f);
        ThreadPool pool(2);
        int index = 0;
        for (int m : {1, 7, 8, 9, 17})
            for (int n : {1, 15, 16, 17, 31, 32, 33, 65})
                for (int k : {1, 2, 3, 31, 64, 129}) {
                    std::vector<float> a(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k),
                        bias(static_cast<size_t>(n));
                    for (auto& v : a)
                        v = normal(rng);
                    for (auto& v : w)
                        v = normal(rng);
                    for (auto& v : bias)
                        v = normal(rng);
                    const bool withBias = index % 2 == 0;
                    const PackedBf16Weights packed(w.data(), n, k);
                    std::vector<float> c(static_cast<size_t>(m) * n);
                    bf16Gemm(table, a.data(), m, packed, withBias ? bias.data() : nullptr, c.data(),
                             index % 3 == 0 ? &pool : nullptr);
                    ++index;
                    for (int i = 0; i < m; ++i)
                        for (int j = 0; j < n; ++j) {
                            double ref = withBias ? bias[j] : 0.0, magnitude = 0.0;
                            for (int kk = 0; kk < k; ++kk) {
                                const double product =
                                    static_cast<double>(reference::bf16ToF32(
                                        reference::f32ToBf16(a[static_cast<size_t>(i) * k + kk]))) *
                                    reference::bf16ToF32(
                                        reference::f32ToBf16(w[static_cast<size_t>(j) * k + kk]));
                                ref += product;
                                magnitude += std::fabs(product);
                            }
                            const double tolerance = (k + 2) * std::ldexp(magnitude, -23) +
                                                     (withBias ? std::ldexp(std::fabs(bias[j]), -23) : 0.0);
                            const double got = c[static_cast<size_t>(i) * n + j];
                            if (std::fabs(got - ref) > tolerance)
                                QFAIL(qPrintable(QStringLiteral("M=%1 N=%2 K=%3: C[%4][%5] = %6, expected %7")
                                                     .arg(m)
                                                     .arg(n)
                                                     .arg(k)
                                                     .arg(i)
                                                     .arg(j)
                                                     .arg(got, 0, 'g', 9)
                                                     .arg(ref, 0, 'g', 9)));
                        }
                }
    }
};

QTEST_GUILESS_MAIN(TestKernelsInt4Bf16)
#include "tst_kernels_int4bf16.moc"
