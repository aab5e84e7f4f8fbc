// The u8 lookup table and QLinearAdd / QLinearMul on every usable path, byte for byte against the
// plain float32 rule of ONNX Runtime's reference (written again here): every pair of input levels,
// a broadcast scalar b, lengths across the vector tails, and saturation at both ends.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/QLinearElementwise.h"

#include <QtTest>

#include <cmath>
#include <random>
#include <vector>

using namespace quantscope::kernels;

namespace {

uint8_t expectedBinary(uint8_t a, uint8_t b, const QLinearBinaryParams& p, bool mul) {
    const float va = p.scaleA * static_cast<float>(a - p.zeroA);
    const float vb = p.scaleB * static_cast<float>(b - p.zeroB);
    const float c = std::nearbyint((mul ? va * vb : va + vb) / p.scaleC);
    const double level = static_cast<double>(c) + p.zeroC;
    return static_cast<uint8_t>(level < 0 ? 0 : level > 255 ? 255 : level);
}

} // namespace

class TestKernelsQLinear : public QObject {
    Q_OBJECT

private slots:
    void lookupMatchesTable_data() { kerneltest::addPathRows(); }
    void lookupMatchesTable() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("lookupMatchesTable"));
        std::uniform_int_distribution<int> u8(0, 255);
        std::vector<uint8_t> lut(256);
        for (auto& v : lut)
            v = static_cast<uint8_t>(u8(rng));
        for (size_t count :
             {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{256}, size_t{1000}}) {
            std::vector<uint8_t> x(count), y(count, 0);
            for (size_t i = 0; i < count; ++i)
                x[i] = static_cast<uint8_t>(count == 256 ? i : static_cast<size_t>(u8(rng)));
            lookupU8(table, lut.data(), x.data(), count, y.data());
            for (size_t i = 0; i < count; ++i)
                QCOMPARE(y[i], lut[x[i]]);
        }
    }

    void binaryMatchesReference_data() { kerneltest::addPathRows(); }
    void binaryMatchesReference() {
        KERNEL_PATH_OR_SKIP(table);
        // Every (a, b) pair: a runs over 256 levels in each block of 256, b is the block index.
        std::vector<uint8_t> a(65536), b(65536), y(65536);
        for (size_t i = 0; i < a.size(); ++i) {
            a[i] = static_cast<uint8_t>(i % 256);
            b[i] = static_cast<uint8_t>(i / 256);
        }
        const QLinearBinaryParams cases[] = {{0.02f, 128, 0.03f, 100, 0.05f, 120},
                                             {0.1f, 0, 0.1f, 0, 0.1f, 0}, // exact ties of .5
                                             {0.0039215689f, 0, 0.0078431377f, 128, 0.0117647061f, 77},
                                             {1.5f, 255, 0.001f, 3, 0.004f, 250}};
        for (const QLinearBinaryParams& p : cases)
            for (bool mul : {false, true}) {
                if (mul)
                    qlinearMulU8(table, a.data(), b.data(), false, a.size(), p, y.data());
                else
                    qlinearAddU8(table, a.data(), b.data(), false, a.size(), p, y.data());
                for (size_t i = 0; i < a.size(); ++i)
                    if (y[i] != expectedBinary(a[i], b[i], p, mul))
                        QFAIL(qPrintable(QStringLiteral("%1(%2, %3) = %4, expected %5")
                                             .arg(mul ? "mul" : "add")
                                             .arg(a[i])
                                             .arg(b[i])
                                             .arg(y[i])
                                             .arg(expectedBinary(a[i], b[i], p, mul))));
                // b broadcast, odd lengths
                for (size_t count : {size_t{1}, size_t{7}, size_t{9}, size_t{255}}) {
                    const uint8_t scalar = 200;
                    std::vector<uint8_t> out(count);
                    if (mul)
                        qlinearMulU8(table, a.data(), &scalar, true, count, p, out.data());
                    else
                        qlinearAddU8(table, a.data(), &scalar, true, count, p, out.data());
                    for (size_t i = 0; i < count; ++i)
                        QCOMPARE(out[i], expectedBinary(a[i], scalar, p, mul));
                }
            }
    }

    void badParametersAreRefused() {
        const KernelTable& scalar = KernelRegistry::scalarTable();
        uint8_t a = 1, y = 0;
        QLinearBinaryParams p;
        p.scaleC = 0.0f;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, qlinearAddU8(scalar, &a, &a, false, 1, p, &y));
        p.scaleC = 1.0f;
        p.zeroA = 256;
        QVERIFY_THROWS_EXCEPTION(quantscope::Error, qlinearMulU8(scalar, &a, &a, false, 1, p, &y));
    }
};

QTEST_GUILESS_MAIN(TestKernelsQLinear)
#include "tst_kernels_qlinear.moc"
