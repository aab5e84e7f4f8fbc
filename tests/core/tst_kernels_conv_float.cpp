// The fp32 convolution kernels (FloatConvKernels.h) on every usable path against plain loops in
// double written here: the depthwise plane over kernel sizes 1-7, strides 1-3, dilations 1-2,
// asymmetric and oversized pads, widths across the vector blocks and tails, with bias and each
// clamp, within the bound FloatConvKernels.h writes down; NaN and infinities in the image and the
// weights (padding multiplied as zeros); the clamp bit for bit against Clip's and Relu's own
// rules, NaN, infinities and signed zeros included.
#include "tst_kernels_paths.h"

#include "quantscope/kernels/FloatConvKernels.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// ONNX Clip: min(max(v, low), high) with std::max / std::min; Relu: v > 0 ? v : 0.
float clipRule(float v, float low, float high) {
    return std::min(std::max(v, low), high);
}
float reluRule(float v) {
    return v > 0.0f ? v : 0.0f;
}

bool sameBits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

struct Case {
    int height, width, kernelH, kernelW, strideH, strideW, dilationH, dilationW;
    int padTop, padLeft, padBottom, padRight;
};

int outSize(int size, int kernel, int stride, int dilation, int padBegin, int padEnd) {
    return (size + padBegin + padEnd - (kernel - 1) * dilation - 1) / stride + 1;
}

} // namespace

class TestKernelsConvFloat : public QObject {
    Q_OBJECT

private slots:
    void depthwiseMatchesDouble_data() { kerneltest::addPathRows(); }
    void depthwiseMatchesDouble() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("depthwiseMatchesDouble"));
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<Case> cases = {
            {12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, {13, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
            {14, 14, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1}, {9, 40, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},
            {9, 41, 5, 5, 2, 2, 1, 1, 2, 1, 2, 1},  {10, 37, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
            {7, 33, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2},  {8, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
            {8, 20, 3, 3, 3, 3, 1, 1, 1, 0, 0, 1},  {5, 66, 2, 4, 1, 2, 1, 1, 0, 3, 1, 0},
            {4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   {1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {3, 8, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3},   {6, 17, 3, 3, 1, 1, 1, 1, 4, 5, 4, 5},
            {6, 70, 3, 3, 1, 2, 1, 3, 1, 0, 1, 6},  {2, 129, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1},
        };
        // Widths 1..35 at 3 x 3, strides 1 and 2: every split between borders, blocks of 32 and 8,
        // and scalar tails.
        for (int width = 1; width <= 35; ++width) {
            cases.push_back({5, width, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1});
            cases.push_back({5, width, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1});
        }
        const FloatClamp clamps[] = {FloatClamp{}, FloatClamp{0.0f, 6.0f, false},
                                     FloatClamp{0.0f, kInf, true}, FloatClamp{-0.5f, 0.25f, false}};
        int checked = 0;
        for (const Case& c : cases) {
            FloatDepthwisePlane p;
            p.height = c.height;
            p.width = c.width;
            p.kernelH = c.kernelH;
            p.kernelW = c.kernelW;
            p.strideH = c.strideH;
            p.strideW = c.strideW;
            p.dilationH = c.dilationH;
            p.dilationW = c.dilationW;
            p.padTop = c.padTop;
            p.padLeft = c.padLeft;
            p.outH = outSize(c.height, c.kernelH, c.strideH, c.dilationH, c.padTop, c.padBottom);
            p.outW = outSize(c.width, c.kernelW, c.strideW, c.dilationW, c.padLeft, c.padRight);
            QVERIFY(p.outH > 0 && p.outW > 0);
            std::vector<float> x(static_cast<size_t>(c.height) * c.width),
                w(static_cast<size_t>(c.kernelH) * c.kernelW);
            for (auto& v : x)
                v = normal(rng);
            for (auto& v : w)
                v = normal(rng);
            p.x = x.data();
            p.w = w.data();
            for (const FloatClamp& clamp : clamps) {
                p.bias = normal(rng);
                p.clamp = clamp;
                // One value past the end is a canary: the kernel writes exactly outH x outW.
                std::vector<float> y(static_cast<size_t>(p.outH) * p.outW + 1, 12345.0f);
                p.y = y.data();
                depthwiseConv(table, p);
                QCOMPARE(y.back(), 12345.0f);
                for (int oy = 0; oy < p.outH; ++oy) {
                    for (int ox = 0; ox < p.outW; ++ox) {
                        double sum = p.bias, magnitude = std::fabs(p.bias);
                        for (int kh = 0; kh < c.kernelH; ++kh) {
                            for (int kw = 0; kw < c.kernelW; ++kw) {
                                const int iy = oy * c.strideH - c.padTop + kh * c.dilationH;
                                const int ix = ox * c.strideW - c.padLeft + kw * c.dilationW;
                                if (iy < 0 || iy >= c.height || ix < 0 || ix >= c.width)
                                    continue;
                                const double term = double{x[static_cast<size_t>(iy) * c.width + ix]} *
                                                    w[static_cast<size_t>(kh) * c.kernelW + kw];
                                sum += term;
                                magnitude += std::fabs(term);
                            }
                        }
                        double expected = sum;
                        if (clamp.reluRule)
                            expected = expected > clamp.low ? expected : clamp.low;
                        else
                            expected = std::min<double>(std::max<double>(expected, clamp.low), clamp.high);
                        const double got = y[static_cast<size_t>(oy) * p.outW + ox];
                        const double bound = std::ldexp(magnitude, -20) + 1e-30;
                        if (std::fabs(got - expected) > bound)
                            QFAIL(qPrintable(
                                QStringLiteral("case %1x%2 k%3x%4 s%5x%6 d%7x%8: y[%9][%10] = %11, "
                                               "expected %12 (bound %13)")
                                    .arg(c.height)
                                    .arg(c.width)
                                    .arg(c.kernelH)
                                    .arg(c.kernelW)
                                    .arg(c.strideH)
                                    .arg(c.strideW)
                                    .arg(c.dilationH)
                                    .arg(c.dilationW)
                                    .arg(oy)
                                    .arg(ox)
                                    .arg(got, 0, 'g', 9)
                                    .arg(expected, 0, 'g', 9)
                                    .arg(bound, 0, 'g', 3)));
                        ++checked;
                    }
                }
            }
        }
        QVERIFY(checked > 20000);
    }

    // A NaN or an infinity in the image reaches exactly the outputs whose window reads it, and the
    // clamp then treats NaN as Clip (kept) or Relu (zero) does.
    void depthwiseSpecialValues_data() { kerneltest::addPathRows(); }
    void depthwiseSpecialValues() {
        KERNEL_PATH_OR_SKIP(table);
        const int side = 20;
        std::vector<float> x(side * side, 0.5f), w(9, 1.0f);
        x[5 * side + 10] = kNaN;
        x[15 * side + 3] = kInf;
        FloatDepthwisePlane p;
        p.x = x.data();
        p.height = p.width = side;
        p.w = w.data();
        p.kernelH = p.kernelW = 3;
        p.padTop = p.padLeft = 1;
        p.outH = p.outW = side;
        std::vector<float> y(side * side);
        p.y = y.data();
        for (bool relu : {false, true}) {
            p.clamp = relu ? FloatClamp{0.0f, kInf, true} : FloatClamp{0.0f, 6.0f, false};
            depthwiseConv(table, p);
            for (int oy = 0; oy < side; ++oy) {
                for (int ox = 0; ox < side; ++ox) {
                    const float v = y[oy * side + ox];
                    if (std::abs(oy - 5) <= 1 && std::abs(ox - 10) <= 1) {
                        if (relu)
                            QCOMPARE(v, 0.0f);
                        else
                            QVERIFY2(std::isnan(v), qPrintable(QStringLiteral("y[%1][%2]").arg(oy).arg(ox)));
                    } else if (std::abs(oy - 15) <= 1 && std::abs(ox - 3) <= 1) {
                        QCOMPARE(v, relu ? kInf : 6.0f);
                    } else {
                        // 0.5 times the taps inside the image (corners 4, edges 6, inside 9).
                        const int rows = 3 - (oy == 0) - (oy == side - 1),
                                  cols = 3 - (ox == 0) - (ox == side - 1);
                        QCOMPARE(v, 0.5f * static_cast<float>(rows * cols));
                    }
                }
            }
        }
    }

    // Padding is zeros multiplied like any value (ONNX's definition): an infinite weight over
    // padding gives NaN, over the image infinity.
    void depthwisePaddingIsMultiplied_data() { kerneltest::addPathRows(); }
    void depthwisePaddingIsMultiplied() {
        KERNEL_PATH_OR_SKIP(table);
        const int side = 11;
        std::vector<float> x(side * side, 1.0f), w(9, 0.0f);
        w[0] = kInf; // the top-left tap
        FloatDepthwisePlane p;
        p.x = x.data();
        p.height = p.width = side;
        p.w = w.data();
        p.kernelH = p.kernelW = 3;
        p.padTop = p.padLeft = 1;
        p.outH = p.outW = side;
        std::vector<float> y(side * side);
        p.y = y.data();
        depthwiseConv(table, p);
        for (int oy = 0; oy < side; ++oy)
            for (int ox = 0; ox < side; ++ox) {
                const float v = y[oy * side + ox];
                if (oy == 0 || ox == 0)
                    QVERIFY2(std::isnan(v),
                             qPrintable(QStringLiteral("y[%1][%2] = %3").arg(oy).arg(ox).arg(v)));
                else
                    QCOMPARE(v, kInf);
            }
    }

    void clampIsExact_data() { kerneltest::addPathRows(); }
    void clampIsExact() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("clampIsExact"));
        std::normal_distribution<float> normal(0.0f, 5.0f);
        std::vector<float> x = {0.0f, -0.0f,      kNaN,       -kNaN,   kInf,  -kInf,
                                6.0f, 6.0000005f, 5.9999995f, -1e-45f, 1e-45f};
        for (int i = 0; i < 1000; ++i)
            x.push_back(normal(rng));
        x.push_back(1.0f); // an odd count: the tail runs too
        const struct {
            FloatClamp clamp;
            bool relu;
        } rules[] = {{{0.0f, 6.0f, false}, false},
                     {{0.0f, kInf, true}, true},
                     {{-kInf, 2.0f, false}, false},
                     {{3.0f, -1.0f, false}, false}, // min above max: Clip gives max everywhere
                     {{-3.4028235e38f, 3.4028235e38f, false}, false}};
        for (const auto& rule : rules) {
            std::vector<float> y = x;
            clampValues(table, y.data(), y.size(), rule.clamp);
            for (size_t i = 0; i < x.size(); ++i) {
                const float expected =
                    rule.relu ? reluRule(x[i]) : clipRule(x[i], rule.clamp.low, rule.clamp.high);
                if (!sameBits(y[i], expected))
                    QFAIL(qPrintable(QStringLiteral("clamp [%1, %2]%3 of %4 gave %5, expected %6")
                                         .arg(double{rule.clamp.low})
                                         .arg(double{rule.clamp.high})
                                         .arg(rule.relu ? QStringLiteral(" (Relu)") : QString())
                                         .arg(double{x[i]}, 0, 'g', 9)
                                         .arg(double{y[i]}, 0, 'g', 9)
                                         .arg(double{expected}, 0, 'g', 9)));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestKernelsConvFloat)
#include "tst_kernels_conv_float.moc"
