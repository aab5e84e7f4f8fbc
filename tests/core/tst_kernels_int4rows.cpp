// int4 weight-only products with fp32 activations over several rows (a transformer's tokens)
// equal the one-row GEMV of each row bit for bit on every path: the multi-row kernels decode a
// weight group once for all rows but keep each row's float arithmetic in the one-row order.
// (tst_kernels_int4bf16 checks both against a double-precision reference within a bound.)
#include "tst_kernels_paths.h"

#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/PackedInt4Weights.h"
#include "quantscope/kernels/ThreadPool.h"

#include <QtTest>

#include <cstring>
#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

struct Shape {
    int m, n, k, groupSize;
};

// Row counts around the kernels' blocking (32 rows on AVX2; on AVX-512 4-row blocks below 8 rows, 6-row
// tiles over pairs of panels from 8), columns around the 16-wide panels (a lone last panel, a partial one),
// K of one and of several groups.
const std::vector<Shape> kShapes = {{2, 16, 128, 128},  {3, 33, 256, 32},   {5, 17, 64, 64},
                                    {8, 64, 768, 128},  {16, 48, 384, 128}, {7, 1, 32, 32},
                                    {40, 33, 256, 64},  {13, 47, 192, 32},  {9, 7, 64, 8},
                                    {31, 50, 512, 128}, {128, 24, 256, 128}};

} // namespace

class TestKernelsInt4Rows : public QObject {
    Q_OBJECT

private slots:
    void rowsEqualTheOneRowKernel_data() { kerneltest::addPathRows(); }
    void rowsEqualTheOneRowKernel() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("rowsEqualTheOneRowKernel"));
        std::uniform_int_distribution<int> q4(-8, 7);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::uniform_real_distribution<float> scaleDist(0.001f, 0.1f);
        ThreadPool pool(2);
        for (const Shape& s : kShapes) {
            std::vector<int8_t> q(static_cast<size_t>(s.n) * s.k);
            std::vector<float> scales(static_cast<size_t>(s.n) * (s.k / s.groupSize));
            std::vector<float> x(static_cast<size_t>(s.m) * s.k);
            for (auto& v : q)
                v = static_cast<int8_t>(q4(rng));
            for (auto& v : scales)
                v = scaleDist(rng);
            for (auto& v : x)
                v = normal(rng);
            const PackedInt4Weights w =
                PackedInt4Weights::fromIntegers(q.data(), scales.data(), s.n, s.k, s.groupSize);
            std::vector<float> oneByOne(static_cast<size_t>(s.m) * s.n);
            for (int row = 0; row < s.m; ++row)
                int4Gemm(table, x.data() + static_cast<size_t>(row) * s.k, 1, w,
                         oneByOne.data() + static_cast<size_t>(row) * s.n, Int4Activations::Float32);
            for (ThreadPool* threads : {static_cast<ThreadPool*>(nullptr), &pool}) {
                std::vector<float> together(oneByOne.size(), -1.0f);
                int4Gemm(table, x.data(), s.m, w, together.data(), Int4Activations::Float32, threads);
                for (size_t i = 0; i < together.size(); ++i)
                    if (std::memcmp(&together[i], &oneByOne[i], sizeof(float)) != 0)
                        QFAIL(qPrintable(
                            QStringLiteral("M=%1 N=%2 K=%3 G=%4 threads=%5: y[%6][%7] = %8, one row "
                                           "gives %9")
                                .arg(s.m)
                                .arg(s.n)
                                .arg(s.k)
                                .arg(s.groupSize)
                                .arg(threads ? 2 : 1)
                                .arg(i / static_cast<size_t>(s.n))
                                .arg(i % static_cast<size_t>(s.n))
                                .arg(together[i], 0, 'g', 9)
                                .arg(oneByOne[i], 0, 'g', 9)));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestKernelsInt4Rows)
#include "tst_kernels_int4rows.moc"
