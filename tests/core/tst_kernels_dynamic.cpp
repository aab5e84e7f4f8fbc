// Dynamic activation quantization (per row and per tensor) on every usable path against a plain
// loop: std::min / std::max over the finite values, PyTorch's parameter rule (computeBlockParams),
// and round-half-even of x times the float32 reciprocal; NaN, infinities and all-NaN rows included.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/DynamicQuantize.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace quantscope;
using namespace quantscope::kernels;

namespace {

struct Expected {
    std::vector<uint8_t> q;
    std::vector<float> scales;
    std::vector<int32_t> zeroPoints;
};

Expected plainLoop(const std::vector<float>& x, int rows, int cols, bool perRow, const QuantSpec& spec) {
    Expected e;
    const int blocks = perRow ? rows : 1;
    const int perBlock = perRow ? cols : rows * cols;
    for (int b = 0; b < blocks; ++b) {
        bool seen = false;
        float lo = 0, hi = 0;
        for (int i = 0; i < perBlock; ++i) {
            const float v = x[static_cast<size_t>(b) * perBlock + i];
            if (!std::isfinite(v))
                continue;
            lo = seen ? std::min(lo, v) : v;
            hi = seen ? std::max(hi, v) : v;
            seen = true;
        }
        float scale = 0;
        int32_t zp = 0;
        computeBlockParams(Range{lo, hi}, spec, scale, zp);
        e.scales.push_back(scale);
        e.zeroPoints.push_back(zp);
        const float inverse = 1.0f / scale;
        for (int i = 0; i < perBlock; ++i) {
            const float v = x[static_cast<size_t>(b) * perBlock + i];
            const float product = v * inverse;
            const double level = std::isnan(v) ? zp : static_cast<double>(std::nearbyint(product)) + zp;
            e.q.push_back(static_cast<uint8_t>(std::clamp<double>(level, static_cast<double>(spec.qmin()),
                                                                  static_cast<double>(spec.qmax()))));
        }
    }
    return e;
}

} // namespace

class TestKernelsDynamic : public QObject {
    Q_OBJECT

private slots:
    void matchesPlainLoop_data() { kerneltest::addPathRows(); }
    void matchesPlainLoop() {
        KERNEL_PATH_OR_SKIP(table);
        std::mt19937 rng(kerneltest::seed("matchesPlainLoop"));
        std::uniform_real_distribution<float> dist(-3.0f, 5.0f);
        ThreadPool pool(2);
        const float nan = std::numeric_limits<float>::quiet_NaN(),
                    inf = std::numeric_limits<float>::infinity();
        for (auto [rows, cols] : {std::pair{1, 1}, {3, 7}, {5, 33}, {17, 64}, {4, 1000}})
            for (bool perRow : {true, false})
                for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric})
                    for (bool reduceRange : {false, true}) {
                        QuantSpec spec;
                        spec.format = QuantFormat::integer(8, false);
                        spec.scheme = scheme;
                        spec.reduceRange = reduceRange;
                        std::vector<float> x(static_cast<size_t>(rows) * cols);
                        for (auto& v : x)
                            v = dist(rng);
                        x[0] = nan;
                        if (x.size() > 3)
                            x[3] = -inf;
                        if (x.size() > 5)
                            x[5] = inf;
                        if (rows > 2) // an all-NaN row
                            std::fill(x.begin() + cols, x.begin() + 2 * cols, nan);
                        const Expected e = plainLoop(x, rows, cols, perRow, spec);
                        std::vector<uint8_t> q(x.size());
                        std::vector<float> scales(static_cast<size_t>(rows));
                        std::vector<int32_t> zps(static_cast<size_t>(rows));
                        dynamicQuantizeU8(table, x.data(), rows, cols, perRow, spec, q.data(), scales.data(),
                                          zps.data(), rows > 4 ? &pool : nullptr);
                        QVERIFY(q == e.q);
                        for (size_t b = 0; b < e.scales.size(); ++b) {
                            QCOMPARE(scales[b], e.scales[b]);
                            QCOMPARE(zps[b], e.zeroPoints[b]);
                        }
                    }
    }

    // The parameters by hand for one row: [-1, 3] affine uint8 -> scale 4 / 255, zero point 64.
    void parametersByHand() {
        const std::vector<float> x = {-1.0f, 0.5f, 3.0f, 0.0f};
        QuantSpec spec;
        spec.format = QuantFormat::integer(8, false);
        std::vector<uint8_t> q(4);
        float scale = 0;
        int32_t zp = 0;
        dynamicQuantizeU8(KernelRegistry::scalarTable(), x.data(), 1, 4, true, spec, q.data(), &scale, &zp);
        QCOMPARE(scale, 4.0f / 255.0f);
        QCOMPARE(zp, 64);
        QCOMPARE(static_cast<int>(q[0]), 0);
        QCOMPARE(static_cast<int>(q[2]), 255);
        QCOMPARE(static_cast<int>(q[3]), 64);
        spec.format = QuantFormat::integer(8, true);
        QVERIFY_THROWS_EXCEPTION(Error, dynamicQuantizeU8(KernelRegistry::scalarTable(), x.data(), 1, 4, true,
                                                          spec, q.data(), &scale, &zp));
    }
};

QTEST_GUILESS_MAIN(TestKernelsDynamic)
#include "tst_kernels_dynamic.moc"
