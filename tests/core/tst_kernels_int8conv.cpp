// kernels::int8ConvRequantizeU8 and int8ConvDequantize (NHWC window tiles + the int8 GEMM, no
// im2col matrix; the float output with per-image zero points and scales, bit for bit) against
// plain loops of ONNX QLinearConv's definition and, byte for byte, against the im2row + GEMM +
// transpose route it replaces in the static pipeline: every usable path, 1 and 2 threads, odd
// channel counts, 1 x 1 (stride 1 and 2), 3 x 3, 7 x 7 stride 2, asymmetric pads, dilation,
// tiles that cross images and end in tails, a weight zero point, bias and clamps.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/Int8Conv.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/ThreadPool.h"

#include <QtTest>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

using namespace quantscope::kernels;

namespace {

struct ConvCase {
    int batch, channels, height, width, outChannels, kernelH, kernelW, stride;
    int pads[4]; // top, left, bottom, right
    int dilation;
    int32_t weightZeroPoint;
    int dilationW = 0; // 0: the same as dilation
};

Conv2dGeometry geometryOf(const ConvCase& t) {
    Conv2dGeometry g;
    g.channels = t.channels;
    g.height = t.height;
    g.width = t.width;
    g.kernelH = t.kernelH;
    g.kernelW = t.kernelW;
    g.strideH = g.strideW = t.stride;
    g.padTop = t.pads[0];
    g.padLeft = t.pads[1];
    g.padBottom = t.pads[2];
    g.padRight = t.pads[3];
    g.dilationH = t.dilation;
    g.dilationW = t.dilationW ? t.dilationW : t.dilation;
    return g;
}

// The shapes every test here runs.
const ConvCase kCases[] = {
    {2, 3, 17, 19, 5, 3, 3, 1, {1, 1, 1, 1}, 1, 0},     // odd sizes, tails everywhere
    {3, 16, 11, 13, 17, 3, 3, 2, {1, 1, 1, 1}, 1, 3},   // stride 2, tiles cross images
    {2, 3, 23, 21, 8, 7, 7, 2, {3, 3, 3, 3}, 1, 0},     // the ResNet stem's shape
    {3, 24, 9, 10, 33, 1, 1, 1, {0, 0, 0, 0}, 1, -2},   // pointwise: rows are NHWC pixels
    {2, 20, 12, 9, 16, 1, 1, 2, {0, 0, 0, 0}, 1, 0},    // 1 x 1 stride 2 (a downsample)
    {1, 5, 10, 12, 7, 3, 2, 1, {0, 2, 1, 0}, 1, 1},     // asymmetric pads, KH != KW
    {2, 4, 12, 12, 6, 3, 3, 1, {2, 2, 2, 2}, 2, 0},     // dilation 2
    {2, 300, 6, 5, 40, 3, 3, 1, {1, 1, 1, 1}, 1, -128}, // K = 2700: short tiles, many of them
    {1, 2, 3, 3, 1, 3, 3, 1, {0, 0, 0, 0}, 1, 0},       // one output pixel, one channel
    {2, 6, 9, 11, 18, 3, 3, 1, {1, 1, 1, 1}, 2, 5, 1},  // dilation 2 along H only: windows in place
    {2, 7, 8, 9, 9, 3, 2, 2, {1, 0, 2, 1}, 1, 0},       // odd C, KW * C even: windows in place
    // Enough pixels for tiles on both threads (not one tile split by panels): windows in place,
    // kernel rows of an odd KW * C (read one value longer against a zero-point weight) and even.
    {4, 3, 20, 21, 10, 7, 7, 2, {3, 3, 3, 3}, 1, 5},
    {3, 8, 14, 15, 20, 3, 3, 1, {1, 1, 1, 1}, 1, -4},
};

// QLinearConv from its definition: padded positions read zx; the sum in 64 bits, the bias, the
// fixed-point multiplier, the zero point and the clamp.
std::vector<uint8_t> definition(const ConvCase& t, const Conv2dGeometry& g, const std::vector<uint8_t>& x,
                                int32_t zx, const std::vector<int8_t>& w, const std::vector<int32_t>& bias,
                                const std::vector<FixedPointMultiplier>& m, int32_t zy, int32_t lo,
                                int32_t hi) {
    const int outH = g.outHeight(), outW = g.outWidth();
    std::vector<uint8_t> y(static_cast<size_t>(t.batch) * t.outChannels * outH * outW);
    size_t at = 0;
    for (int n = 0; n < t.batch; ++n)
        for (int o = 0; o < t.outChannels; ++o)
            for (int i = 0; i < outH; ++i)
                for (int j = 0; j < outW; ++j) {
                    int64_t acc = 0;
                    for (int c = 0; c < t.channels; ++c)
                        for (int kh = 0; kh < t.kernelH; ++kh)
                            for (int kw = 0; kw < t.kernelW; ++kw) {
                                const int ih = i * g.strideH - g.padTop + kh * g.dilationH;
                                const int iw = j * g.strideW - g.padLeft + kw * g.dilationW;
                                const int32_t v =
                                    ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                                        ? x[((static_cast<size_t>(n) * t.channels + c) * g.height + ih) *
                                                g.width +
                                            iw]
                                        : zx;
                                const int32_t wv =
                                    w[((static_cast<size_t>(o) * t.channels + c) * t.kernelH + kh) *
                                          t.kernelW +
                                      kw];
                                acc += int64_t{v - zx} * (wv - t.weightZeroPoint);
                            }
                    const int32_t withBias = static_cast<int32_t>(acc + bias[static_cast<size_t>(o)]);
                    const int64_t out = int64_t{m[static_cast<size_t>(o)].apply(withBias)} + zy;
                    y[at++] = static_cast<uint8_t>(std::clamp<int64_t>(out, lo, hi));
                }
    return y;
}

// Random input codes, weights and biases for case t.
struct ConvData {
    std::vector<uint8_t> x;
    std::vector<int8_t> w;
    std::vector<int32_t> bias;
};
ConvData randomConvData(const ConvCase& t, int k, std::mt19937& rng) {
    std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127), biasValue(-3000, 3000);
    ConvData data;
    data.x.resize(static_cast<size_t>(t.batch) * t.channels * t.height * t.width);
    for (auto& v : data.x)
        v = static_cast<uint8_t>(u8(rng));
    data.w.resize(static_cast<size_t>(t.outChannels) * k);
    for (auto& v : data.w)
        v = static_cast<int8_t>(s8(rng));
    data.bias.resize(static_cast<size_t>(t.outChannels));
    for (auto& v : data.bias)
        v = biasValue(rng);
    return data;
}

// int8ConvRequantizeU8 on HWC-packed weights; checks that nothing is written past the output.
std::vector<uint8_t> requantizeRoute(const KernelTable& table, const ConvCase& t, const Conv2dGeometry& g,
                                     const ConvData& data, int32_t zx,
                                     const std::vector<FixedPointMultiplier>& m, int32_t zy, int32_t lo,
                                     int32_t hi, ThreadPool& pool, bool perChannel = true) {
    const int k = g.patch();
    const std::vector<int8_t> hwc =
        convWeightsToHwc(data.w.data(), t.outChannels, t.channels, t.kernelH, t.kernelW);
    const PackedInt8Weights packed(table, hwc.data(), t.outChannels, k, t.weightZeroPoint);
    const size_t size = static_cast<size_t>(t.batch) * t.outChannels * g.rows();
    std::vector<uint8_t> y(size + 16, 0xA5); // guard bytes after the output
    int8ConvRequantizeU8(table, g, t.batch, data.x.data(), zx, packed, m.data(), perChannel, data.bias.data(),
                         zy, y.data(), &pool, lo, hi);
    for (size_t i = size; i < y.size(); ++i)
        if (y[i] != 0xA5)
            return {}; // fails the caller's comparison
    y.resize(size);
    return y;
}

// The route the static pipeline took before: im2row per image, the GEMM on ONNX-order weights,
// the pixels x channels result transposed into NCHW.
std::vector<uint8_t> im2rowRoute(const KernelTable& table, const ConvCase& t, const Conv2dGeometry& g,
                                 const std::vector<uint8_t>& x, int32_t zx, const std::vector<int8_t>& w,
                                 const std::vector<int32_t>& bias, const std::vector<FixedPointMultiplier>& m,
                                 int32_t zy, int32_t lo, int32_t hi) {
    const int rows = g.rows(), k = g.patch();
    const PackedInt8Weights packed(table, w.data(), t.outChannels, k, t.weightZeroPoint);
    std::vector<uint8_t> y(static_cast<size_t>(t.batch) * t.outChannels * rows);
    std::vector<uint8_t> im2row(static_cast<size_t>(rows) * k),
        gemm(static_cast<size_t>(rows) * t.outChannels);
    const size_t imageBytes = static_cast<size_t>(t.channels) * g.height * g.width;
    for (int n = 0; n < t.batch; ++n) {
        im2rowU8(g, x.data() + n * imageBytes, static_cast<uint8_t>(zx), im2row.data());
        int8GemmRequantizeU8(table, QuantizedActivations{im2row.data(), rows, k, zx, 1.0f}, packed, m.data(),
                             true, bias.data(), zy, gemm.data(), nullptr, lo, hi);
        transposeU8(gemm.data(), rows, t.outChannels,
                    y.data() + static_cast<size_t>(n) * t.outChannels * rows);
    }
    return y;
}

// The sum of one output of image n, channel o, pixel (i, j) from the definition, in 64 bits.
int64_t windowSum(const ConvCase& t, const Conv2dGeometry& g, const std::vector<uint8_t>& x, int32_t zx,
                  const std::vector<int8_t>& w, int n, int o, int i, int j) {
    int64_t acc = 0;
    for (int c = 0; c < t.channels; ++c)
        for (int kh = 0; kh < t.kernelH; ++kh)
            for (int kw = 0; kw < t.kernelW; ++kw) {
                const int ih = i * g.strideH - g.padTop + kh * g.dilationH;
                const int iw = j * g.strideW - g.padLeft + kw * g.dilationW;
                const int32_t v =
                    ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                        ? x[((static_cast<size_t>(n) * t.channels + c) * g.height + ih) * g.width + iw]
                        : zx;
                const int32_t wv =
                    w[((static_cast<size_t>(o) * t.channels + c) * t.kernelH + kh) * t.kernelW + kw];
                acc += int64_t{v - zx} * (wv - t.weightZeroPoint);
            }
    return acc;
}

// int8ConvDequantize's definition: each image's own zero point and scale, the float expression
// float(acc) * (sx[n] * sw[o]) + (bias or 0).
std::vector<float> dequantizeDefinition(const ConvCase& t, const Conv2dGeometry& g,
                                        const std::vector<uint8_t>& x, const std::vector<int32_t>& zx,
                                        const std::vector<float>& sx, const std::vector<int8_t>& w,
                                        const std::vector<float>& sw, bool perChannel, const float* bias) {
    const int outH = g.outHeight(), outW = g.outWidth();
    std::vector<float> y(static_cast<size_t>(t.batch) * t.outChannels * outH * outW);
    size_t at = 0;
    for (int n = 0; n < t.batch; ++n)
        for (int o = 0; o < t.outChannels; ++o) {
            const float scale = sx[static_cast<size_t>(n)] * sw[perChannel ? static_cast<size_t>(o) : 0];
            const float add = bias ? bias[o] : 0.0f;
            for (int i = 0; i < outH; ++i)
                for (int j = 0; j < outW; ++j) {
                    const int64_t acc = windowSum(t, g, x, zx[static_cast<size_t>(n)], w, n, o, i, j);
                    y[at++] = static_cast<float>(static_cast<int32_t>(acc)) * scale + add;
                }
        }
    return y;
}

// Bit patterns, so that -0.0f and 0.0f differ and the comparison is exact.
std::vector<uint32_t> bitsOf(const float* values, size_t count) {
    std::vector<uint32_t> bits(count);
    std::memcpy(bits.data(), values, count * sizeof(float));
    return bits;
}

} // namespace

class TestKernelsInt8Conv : public QObject {
    Q_OBJECT

private slots:
    void weightsToHwc() {
        // [OC=2][C=3][KH=1][KW=2] -> [OC][KH][KW][C]
        const std::vector<int8_t> onnx{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
        const std::vector<int8_t> expected{1, 3, 5, 2, 4, 6, -1, -3, -5, -2, -4, -6};
        QCOMPARE(convWeightsToHwc(onnx.data(), 2, 3, 1, 2), expected);
    }

    void matchesDefinitionAndIm2row_data() {
        QTest::addColumn<int>("path");
        QTest::addColumn<int>("threads");
        for (const auto& entry : KernelRegistry::entries())
            for (int threads : {1, 2})
                QTest::newRow(
                    (std::string(isaName(entry.path)) + " " + std::to_string(threads) + " thread").c_str())
                    << static_cast<int>(entry.path) << threads;
    }
    void matchesDefinitionAndIm2row() {
        KERNEL_PATH_OR_SKIP(table);
        QFETCH(int, threads);
        std::mt19937 rng(kerneltest::seed("matchesDefinitionAndIm2row"));
        std::uniform_int_distribution<int> u8(0, 255);
        std::uniform_real_distribution<double> real(2e-3, 2e-2); // outputs spread over the codes
        ThreadPool pool(threads);
        for (const ConvCase& t : kCases) {
            const Conv2dGeometry g = geometryOf(t);
            const int k = g.patch();
            const ConvData data = randomConvData(t, k, rng);
            std::vector<FixedPointMultiplier> m;
            for (int o = 0; o < t.outChannels; ++o)
                m.emplace_back(real(rng) / std::sqrt(static_cast<double>(k)));
            const int32_t zx = u8(rng), zy = u8(rng);
            for (auto [lo, hi] : {std::pair{0, 255}, {zy, 255}, {40, 200}}) {
                const std::vector<uint8_t> expected =
                    definition(t, g, data.x, zx, data.w, data.bias, m, zy, lo, hi);
                QCOMPARE(im2rowRoute(table, t, g, data.x, zx, data.w, data.bias, m, zy, lo, hi), expected);
                QCOMPARE(requantizeRoute(table, t, g, data, zx, m, zy, lo, hi, pool), expected);
            }
        }
    }

    // 1 x 1 stride-1 convolutions with symmetric weights, which the AVX-512 path computes on the
    // NCHW codes directly (pixels as vector lanes, no NHWC copy): planes of fewer than 16 pixels
    // and of sizes that are not multiples of 16 (vectors and tiles of 48 pixels crossing images),
    // C not a multiple of 4, OC not a multiple of the 8-channel block and over several 48-column
    // weight panels, enough tiles for both threads and too few (channel blocks split), per-tensor
    // and per-channel multipliers, input zero points 0, 128 and 255, with and without clamps.
    void pointwiseMatchesDefinitionAndIm2row_data() { matchesDefinitionAndIm2row_data(); }
    void pointwiseMatchesDefinitionAndIm2row() {
        KERNEL_PATH_OR_SKIP(table);
        QFETCH(int, threads);
        if (isaPath == IsaPath::Avx512) // the direct NCHW kernel is the one under test here
            QVERIFY(table.pointwiseConvU8 != nullptr);
        std::mt19937 rng(kerneltest::seed("pointwiseMatchesDefinitionAndIm2row"));
        std::uniform_int_distribution<int> u8(0, 255);
        std::uniform_real_distribution<double> real(2e-3, 2e-2);
        ThreadPool pool(threads);
        const ConvCase cases[] = {
            {2, 5, 7, 7, 13, 1, 1, 1, {0, 0, 0, 0}, 1, 0},    // 49 pixels, C % 4 = 1, OC % 8 = 5
            {5, 8, 3, 5, 10, 1, 1, 1, {0, 0, 0, 0}, 1, 0},    // 15 pixels: vectors span 2-4 images
            {1, 3, 4, 3, 9, 1, 1, 1, {0, 0, 0, 0}, 1, 0},     // 12 pixels, one image, C = 3
            {3, 16, 5, 9, 24, 1, 1, 1, {0, 0, 0, 0}, 1, 0},   // 45 pixels
            {2, 37, 8, 8, 100, 1, 1, 1, {0, 0, 0, 0}, 1, 0},  // 3 weight panels, the last partial
            {1, 64, 14, 14, 50, 1, 1, 1, {0, 0, 0, 0}, 1, 0}, // 196 pixels of one image
            {32, 12, 7, 7, 20, 1, 1, 1, {0, 0, 0, 0}, 1, 0},  // 33 tiles over 32 images
            {1, 1, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 0},     // one value
            {1, 258, 2, 3, 7, 1, 1, 1, {0, 0, 0, 0}, 1, 0},   // C = 258: large sums
        };
        std::uniform_int_distribution<int32_t> anyInt32(INT32_MIN, INT32_MAX);
        for (const ConvCase& t : cases) {
            const Conv2dGeometry g = geometryOf(t);
            const int k = g.patch();
            const ConvData data = randomConvData(t, k, rng);
            // Biases over the whole int32 range with multipliers near 1e-7 (shift about -23):
            // sums that wrap modulo 2^32 and the long rounding shifts of tiny multipliers.
            ConvData wide = data;
            for (auto& b : wide.bias)
                b = anyInt32(rng);
            for (const auto& [d, range] : {std::pair{&data, 1.0}, {&wide, 1e-5}})
                for (bool perChannel : {true, false}) {
                    std::vector<FixedPointMultiplier> m;
                    for (int o = 0; o < t.outChannels; ++o)
                        m.emplace_back(real(rng) * range / std::sqrt(static_cast<double>(k)));
                    if (t.outChannels > 4 && range == 1.0) {
                        // Multipliers of 1 and more (the kernel's general lane arithmetic), and
                        // just below 1 (its shortcut for multipliers below 1 at shift 0).
                        m[1] = FixedPointMultiplier(1.75);
                        m[2] = FixedPointMultiplier(0.99999);
                        m[3] = FixedPointMultiplier(1.0);
                    }
                    // The definition and the im2row route read one multiplier per channel.
                    const std::vector<FixedPointMultiplier> expanded =
                        perChannel ? m : std::vector<FixedPointMultiplier>(m.size(), m[0]);
                    for (int32_t zx : {0, 128, 255}) {
                        const int32_t zy = u8(rng);
                        for (auto [lo, hi] : {std::pair{0, 255}, {zy, 255}, {40, 200}}) {
                            const std::vector<uint8_t> expected =
                                definition(t, g, d->x, zx, d->w, d->bias, expanded, zy, lo, hi);
                            QCOMPARE(im2rowRoute(table, t, g, d->x, zx, d->w, d->bias, expanded, zy, lo, hi),
                                     expected);
                            QCOMPARE(requantizeRoute(table, t, g, *d, zx, m, zy, lo, hi, pool, perChannel),
                                     expected);
                        }
                    }
                }
        }
    }

    // Every image width from 1 to 17 (tiles of one or a few pixels, rows ending anywhere in a
    // register tile) with even and odd KW * C (windows read in place, or gathered), strides 1 and
    // 2, the weights' zero point 0 (row sums unused) and not.
    void everyWidthMatchesDefinition_data() { matchesDefinitionAndIm2row_data(); }
    void everyWidthMatchesDefinition() {
        KERNEL_PATH_OR_SKIP(table);
        QFETCH(int, threads);
        std::mt19937 rng(kerneltest::seed("everyWidthMatchesDefinition"));
        std::uniform_int_distribution<int> u8(0, 255);
        ThreadPool pool(threads);
        for (int width = 1; width <= 17; ++width)
            for (const auto& [channels, kernelW, stride, zw] :
                 {std::tuple{4, 3, 1, 0}, {3, 2, 2, -3}, {5, 3, 1, 7}, {1, 1, 1, 0}}) {
                const ConvCase t{2,
                                 channels,
                                 3 + width % 4,
                                 width,
                                 3 + width % 5,
                                 3,
                                 kernelW,
                                 stride,
                                 {1, kernelW / 2, 1, kernelW / 2},
                                 1,
                                 zw};
                const Conv2dGeometry g = geometryOf(t);
                const int k = g.patch();
                const ConvData data = randomConvData(t, k, rng);
                std::vector<FixedPointMultiplier> m;
                for (int o = 0; o < t.outChannels; ++o)
                    m.emplace_back(0.01 / std::sqrt(static_cast<double>(k)) * (1 + o % 3));
                const int32_t zx = u8(rng), zy = u8(rng);
                QCOMPARE(requantizeRoute(table, t, g, data, zx, m, zy, 0, 255, pool),
                         definition(t, g, data.x, zx, data.w, data.bias, m, zy, 0, 255));
            }
    }

    void dequantizeMatchesDefinition_data() { matchesDefinitionAndIm2row_data(); }
    void dequantizeMatchesDefinition() {
        KERNEL_PATH_OR_SKIP(table);
        QFETCH(int, threads);
        std::mt19937 rng(kerneltest::seed("dequantizeMatchesDefinition"));
        std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
        std::uniform_real_distribution<float> scale(1e-3f, 5e-2f), biasValue(-2.0f, 2.0f);
        ThreadPool pool(threads);
        for (const ConvCase& t : kCases) {
            const Conv2dGeometry g = geometryOf(t);
            const int k = g.patch();
            std::vector<uint8_t> x(static_cast<size_t>(t.batch) * t.channels * t.height * t.width);
            for (auto& v : x)
                v = static_cast<uint8_t>(u8(rng));
            std::vector<int8_t> w(static_cast<size_t>(t.outChannels) * k);
            for (auto& v : w)
                v = static_cast<int8_t>(s8(rng));
            std::vector<float> sw(static_cast<size_t>(t.outChannels)), bias(sw.size());
            for (size_t o = 0; o < sw.size(); ++o) {
                sw[o] = scale(rng);
                bias[o] = biasValue(rng);
            }
            // Each image its own zero point (the first at the ends of the range) and scale.
            std::vector<int32_t> zx(static_cast<size_t>(t.batch));
            std::vector<float> sx(zx.size());
            for (size_t n = 0; n < zx.size(); ++n) {
                zx[n] = n == 0 ? (t.weightZeroPoint < 0 ? 255 : 0) : u8(rng);
                sx[n] = scale(rng);
            }
            const std::vector<int8_t> hwc =
                convWeightsToHwc(w.data(), t.outChannels, t.channels, t.kernelH, t.kernelW);
            const PackedInt8Weights packed(table, hwc.data(), t.outChannels, k, t.weightZeroPoint);
            for (bool perChannel : {true, false})
                for (const float* b :
                     {static_cast<const float*>(bias.data()), static_cast<const float*>(nullptr)}) {
                    const std::vector<float> expected =
                        dequantizeDefinition(t, g, x, zx, sx, w, sw, perChannel, b);
                    std::vector<float> y(expected.size() + 16, 1234.5f); // guard values after the output
                    int8ConvDequantize(table, g, t.batch, x.data(), zx.data(), sx.data(), packed, sw.data(),
                                       perChannel, b, y.data(), &pool);
                    QCOMPARE(bitsOf(y.data(), expected.size()), bitsOf(expected.data(), expected.size()));
                    for (size_t i = expected.size(); i < y.size(); ++i)
                        QCOMPARE(y[i], 1234.5f);
                }
        }
    }

    void dequantizeRefusesBadInput() {
        const KernelTable& scalar = KernelRegistry::scalarTable();
        Conv2dGeometry g;
        g.channels = 2;
        g.height = g.width = 4;
        g.kernelH = g.kernelW = 3;
        std::vector<uint8_t> x(64);
        std::vector<float> y(64);
        const std::vector<int8_t> w(2 * 18, 1);
        const PackedInt8Weights packed(scalar, w.data(), 2, 18);
        const PackedInt8Weights wrongK(scalar, w.data(), 2, 17);
        const std::vector<int32_t> zeroPoints{3, 256};
        const std::vector<float> scales{0.5f, 0.5f};
        const float sw = 0.25f;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error,
                                 int8ConvDequantize(scalar, g, 1, x.data(), zeroPoints.data(), scales.data(),
                                                    wrongK, &sw, false, nullptr, y.data()));
        // The second image's zero point is outside [0, 255].
        QVERIFY_THROWS_EXCEPTION(quantscope::Error,
                                 int8ConvDequantize(scalar, g, 2, x.data(), zeroPoints.data(), scales.data(),
                                                    packed, &sw, false, nullptr, y.data()));
        QVERIFY_THROWS_EXCEPTION(quantscope::Error,
                                 int8ConvDequantize(scalar, g, 1, x.data(), nullptr, scales.data(), packed,
                                                    &sw, false, nullptr, y.data()));
        g.height = 2; // a 3 x 3 kernel without padding does not fit
        QVERIFY_THROWS_EXCEPTION(quantscope::Error,
                                 int8ConvDequantize(scalar, g, 1, x.data(), zeroPoints.data(), scales.data(),
                                                    packed, &sw, false, nullptr, y.data()));
    }

    void badInputIsRefused() {
        const KernelTable& scalar = KernelRegistry::scalarTable();
        Conv2dGeometry g;
        g.channels = 2;
        g.height = g.width = 4;
        g.kernelH = g.kernelW = 3;
        std::vector<uint8_t> x(32), y(64);
        const std::vector<int8_t> w(2 * 18, 1);
        const PackedInt8Weights packed(scalar, w.data(), 2, 18);
        const PackedInt8Weights wrongK(scalar, w.data(), 2, 17);
        const FixedPointMultiplier m(0.01);
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8ConvRequantizeU8(scalar, g, 1, x.data(), 0, wrongK,
                                                                         &m, false, nullptr, 0, y.data()));
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8ConvRequantizeU8(scalar, g, 1, x.data(), 256, packed,
                                                                         &m, false, nullptr, 0, y.data()));
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8ConvRequantizeU8(scalar, g, 0, x.data(), 0, packed,
                                                                         &m, false, nullptr, 0, y.data()));
        g.strideH = 0;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8ConvRequantizeU8(scalar, g, 1, x.data(), 0, packed,
                                                                         &m, false, nullptr, 0, y.data()));
        g.strideH = 1;
        g.height = 2; // a 3 x 3 kernel without padding does not fit
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, int8ConvRequantizeU8(scalar, g, 1, x.data(), 0, packed,
                                                                         &m, false, nullptr, 0, y.data()));
        // An empty clamp range, as int8GemmRequantizeU8 refuses it.
        g.height = 4;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error,
                                 int8ConvRequantizeU8(scalar, g, 1, x.data(), 0, packed, &m, false, nullptr,
                                                      0, y.data(), nullptr, 300, 400));
    }
};

QTEST_GUILESS_MAIN(TestKernelsInt8Conv)
#include "tst_kernels_int8conv.moc"
