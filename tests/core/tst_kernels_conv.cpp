// The int8 convolution kernels against plain loops of ONNX QLinearConv's definition: the depthwise
// kernel on every usable path (kernel sizes, strides 1-3, dilations, asymmetric pads, channel
// multipliers, widths across the vector tails, per-channel multipliers, bias and clamps), and
// im2row + the int8 GEMM + transpose as a full convolution.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Int8ConvHelpers.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/kernels/Int8Gemm.h"

#include <QtTest>

#include <algorithm>
#include <climits>
#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

// QLinearConv for one output value, straight from the definition: padded positions read the
// input zero point; the sum in 64 bits, then the fixed-point multiplier and the clamp.
int32_t requantized(int64_t acc, const FixedPointMultiplier& m, int32_t zeroPoint, int32_t lo, int32_t hi) {
    const int64_t out = int64_t{m.apply(static_cast<int32_t>(acc))} + zeroPoint;
    return static_cast<int32_t>(std::clamp<int64_t>(out, lo, hi));
}

std::vector<uint8_t> referenceDepthwise(const DepthwiseConvShape& s, const std::vector<uint8_t>& x,
                                        int32_t zx, const std::vector<int8_t>& w, const int32_t* bias,
                                        const std::vector<FixedPointMultiplier>& m, bool perChannel,
                                        int32_t zy, int32_t lo, int32_t hi) {
    const int oc = s.outChannels(), oh = s.outHeight(), ow = s.outWidth();
    std::vector<uint8_t> y(static_cast<size_t>(s.batch) * oc * oh * ow);
    size_t at = 0;
    for (int n = 0; n < s.batch; ++n)
        for (int c = 0; c < oc; ++c)
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    int64_t acc = bias ? bias[c] : 0;
                    for (int kh = 0; kh < s.kernelH; ++kh)
                        for (int kw = 0; kw < s.kernelW; ++kw) {
                            const int ih = i * s.strideH - s.padTop + kh * s.dilationH;
                            const int iw = j * s.strideW - s.padLeft + kw * s.dilationW;
                            const int ic = c / s.channelMultiplier;
                            const int32_t value =
                                ih >= 0 && ih < s.height && iw >= 0 && iw < s.width
                                    ? x[((static_cast<size_t>(n) * s.channels + ic) * s.height + ih) *
                                            s.width +
                                        iw]
                                    : zx;
                            acc += int64_t{value - zx} *
                                   w[(static_cast<size_t>(c) * s.kernelH + kh) * s.kernelW + kw];
                        }
                    y[at++] = static_cast<uint8_t>(requantized(acc, m[perChannel ? c : 0], zy, lo, hi));
                }
    return y;
}

} // namespace

class TestKernelsConv : public QObject {
    Q_OBJECT

private slots:
    void depthwiseMatchesReference_data() { kerneltest::addPathRows(); }
    void depthwiseMatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("depthwiseMatchesReference"));
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
        std::uniform_real_distribution<double> real(1e-4, 0.05);
        struct Case {
            int kernel, stride, dilation, pads[4], multiplier;
        };
        const Case cases[] = {{3, 1, 1, {1, 1, 1, 1}, 1}, {3, 2, 1, {1, 1, 1, 1}, 1},
                              {3, 2, 1, {0, 0, 1, 1}, 1}, {5, 1, 1, {2, 2, 2, 2}, 1},
                              {5, 2, 1, {2, 1, 2, 1}, 1}, {3, 1, 2, {2, 2, 2, 2}, 1},
                              {1, 1, 1, {0, 0, 0, 0}, 1}, {3, 3, 1, {1, 0, 0, 1}, 1},
                              {3, 1, 1, {0, 0, 0, 0}, 2}, {2, 1, 1, {0, 1, 1, 0}, 3}};
        int index = 0;
        for (const Case& cs : cases)
            for (int width : {1, 3, 7, 16, 17, 33, 40}) {
                DepthwiseConvShape s;
                s.batch = 1 + index % 2;
                s.channels = 3;
                s.height = 2 + (index * 5) % 9;
                s.width = width;
                s.channelMultiplier = cs.multiplier;
                s.kernelH = s.kernelW = cs.kernel;
                s.strideH = s.strideW = cs.stride;
                s.dilationH = s.dilationW = cs.dilation;
                s.padTop = cs.pads[0];
                s.padLeft = cs.pads[1];
                s.padBottom = cs.pads[2];
                s.padRight = cs.pads[3];
                ++index;
                if (s.height + s.padTop + s.padBottom < s.dilationH * (s.kernelH - 1) + 1 ||
                    s.width + s.padLeft + s.padRight < s.dilationW * (s.kernelW - 1) + 1)
                    continue;
                std::vector<uint8_t> x(static_cast<size_t>(s.batch) * s.channels * s.height * s.width);
                std::vector<int8_t> w(static_cast<size_t>(s.outChannels()) * s.kernelH * s.kernelW);
                for (auto& v : x)
                    v = static_cast<uint8_t>(u8(rng));
                for (auto& v : w)
                    v = static_cast<int8_t>(s8(rng));
                const bool perChannel = index % 2 == 0;
                std::vector<FixedPointMultiplier> m;
                std::vector<int32_t> bias;
                for (int c = 0; c < s.outChannels(); ++c) {
                    m.emplace_back(real(rng));
                    bias.push_back(std::uniform_int_distribution<int32_t>(-3000, 3000)(rng));
                }
                const int32_t zx = u8(rng), zy = u8(rng);
                const bool relu = index % 3 == 0;
                const int32_t* b = index % 4 == 1 ? nullptr : bias.data();
                const auto expected =
                    referenceDepthwise(s, x, zx, w, b, m, perChannel, zy, relu ? zy : 0, 255);
                std::vector<uint8_t> got(expected.size(), 7);
                int8DepthwiseConv(table, s, x.data(), zx, w.data(), b, m.data(), perChannel, zy, got.data(),
                                  nullptr, relu ? zy : INT32_MIN, INT32_MAX);
                for (size_t i = 0; i < got.size(); ++i)
                    if (got[i] != expected[i])
                        QFAIL(
                            qPrintable(QStringLiteral("kernel %1 stride %2 dilation %3 multiplier %4 %5x%6: "
                                                      "y[%7] = %8, expected %9")
                                           .arg(cs.kernel)
                                           .arg(cs.stride)
                                           .arg(cs.dilation)
                                           .arg(cs.multiplier)
                                           .arg(s.height)
                                           .arg(s.width)
                                           .arg(i)
                                           .arg(got[i])
                                           .arg(expected[i])));
            }
    }

    void depthwiseBadInputIsRefused() {
        const KernelTable& scalar = KernelRegistry::scalarTable();
        DepthwiseConvShape s;
        s.channels = 1;
        s.height = 2;
        s.width = 2; // a 3x3 kernel without padding does not fit
        std::vector<uint8_t> x(4), y(4);
        std::vector<int8_t> w(9);
        const FixedPointMultiplier m(0.1);
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8DepthwiseConv(scalar, s, x.data(), 0, w.data(),
                                                                      nullptr, &m, false, 0, y.data()));
        s.padTop = s.padLeft = s.padBottom = s.padRight = 1;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8DepthwiseConv(scalar, s, x.data(), 256, w.data(),
                                                                      nullptr, &m, false, 0, y.data()));
        s.strideH = 0;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8DepthwiseConv(scalar, s, x.data(), 0, w.data(),
                                                                      nullptr, &m, false, 0, y.data()));
    }

    // A full QLinearConv (3 input channels, 4 output channels, 3x3, stride 2, pad 1) as im2row +
    // int8GemmRequantizeU8 + transposeU8 equals the definition; also a 1x1 (the transpose path).
    void im2rowGemmIsConvolution_data() { kerneltest::addPathRows(); }
    void im2rowGemmIsConvolution() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("im2rowGemmIsConvolution"));
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
        for (int kernel : {3, 1}) {
            Conv2dGeometry g;
            g.channels = 3;
            g.height = 9;
            g.width = 10;
            g.kernelH = g.kernelW = kernel;
            g.strideH = g.strideW = kernel == 3 ? 2 : 1;
            g.padTop = g.padLeft = g.padBottom = g.padRight = kernel == 3 ? 1 : 0;
            const int outChannels = 4, m = g.rows(), k = g.patch();
            std::vector<uint8_t> x(static_cast<size_t>(g.channels) * g.height * g.width);
            std::vector<int8_t> w(static_cast<size_t>(outChannels) * k);
            for (auto& v : x)
                v = static_cast<uint8_t>(u8(rng));
            for (auto& v : w)
                v = static_cast<int8_t>(s8(rng));
            const int32_t zx = 37, zy = 120;
            std::vector<FixedPointMultiplier> mult;
            for (int c = 0; c < outChannels; ++c)
                mult.emplace_back(0.002 * (c + 1));
            std::vector<uint8_t> rows(static_cast<size_t>(m) * k), gemm(static_cast<size_t>(m) * outChannels),
                y(gemm.size());
            im2rowU8(g, x.data(), static_cast<uint8_t>(zx), rows.data());
            const PackedInt8Weights packed(table, w.data(), outChannels, k, 0);
            int8GemmRequantizeU8(table, QuantizedActivations{rows.data(), m, k, zx, 1.0f}, packed,
                                 mult.data(), true, nullptr, zy, gemm.data());
            transposeU8(gemm.data(), m, outChannels, y.data());
            // The definition (depthwise reference with channel multiplier 1 cannot do a full conv).
            const int outH = g.outHeight(), outW = g.outWidth();
            for (int oc = 0; oc < outChannels; ++oc)
                for (int i = 0; i < outH; ++i)
                    for (int j = 0; j < outW; ++j) {
                        int64_t acc = 0;
                        for (int c = 0; c < g.channels; ++c)
                            for (int kh = 0; kh < kernel; ++kh)
                                for (int kw = 0; kw < kernel; ++kw) {
                                    const int ih = i * g.strideH - g.padTop + kh,
                                              iw = j * g.strideW - g.padLeft + kw;
                                    const int32_t v =
                                        ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                                            ? x[(static_cast<size_t>(c) * g.height + ih) * g.width + iw]
                                            : zx;
                                    acc += int64_t{v - zx} *
                                           w[((static_cast<size_t>(oc) * g.channels + c) * kernel + kh) *
                                                 kernel +
                                             kw];
                                }
                        const int32_t expected = requantized(acc, mult[static_cast<size_t>(oc)], zy, 0, 255);
                        QCOMPARE(static_cast<int32_t>(y[(static_cast<size_t>(oc) * outH + i) * outW + j]),
                                 expected);
                    }
        }
    }

    // im2row against its definition for kernel widths 1..9 (the short-line copies and the plain
    // loop), strides, dilations and pads; the row buffer is followed by guard bytes no call may touch.
    void im2rowMatchesDefinition() {
        std::mt19937 rng(kerneltest::seed("im2rowMatchesDefinition"));
        std::uniform_int_distribution<int> u8(0, 255);
        struct Case {
            int channels, height, width, kernelH, kernelW, stride, pad, dilationW;
        };
        for (const Case& t :
             {Case{2, 7, 9, 3, 3, 1, 1, 1}, Case{3, 9, 11, 3, 3, 2, 1, 1}, Case{1, 5, 6, 1, 1, 1, 0, 1},
              Case{2, 6, 7, 1, 2, 1, 0, 1}, Case{3, 11, 12, 7, 7, 2, 3, 1}, Case{2, 8, 13, 5, 5, 1, 2, 1},
              Case{2, 9, 14, 3, 8, 1, 0, 1}, Case{1, 10, 20, 3, 9, 1, 4, 1}, Case{2, 9, 12, 3, 3, 1, 2, 2},
              Case{4, 5, 5, 4, 4, 1, 0, 1}}) {
            Conv2dGeometry g;
            g.channels = t.channels;
            g.height = t.height;
            g.width = t.width;
            g.kernelH = t.kernelH;
            g.kernelW = t.kernelW;
            g.strideH = g.strideW = t.stride;
            g.padTop = g.padLeft = g.padBottom = g.padRight = t.pad;
            g.dilationW = t.dilationW;
            std::vector<uint8_t> x(static_cast<size_t>(g.channels) * g.height * g.width);
            for (auto& v : x)
                v = static_cast<uint8_t>(u8(rng));
            const size_t k = static_cast<size_t>(g.patch());
            const size_t size = static_cast<size_t>(g.rows()) * k;
            std::vector<uint8_t> rows(size + 16, 0xA5);
            const uint8_t zeroPoint = 77;
            im2rowU8(g, x.data(), zeroPoint, rows.data());
            const int outH = g.outHeight(), outW = g.outWidth();
            for (int oh = 0; oh < outH; ++oh)
                for (int ow = 0; ow < outW; ++ow)
                    for (int c = 0; c < g.channels; ++c)
                        for (int kh = 0; kh < g.kernelH; ++kh)
                            for (int kw = 0; kw < g.kernelW; ++kw) {
                                const int ih = oh * g.strideH - g.padTop + kh * g.dilationH;
                                const int iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
                                const uint8_t expected =
                                    ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                                        ? x[(static_cast<size_t>(c) * g.height + ih) * g.width + iw]
                                        : zeroPoint;
                                const size_t at = (static_cast<size_t>(oh) * outW + ow) * k +
                                                  (static_cast<size_t>(c) * g.kernelH + kh) * g.kernelW + kw;
                                QCOMPARE(rows[at], expected);
                            }
            for (size_t i = size; i < rows.size(); ++i)
                QCOMPARE(rows[i], uint8_t{0xA5});
        }
    }

    void transposeMatchesDefinition() {
        std::mt19937 rng(kerneltest::seed("transposeMatchesDefinition"));
        std::uniform_int_distribution<int> u8(0, 255);
        for (auto [rows, cols] : {std::pair{1, 1},
                                  {1, 17},
                                  {17, 1},
                                  {15, 16},
                                  {16, 16},
                                  {33, 47},
                                  {64, 64},
                                  {50, 96},
                                  {3136, 24}}) {
            std::vector<uint8_t> src(static_cast<size_t>(rows) * cols), dst(src.size());
            for (auto& v : src)
                v = static_cast<uint8_t>(u8(rng));
            transposeU8(src.data(), rows, cols, dst.data());
            for (int r = 0; r < rows; ++r)
                for (int c = 0; c < cols; ++c)
                    QCOMPARE(dst[static_cast<size_t>(c) * rows + r], src[static_cast<size_t>(r) * cols + c]);
        }
    }
};

QTEST_GUILESS_MAIN(TestKernelsConv)
#include "tst_kernels_conv.moc"
