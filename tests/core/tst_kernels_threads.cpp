// The kernels split across a ThreadPool give exactly the single-thread bytes on every path: int8
// GEMM with each output kind (shapes with few panels, so rows are split too, and many panels),
// int4 GEMV / GEMM with both activation kinds, bf16 GEMM and the depthwise convolution.
#include "tst_kernels_paths.h"

#include "quantscope/kernels/Bf16Gemm.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/ThreadPool.h"

#include <QtTest>

#include <cstring>
#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

struct Shape {
    int m, n, k;
};

// Few panels and many rows (rows split), many panels (columns split), one row (GEMV).
const Shape kShapes[] = {{200, 20, 70}, {97, 64, 33}, {37, 300, 40}, {1, 129, 65}, {5, 3, 9}};

template <class T> bool sameBytes(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

std::vector<float> randomFloats(std::mt19937& rng, size_t count) {
    std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
    std::vector<float> v(count);
    for (auto& x : v)
        x = dist(rng);
    return v;
}

} // namespace

class TestKernelsThreads : public QObject {
    Q_OBJECT

private slots:
    void int8GemmMatchesOneThread_data() { kerneltest::addPathRows(); }
    void int8GemmMatchesOneThread() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("int8GemmMatchesOneThread"));
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
        for (int threads : {2, 3})
            for (const Shape& s : kShapes) {
                ThreadPool pool(threads);
                std::vector<uint8_t> a(static_cast<size_t>(s.m) * s.k);
                std::vector<int8_t> w(static_cast<size_t>(s.n) * s.k);
                for (auto& v : a)
                    v = static_cast<uint8_t>(u8(rng));
                for (auto& v : w)
                    v = static_cast<int8_t>(s8(rng));
                const PackedInt8Weights packed(table, w.data(), s.n, s.k, 3);
                const QuantizedActivations qa{a.data(), s.m, s.k, 121, 0.03f};
                const size_t size = static_cast<size_t>(s.m) * s.n;
                std::vector<FixedPointMultiplier> multipliers;
                std::vector<float> scales(static_cast<size_t>(s.n)), bias = randomFloats(rng, scales.size());
                std::vector<int32_t> biasInt(scales.size());
                for (int i = 0; i < s.n; ++i) {
                    multipliers.emplace_back(0.0005 * (i + 1));
                    scales[static_cast<size_t>(i)] = 0.001f * static_cast<float>(i + 1);
                    biasInt[static_cast<size_t>(i)] = 1000 * (i - 7);
                }
                std::vector<int32_t> i1(size), i2(size);
                int8GemmInt32(table, qa, packed, i1.data());
                int8GemmInt32(table, qa, packed, i2.data(), &pool);
                QVERIFY(sameBytes(i1, i2));
                std::vector<float> f1(size), f2(size);
                int8GemmFloat(table, qa, packed, scales.data(), true, bias.data(), f1.data());
                int8GemmFloat(table, qa, packed, scales.data(), true, bias.data(), f2.data(), &pool);
                QVERIFY(sameBytes(f1, f2));
                std::vector<uint8_t> u1(size), u2(size);
                int8GemmRequantizeU8(table, qa, packed, multipliers.data(), true, biasInt.data(), 9,
                                     u1.data());
                int8GemmRequantizeU8(table, qa, packed, multipliers.data(), true, biasInt.data(), 9,
                                     u2.data(), &pool);
                QVERIFY(sameBytes(u1, u2));
                std::vector<int8_t> s1(size), s2(size);
                int8GemmRequantizeS8(table, qa, packed, multipliers.data(), false, nullptr, -9, s1.data(),
                                     nullptr, -9, 100);
                int8GemmRequantizeS8(table, qa, packed, multipliers.data(), false, nullptr, -9, s2.data(),
                                     &pool, -9, 100);
                QVERIFY(sameBytes(s1, s2));
            }
    }

    void int4AndBf16MatchOneThread_data() { kerneltest::addPathRows(); }
    void int4AndBf16MatchOneThread() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("int4AndBf16MatchOneThread"));
        ThreadPool pool(2);
        for (const Shape& s : {Shape{1, 256, 128}, Shape{9, 64, 256}, Shape{70, 33, 64}}) {
            const auto x = randomFloats(rng, static_cast<size_t>(s.m) * s.k);
            const auto w = randomFloats(rng, static_cast<size_t>(s.n) * s.k);
            const PackedInt4Weights int4 = PackedInt4Weights::quantize(w.data(), s.n, s.k, 32);
            for (auto kind : {Int4Activations::Float32, Int4Activations::Int8}) {
                std::vector<float> y1(static_cast<size_t>(s.m) * s.n), y2(y1.size());
                int4Gemm(table, x.data(), s.m, int4, y1.data(), kind);
                int4Gemm(table, x.data(), s.m, int4, y2.data(), kind, &pool);
                QVERIFY(sameBytes(y1, y2));
            }
            const PackedBf16Weights bf16(w.data(), s.n, s.k);
            const auto bias = randomFloats(rng, static_cast<size_t>(s.n));
            std::vector<float> c1(static_cast<size_t>(s.m) * s.n), c2(c1.size());
            bf16Gemm(table, x.data(), s.m, bf16, bias.data(), c1.data());
            bf16Gemm(table, x.data(), s.m, bf16, bias.data(), c2.data(), &pool);
            QVERIFY(sameBytes(c1, c2));
        }
    }

    void depthwiseMatchesOneThread_data() { kerneltest::addPathRows(); }
    void depthwiseMatchesOneThread() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("depthwiseMatchesOneThread"));
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
        DepthwiseConvShape shape;
        shape.batch = 2;
        shape.channels = 5;
        shape.height = 13;
        shape.width = 11;
        shape.padTop = shape.padLeft = shape.padBottom = shape.padRight = 1;
        std::vector<uint8_t> x(static_cast<size_t>(2 * 5 * 13 * 11));
        std::vector<int8_t> w(static_cast<size_t>(5 * 9));
        for (auto& v : x)
            v = static_cast<uint8_t>(u8(rng));
        for (auto& v : w)
            v = static_cast<int8_t>(s8(rng));
        const FixedPointMultiplier m(0.004);
        std::vector<uint8_t> y1(static_cast<size_t>(2 * 5 * 13 * 11)), y2(y1.size());
        ThreadPool pool(2);
        int8DepthwiseConv(table, shape, x.data(), 100, w.data(), nullptr, &m, false, 128, y1.data());
        int8DepthwiseConv(table, shape, x.data(), 100, w.data(), nullptr, &m, false, 128, y2.data(), &pool);
        QVERIFY(sameBytes(y1, y2));
    }
};

QTEST_GUILESS_MAIN(TestKernelsThreads)
#include "tst_kernels_threads.moc"
