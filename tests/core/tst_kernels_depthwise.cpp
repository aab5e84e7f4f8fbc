// The depthwise convolution's fused output stages on every usable path against plain loops of the
// definition: rectangular kernels, unequal strides and dilations, asymmetric pads, channel
// multipliers, tiny planes and widths across the vector tails, multipliers below and above 1,
// biases that wrap, clamps; the float-output entry point; and 1 against 2 threads.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/kernels/ThreadPool.h"

#include <QtTest>

#include <algorithm>
#include <climits>
#include <cstring>
#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

// sum (x - zx) * w over the window of output (n, c, i, j), padded positions adding 0, in 64 bits.
int64_t windowSum(const DepthwiseConvShape& s, const std::vector<uint8_t>& x, int32_t zx,
                  const std::vector<int8_t>& w, int n, int c, int i, int j) {
    int64_t acc = 0;
    for (int kh = 0; kh < s.kernelH; ++kh)
        for (int kw = 0; kw < s.kernelW; ++kw) {
            const int ih = i * s.strideH - s.padTop + kh * s.dilationH;
            const int iw = j * s.strideW - s.padLeft + kw * s.dilationW;
            if (ih < 0 || ih >= s.height || iw < 0 || iw >= s.width)
                continue;
            const int ic = c / s.channelMultiplier;
            const int32_t value =
                x[((static_cast<size_t>(n) * s.channels + ic) * s.height + ih) * s.width + iw];
            acc += int64_t{value - zx} * w[(static_cast<size_t>(c) * s.kernelH + kh) * s.kernelW + kw];
        }
    return acc;
}

struct Problem {
    DepthwiseConvShape shape;
    std::vector<uint8_t> x;
    std::vector<int8_t> w;
    std::vector<int32_t> bias;
    std::vector<FixedPointMultiplier> multipliers;
    std::vector<float> scales, floatBias;
    int32_t zx = 0, zy = 0;
};

Problem randomProblem(std::mt19937& rng, const DepthwiseConvShape& s, bool largeMultipliers) {
    std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
    Problem p;
    p.shape = s;
    p.x.resize(static_cast<size_t>(s.batch) * s.channels * s.height * s.width);
    p.w.resize(static_cast<size_t>(s.outChannels()) * s.kernelH * s.kernelW);
    for (auto& v : p.x)
        v = static_cast<uint8_t>(u8(rng));
    for (auto& v : p.w)
        v = static_cast<int8_t>(s8(rng));
    for (int c = 0; c < s.outChannels(); ++c) {
        // Above 1 (the 64-bit rounding shift), tiny (long rounding shifts) and ordinary ones.
        const double real = largeMultipliers && c % 3 == 0
                                ? std::uniform_real_distribution<double>(1.0, 40.0)(rng)
                            : c % 3 == 1 ? std::uniform_real_distribution<double>(1e-9, 1e-6)(rng)
                                         : std::uniform_real_distribution<double>(1e-4, 0.05)(rng);
        p.multipliers.emplace_back(real);
        // Some biases near the int32 limits, so that adding them wraps modulo 2^32.
        p.bias.push_back(c % 4 == 3 ? INT32_MAX - c
                                    : std::uniform_int_distribution<int32_t>(-5000, 5000)(rng));
        p.scales.push_back(std::uniform_real_distribution<float>(1e-5f, 0.1f)(rng));
        p.floatBias.push_back(std::uniform_real_distribution<float>(-3.0f, 3.0f)(rng));
    }
    p.zx = u8(rng);
    p.zy = u8(rng);
    return p;
}

std::vector<uint8_t> referenceU8(const Problem& p, bool perChannel, int32_t lo, int32_t hi) {
    const DepthwiseConvShape& s = p.shape;
    std::vector<uint8_t> y;
    for (int n = 0; n < s.batch; ++n)
        for (int c = 0; c < s.outChannels(); ++c)
            for (int i = 0; i < s.outHeight(); ++i)
                for (int j = 0; j < s.outWidth(); ++j) {
                    const int64_t sum =
                        windowSum(s, p.x, p.zx, p.w, n, c, i, j) + p.bias[static_cast<size_t>(c)];
                    const auto wrapped = static_cast<int32_t>(static_cast<uint32_t>(sum & 0xFFFFFFFF));
                    const FixedPointMultiplier& m = p.multipliers[perChannel ? static_cast<size_t>(c) : 0];
                    const int64_t out = int64_t{m.apply(wrapped)} + p.zy;
                    y.push_back(static_cast<uint8_t>(std::clamp<int64_t>(out, lo, hi)));
                }
    return y;
}

std::vector<float> referenceFloat(const Problem& p, bool withBias) {
    const DepthwiseConvShape& s = p.shape;
    std::vector<float> y;
    for (int n = 0; n < s.batch; ++n)
        for (int c = 0; c < s.outChannels(); ++c)
            for (int i = 0; i < s.outHeight(); ++i)
                for (int j = 0; j < s.outWidth(); ++j) {
                    const auto acc = static_cast<int32_t>(windowSum(s, p.x, p.zx, p.w, n, c, i, j));
                    volatile float product = static_cast<float>(acc) * p.scales[static_cast<size_t>(c)];
                    y.push_back(product + (withBias ? p.floatBias[static_cast<size_t>(c)] : 0.0f));
                }
    return y;
}

// Geometries covering each kernel variant: stride 1 (one long row), stride 2, other strides
// (gathered), rectangular and 3 x 3 filters, unequal strides / dilations, tiny planes, rows of
// 16 and 32 outputs and their tails (the AVX2 and AVX-512 kernels).
std::vector<DepthwiseConvShape> shapes() {
    struct Geometry {
        int kh, kw, sh, sw, dh, dw, pads[4], multiplier;
    };
    const Geometry geometries[] = {
        {3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1}, {3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1},
        {3, 3, 2, 2, 1, 1, {0, 0, 1, 1}, 1}, {3, 5, 1, 1, 1, 1, {1, 2, 1, 2}, 1},
        {1, 3, 1, 2, 1, 1, {0, 1, 0, 0}, 2}, {3, 3, 2, 1, 1, 2, {2, 0, 1, 3}, 1},
        {3, 3, 1, 2, 2, 1, {0, 1, 2, 1}, 1}, {3, 3, 3, 3, 1, 1, {1, 1, 1, 1}, 1},
        {7, 7, 1, 1, 1, 1, {3, 3, 3, 3}, 1}, {2, 2, 1, 1, 1, 1, {0, 0, 0, 0}, 3},
        {1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1}, {3, 3, 1, 1, 3, 3, {3, 3, 3, 3}, 2},
    };
    std::vector<DepthwiseConvShape> out;
    int index = 0;
    for (const Geometry& g : geometries)
        for (int width : {1, 2, 7, 14, 16, 17, 31, 45, 63, 66, 131}) { // 32-lane tails at stride 2 too
            DepthwiseConvShape s;
            s.batch = 1 + index % 2;
            s.channels = 2 + index % 3;
            s.height = 1 + (index * 7) % 13;
            s.width = width;
            s.channelMultiplier = g.multiplier;
            s.kernelH = g.kh;
            s.kernelW = g.kw;
            s.strideH = g.sh;
            s.strideW = g.sw;
            s.dilationH = g.dh;
            s.dilationW = g.dw;
            s.padTop = g.pads[0];
            s.padLeft = g.pads[1];
            s.padBottom = g.pads[2];
            s.padRight = g.pads[3];
            ++index;
            if (s.height + s.padTop + s.padBottom >= s.dilationH * (s.kernelH - 1) + 1 &&
                s.width + s.padLeft + s.padRight >= s.dilationW * (s.kernelW - 1) + 1)
                out.push_back(s);
        }
    return out;
}

QString describe(const DepthwiseConvShape& s) {
    return QStringLiteral("%1x%2 kernel %3x%4 stride %5x%6 dilation %7x%8 multiplier %9")
        .arg(s.height)
        .arg(s.width)
        .arg(s.kernelH)
        .arg(s.kernelW)
        .arg(s.strideH)
        .arg(s.strideW)
        .arg(s.dilationH)
        .arg(s.dilationW)
        .arg(s.channelMultiplier);
}

} // namespace

class TestKernelsDepthwise : public QObject {
    Q_OBJECT

private slots:
    void requantizedMatchesReference_data() { kerneltest::addPathRows(); }
    void requantizedMatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("requantizedMatchesReference"));
        int index = 0;
        for (const DepthwiseConvShape& s : shapes()) {
            ++index;
            const Problem p = randomProblem(rng, s, true);
            const bool perChannel = index % 2 == 0;
            // No clamp, a fused Relu, and a narrow clamp (Relu6-like).
            const int32_t lo = index % 3 == 0 ? p.zy : index % 3 == 1 ? 0 : std::min(p.zy, 100);
            const int32_t hi = index % 3 == 2 ? std::max(lo, 180) : 255;
            const auto expected = referenceU8(p, perChannel, lo, hi);
            std::vector<uint8_t> got(expected.size(), 7);
            int8DepthwiseConv(table, s, p.x.data(), p.zx, p.w.data(), p.bias.data(), p.multipliers.data(),
                              perChannel, p.zy, got.data(), nullptr, index % 3 == 1 ? INT32_MIN : lo, hi);
            for (size_t i = 0; i < got.size(); ++i)
                if (got[i] != expected[i])
                    QFAIL(qPrintable(QStringLiteral("%1: y[%2] = %3, expected %4")
                                         .arg(describe(s))
                                         .arg(i)
                                         .arg(got[i])
                                         .arg(expected[i])));
        }
    }

    void floatOutputMatchesReference_data() { kerneltest::addPathRows(); }
    void floatOutputMatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("floatOutputMatchesReference"));
        int index = 0;
        for (const DepthwiseConvShape& s : shapes()) {
            ++index;
            const Problem p = randomProblem(rng, s, false);
            const bool withBias = index % 3 != 0;
            const auto expected = referenceFloat(p, withBias);
            std::vector<float> got(expected.size(), -1.0f);
            int8DepthwiseConvFloat(table, s, p.x.data(), p.zx, p.w.data(), p.scales.data(),
                                   withBias ? p.floatBias.data() : nullptr, got.data());
            for (size_t i = 0; i < got.size(); ++i)
                if (std::memcmp(&got[i], &expected[i], sizeof(float)) != 0)
                    QFAIL(qPrintable(QStringLiteral("%1: y[%2] = %3, expected %4")
                                         .arg(describe(s))
                                         .arg(i)
                                         .arg(static_cast<double>(got[i]), 0, 'g', 9)
                                         .arg(static_cast<double>(expected[i]), 0, 'g', 9)));
        }
    }

    // A 3 x 3 filter of known weights on a known plane: the sums by hand.
    void floatOutputKnownValues() {
        DepthwiseConvShape s;
        s.channels = 1;
        s.height = 2;
        s.width = 2;
        s.padTop = s.padLeft = s.padBottom = s.padRight = 1;
        const std::vector<uint8_t> x{10, 20, 30, 40};
        const std::vector<int8_t> w{0, 0, 0, 0, 1, 2, 0, 3, -1};
        const float scale = 0.5f, bias = 1.0f;
        for (const auto& entry : KernelRegistry::entries()) {
            if (!KernelRegistry::isUsable(entry.path))
                continue;
            std::vector<float> y(4);
            int8DepthwiseConvFloat(*KernelRegistry::table(entry.path), s, x.data(), 10, w.data(), &scale,
                                   &bias, y.data());
            // x - 10 = {0, 10, 20, 30}: y(0,0) = 0*1 + 10*2 + 20*3 + 30*(-1) = 50, y(0,1) = 10*1 + 30*3 =
            // 100, y(1,0) = 20*1 + 30*2 = 80, y(1,1) = 30*1 = 30; then * 0.5 + 1.
            QCOMPARE(y, (std::vector<float>{26.0f, 51.0f, 41.0f, 16.0f}));
        }
    }

    void floatOutputBadInputIsRefused() {
        const KernelTable& scalar = KernelRegistry::scalarTable();
        DepthwiseConvShape s;
        s.channels = 1;
        s.height = s.width = 3;
        std::vector<uint8_t> x(9);
        std::vector<int8_t> w(9);
        std::vector<float> y(1);
        const float scale = 1.0f;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8DepthwiseConvFloat(scalar, s, x.data(), 300, w.data(),
                                                                           &scale, nullptr, y.data()));
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8DepthwiseConvFloat(scalar, s, x.data(), 0, w.data(),
                                                                           nullptr, nullptr, y.data()));
        s.kernelH = 5;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8DepthwiseConvFloat(scalar, s, x.data(), 0, w.data(),
                                                                           &scale, nullptr, y.data()));
    }

    // The table's plane kernel without an output stage writes the raw sums (its other contract).
    void planeKernelRawSums_data() { kerneltest::addPathRows(); }
    void planeKernelRawSums() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("planeKernelRawSums"));
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
        const auto& kernel = KernelRegistry::provider(table, &KernelTable::depthwisePlane).depthwisePlane;
        struct Geometry {
            int kh, kw, sh, sw, dh, dw;
        };
        for (const Geometry& g : {Geometry{3, 3, 1, 1, 1, 1}, Geometry{3, 3, 2, 2, 1, 1},
                                  Geometry{5, 3, 1, 3, 1, 2}, Geometry{3, 3, 2, 1, 2, 1}})
            for (int outW : {1, 7, 16, 23}) {
                const int outH = 5;
                const int width = (outW - 1) * g.sw + (g.kw - 1) * g.dw + 1 + 3; // 3 bytes to spare
                const int height = (outH - 1) * g.sh + (g.kh - 1) * g.dh + 1;
                std::vector<uint8_t> x(static_cast<size_t>(height) * width + kDepthwiseSlack);
                std::vector<int8_t> w(static_cast<size_t>(g.kh) * g.kw);
                for (auto& v : x)
                    v = static_cast<uint8_t>(u8(rng));
                for (auto& v : w)
                    v = static_cast<int8_t>(s8(rng));
                std::vector<int32_t> acc(static_cast<size_t>(outH) * outW + 32, -1);
                DepthwisePlane job;
                job.x = x.data();
                job.width = width;
                job.w = w.data();
                job.kernelH = g.kh;
                job.kernelW = g.kw;
                job.strideH = g.sh;
                job.strideW = g.sw;
                job.dilationH = g.dh;
                job.dilationW = g.dw;
                job.outH = outH;
                job.outW = outW;
                job.acc = acc.data();
                kernel(job);
                for (int i = 0; i < outH; ++i)
                    for (int j = 0; j < outW; ++j) {
                        int32_t sum = 0;
                        for (int kh = 0; kh < g.kh; ++kh)
                            for (int kw = 0; kw < g.kw; ++kw)
                                sum += x[static_cast<size_t>(i * g.sh + kh * g.dh) * width + j * g.sw +
                                         kw * g.dw] *
                                       w[static_cast<size_t>(kh) * g.kw + kw];
                        QCOMPARE(acc[static_cast<size_t>(i) * outW + j], sum);
                    }
            }
    }

    // Two threads split the planes differently from one; both outputs must be the same bytes.
    void twoThreadsMatchOne_data() { kerneltest::addPathRows(); }
    void twoThreadsMatchOne() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("twoThreadsMatchOne"));
        ThreadPool pool(2);
        const auto all = shapes();
        for (size_t k = 0; k < all.size(); k += 5) {
            DepthwiseConvShape s = all[k];
            s.batch = 3;
            const Problem p = randomProblem(rng, s, true);
            const size_t count =
                static_cast<size_t>(s.batch) * s.outChannels() * s.outHeight() * s.outWidth();
            std::vector<uint8_t> y1(count), y2(count);
            int8DepthwiseConv(table, s, p.x.data(), p.zx, p.w.data(), p.bias.data(), p.multipliers.data(),
                              true, p.zy, y1.data());
            int8DepthwiseConv(table, s, p.x.data(), p.zx, p.w.data(), p.bias.data(), p.multipliers.data(),
                              true, p.zy, y2.data(), &pool);
            QVERIFY2(y1 == y2, qPrintable(describe(s)));
            std::vector<float> f1(count), f2(count);
            int8DepthwiseConvFloat(table, s, p.x.data(), p.zx, p.w.data(), p.scales.data(),
                                   p.floatBias.data(), f1.data());
            int8DepthwiseConvFloat(table, s, p.x.data(), p.zx, p.w.data(), p.scales.data(),
                                   p.floatBias.data(), f2.data(), &pool);
            QVERIFY2(std::memcmp(f1.data(), f2.data(), count * sizeof(float)) == 0, qPrintable(describe(s)));
        }
    }
};

QTEST_GUILESS_MAIN(TestKernelsDepthwise)
#include "tst_kernels_depthwise.moc"
