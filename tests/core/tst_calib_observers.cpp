// The calibration observers, each checked against data whose right answer follows from its
// algorithm by hand (or, for the entropy search, against a literal transcription of the published
// procedure).
#include "quantscope/calib/AbsHistogram.h"
#include "quantscope/calib/EntropyObserver.h"
#include "quantscope/calib/HistogramObserver.h"
#include "quantscope/calib/MinMaxObserver.h"
#include "quantscope/calib/MovingAverageObserver.h"
#include "quantscope/calib/MseObserver.h"
#include "quantscope/calib/Observer.h"
#include "quantscope/calib/PercentileObserver.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

using namespace quantscope;

Q_DECLARE_METATYPE(std::vector<std::vector<float>>)

namespace {

constexpr unsigned kSeed = 20261126;

QuantSpec specFor(CalibMethod method, Scheme scheme = Scheme::Symmetric, const char* dtype = "int8") {
    QuantSpec spec;
    spec.format = QuantFormat::parse(dtype);
    spec.scheme = scheme;
    spec.calib = method;
    return spec;
}

const std::vector<CalibMethod>& allMethods() {
    static const std::vector<CalibMethod> methods = {CalibMethod::MinMax,     CalibMethod::MovingAverage,
                                                     CalibMethod::Percentile, CalibMethod::Mse,
                                                     CalibMethod::Entropy,    CalibMethod::Histogram};
    return methods;
}

Range rangeOf(const QuantSpec& spec, const std::vector<std::vector<float>>& batches) {
    auto observer = makeObserver(spec);
    for (const auto& batch : batches)
        observer->observe(batch);
    return observer->range();
}

// pytorch-quantization's _compute_amax_entropy written out literally (numpy.linspace,
// numpy.digitize, a Counter, scipy.stats.entropy), to check EntropyObserver::bestEdge's faster
// walk over runs of source bins.
int64_t literalEntropyEdge(const std::vector<int64_t>& counts, int64_t nbins) {
    std::vector<double> bins(counts.begin(), counts.end());
    bins[0] = bins[1];
    const auto stop = static_cast<int64_t>(bins.size());
    std::vector<double> divergences;
    std::vector<int64_t> arguments;
    for (int64_t i = 128; i <= stop; ++i) {
        std::vector<double> space(static_cast<std::size_t>(nbins) + 1);
        const double step = static_cast<double>(i) / static_cast<double>(nbins);
        for (int64_t k = 0; k <= nbins; ++k)
            space[static_cast<std::size_t>(k)] = static_cast<double>(k) * step;
        space.back() = static_cast<double>(i);
        std::vector<int64_t> digitized(static_cast<std::size_t>(i));
        for (int64_t j = 0; j < i; ++j) {
            const auto upper = std::upper_bound(space.begin(), space.end(), static_cast<double>(j));
            digitized[static_cast<std::size_t>(j)] = (upper - space.begin()) - 1;
            if (bins[static_cast<std::size_t>(j)] == 0.0)
                digitized[static_cast<std::size_t>(j)] = -1;
        }
        std::vector<double> newDensityCounts(static_cast<std::size_t>(nbins), 0.0);
        std::map<int64_t, int64_t> counter;
        for (int64_t j = 0; j < i; ++j) {
            const int64_t d = digitized[static_cast<std::size_t>(j)];
            if (d != -1)
                newDensityCounts[static_cast<std::size_t>(d)] += bins[static_cast<std::size_t>(j)];
            ++counter[d];
        }
        for (const auto& [key, value] : counter)
            if (key != -1)
                newDensityCounts[static_cast<std::size_t>(key)] /= static_cast<double>(value);
        std::vector<double> newDensity(static_cast<std::size_t>(i), 0.0);
        for (int64_t j = 0; j < i; ++j)
            if (digitized[static_cast<std::size_t>(j)] != -1)
                newDensity[static_cast<std::size_t>(j)] =
                    newDensityCounts[static_cast<std::size_t>(digitized[static_cast<std::size_t>(j)])];
        std::vector<double> reference(bins.begin(), bins.begin() + i);
        reference.back() += std::accumulate(bins.begin() + i, bins.end(), 0.0);
        const double sumP = std::accumulate(reference.begin(), reference.end(), 0.0);
        const double sumQ = std::accumulate(newDensity.begin(), newDensity.end(), 0.0);
        double entropy = 0.0;
        for (int64_t j = 0; j < i; ++j) {
            const double p = reference[static_cast<std::size_t>(j)] / sumP;
            const double q = newDensity[static_cast<std::size_t>(j)] / sumQ;
            if (p > 0.0)
                entropy += q > 0.0 ? p * std::log(p / q) : std::numeric_limits<double>::infinity();
        }
        divergences.push_back(entropy);
        arguments.push_back(i);
    }
    // last_argmin = len - 1 - argmin(divergences[::-1])
    std::size_t last = 0;
    for (std::size_t k = 0; k < divergences.size(); ++k)
        if (divergences[k] <= divergences[last])
            last = k;
    return arguments[last];
}

} // namespace

class CalibObservers : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { qInfo("random seed %u", kSeed); }

    void makeObserverGivesEachMethod() {
        QVERIFY(dynamic_cast<MinMaxObserver*>(makeObserver(specFor(CalibMethod::MinMax)).get()));
        QVERIFY(
            dynamic_cast<MovingAverageObserver*>(makeObserver(specFor(CalibMethod::MovingAverage)).get()));
        QVERIFY(dynamic_cast<PercentileObserver*>(makeObserver(specFor(CalibMethod::Percentile)).get()));
        QVERIFY(dynamic_cast<MseObserver*>(makeObserver(specFor(CalibMethod::Mse)).get()));
        QVERIFY(dynamic_cast<EntropyObserver*>(makeObserver(specFor(CalibMethod::Entropy)).get()));
        QVERIFY(dynamic_cast<HistogramObserver*>(makeObserver(specFor(CalibMethod::Histogram)).get()));
    }

    void nothingObservedIsZeroRange() {
        for (CalibMethod method : allMethods())
            for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
                auto observer = makeObserver(specFor(method, scheme));
                observer->observe(std::vector<float>{});
                const Range r = observer->range();
                QCOMPARE(r.min, 0.0f);
                QCOMPARE(r.max, 0.0f);
                QCOMPARE(observer->finiteCount(), int64_t{0});
            }
    }

    void nonFiniteValuesAreSkippedAndCounted() {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const float inf = std::numeric_limits<float>::infinity();
        for (CalibMethod method : allMethods()) {
            auto observer = makeObserver(specFor(method, Scheme::Affine));
            observer->observe(std::vector<float>{1.0f, nan, -2.0f, inf});
            observer->observe(std::vector<float>{-inf, 3.0f, nan});
            QCOMPARE(observer->finiteCount(), int64_t{3});
            QCOMPARE(observer->nonfiniteCount(), int64_t{4});
            const Range r = observer->range();
            QVERIFY2(std::isfinite(r.min) && std::isfinite(r.max), calibMethodName(method).data());
            QVERIFY(r.min >= -3.0f && r.max <= 3.0f); // no method may reach past the finite values
        }
        const Range minmax =
            rangeOf(specFor(CalibMethod::MinMax), {{1.0f, nan, -2.0f, inf}, {-inf, 3.0f, nan}});
        QCOMPARE(minmax.min, -2.0f);
        QCOMPARE(minmax.max, 3.0f);
        // Only non-finite values: counted, and the range stays {0, 0}.
        for (CalibMethod method : allMethods()) {
            auto observer = makeObserver(specFor(method));
            observer->observe(std::vector<float>(10, nan));
            QCOMPARE(observer->nonfiniteCount(), int64_t{10});
            QCOMPARE(observer->range().min, 0.0f);
            QCOMPARE(observer->range().max, 0.0f);
        }
    }

    void degenerateInputsGiveFiniteRanges_data() {
        QTest::addColumn<std::vector<float>>("values");
        QTest::addColumn<float>("amax");
        QTest::newRow("all equal") << std::vector<float>(1000, 0.7f) << 0.7f;
        QTest::newRow("all equal negative") << std::vector<float>(5, -1.25f) << 1.25f;
        QTest::newRow("one element") << std::vector<float>{-0.37f} << 0.37f;
        QTest::newRow("all zero") << std::vector<float>(4096, 0.0f) << 0.0f;
    }
    void degenerateInputsGiveFiniteRanges() {
        QFETCH(std::vector<float>, values);
        QFETCH(float, amax);
        for (CalibMethod method : allMethods())
            for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
                const Range r = rangeOf(specFor(method, scheme), {values});
                const QByteArray what =
                    QByteArray(calibMethodName(method).data()) + " " + schemeName(scheme).data();
                QVERIFY2(std::isfinite(r.min) && std::isfinite(r.max), what);
                QVERIFY2(r.min <= r.max, what);
                QVERIFY2(std::max(std::fabs(r.min), std::fabs(r.max)) <= amax, what);
            }
        // Methods that keep the extremes of a one-valued tensor.
        const float v = values.front();
        for (CalibMethod method : {CalibMethod::MinMax, CalibMethod::MovingAverage, CalibMethod::Histogram}) {
            const Range r = rangeOf(specFor(method, Scheme::Affine), {values});
            QCOMPARE(r.min, v);
            QCOMPARE(r.max, v);
        }
        const Range percentile = rangeOf(specFor(CalibMethod::Percentile), {values});
        QCOMPARE(percentile.max, amax);
        const Range entropy = rangeOf(specFor(CalibMethod::Entropy), {values});
        QCOMPARE(entropy.max, amax); // one populated bin: only the full range has finite divergence
    }

    void extremeValuesGiveFiniteRanges_data() {
        QTest::addColumn<std::vector<std::vector<float>>>("batches");
        const float big = std::numeric_limits<float>::max();
        const float tiny = std::numeric_limits<float>::denorm_min();
        QTest::newRow("float32 limits") << std::vector<std::vector<float>>{{-big, big, 0.0f, 1.0f}};
        QTest::newRow("limits in later batches")
            << std::vector<std::vector<float>>{{0.5f, -0.25f}, {-big}, {big, 3.0f}};
        QTest::newRow("denormal then huge")
            << std::vector<std::vector<float>>{{tiny, -tiny, 0.0f}, {1e30f, -2e30f}};
        QTest::newRow("tiny range then wide")
            << std::vector<std::vector<float>>{{1.0f, 1.0f + 1e-7f}, {-1e20f, 1e20f}};
        QTest::newRow("constant then wider")
            << std::vector<std::vector<float>>{{2.0f, 2.0f}, {-1.0f, 5.0f}, {2.0f}};
    }
    void extremeValuesGiveFiniteRanges() {
        QFETCH(std::vector<std::vector<float>>, batches);
        float lo = std::numeric_limits<float>::infinity();
        float hi = -lo;
        for (const auto& batch : batches)
            for (float v : batch) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        const float amax = std::max(-lo, hi);
        for (const char* dtype :
             {"int8", "uint8", "int2", "int16", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "nf4"})
            for (CalibMethod method : allMethods())
                for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
                    const Range r = rangeOf(specFor(method, scheme, dtype), batches);
                    const QByteArray what = QByteArray(dtype) + " " + calibMethodName(method).data() + " " +
                                            schemeName(scheme).data() + ": " + QByteArray::number(r.min) +
                                            " " + QByteArray::number(r.max);
                    QVERIFY2(std::isfinite(r.min) && std::isfinite(r.max) && r.min <= r.max, what);
                    // Symmetric methods may mirror the larger side; nothing reaches past max|x|.
                    QVERIFY2(r.min >= -amax && r.max <= amax, what);
                }
    }

    void minMaxRunsOverBatches() {
        const Range r = rangeOf(specFor(CalibMethod::MinMax), {{1.0f, 2.0f}, {-3.0f, 0.5f}, {10.0f}});
        QCOMPARE(r.min, -3.0f);
        QCOMPARE(r.max, 10.0f);
    }

    void movingAverageOverThreeBatchesByHand() {
        const std::vector<std::vector<float>> batches = {
            {-1.0f, 0.0f, 2.0f}, {4.0f, -3.0f}, {0.5f, 1.0f, 0.75f}};
        // With c = 0.5 every step is exact: min -1 -> -1 + 0.5(-3 + 1) = -2 -> -2 + 0.5(0.5 + 2) = -0.75;
        // max 2 -> 2 + 0.5(4 - 2) = 3 -> 3 + 0.5(1 - 3) = 2.
        QuantSpec half = specFor(CalibMethod::MovingAverage);
        half.emaConstant = 0.5;
        const Range exact = rangeOf(half, batches);
        QCOMPARE(exact.min, -0.75f);
        QCOMPARE(exact.max, 2.0f);

        // The default 0.01: min -1 -> -1.02 -> -1.02 + 0.01 (0.5 + 1.02) = -1.0048;
        // max 2 -> 2.02 -> 2.02 + 0.01 (1 - 2.02) = 2.0098. In float32 step by step, as torch does.
        const Range r = rangeOf(specFor(CalibMethod::MovingAverage), batches);
        QVERIFY(std::fabs(r.min - (-1.0048f)) < 1e-6f);
        QVERIFY(std::fabs(r.max - 2.0098f) < 1e-6f);
        const float c = 0.01f;
        float lo = -1.0f, hi = 2.0f;
        for (auto [bmin, bmax] : {std::pair{-3.0f, 4.0f}, std::pair{0.5f, 1.0f}}) {
            const float dlo = c * (bmin - lo);
            lo = lo + dlo;
            const float dhi = c * (bmax - hi);
            hi = hi + dhi;
        }
        QCOMPARE(r.min, lo);
        QCOMPARE(r.max, hi);
    }

    void percentileOfOneToTenThousand() {
        // x = ±1..±10000 in a shuffled order, split over two batches. Symmetric: P_p(|x|) with
        // rank h = 9999 p / 100 between the order statistics h+1 and h+2.
        std::vector<float> values;
        for (int k = 1; k <= 10000; ++k)
            values.push_back(k % 3 == 0 ? -float(k) : float(k));
        std::mt19937 rng(kSeed);
        std::shuffle(values.begin(), values.end(), rng);
        const std::vector<float> first(values.begin(), values.begin() + 3000);
        const std::vector<float> second(values.begin() + 3000, values.end());

        QuantSpec spec = specFor(CalibMethod::Percentile);
        spec.percentile = 99.99; // h = 9998.0001: 9999 + 0.0001
        Range r = rangeOf(spec, {first, second});
        QCOMPARE(r.max, 9999.0001f);
        QCOMPARE(r.min, -9999.0001f);
        spec.percentile = 50.0; // h = 4999.5: halfway between 5000 and 5001
        QCOMPARE(rangeOf(spec, {first, second}).max, 5000.5f);
        spec.percentile = 100.0;
        QCOMPARE(rangeOf(spec, {first, second}).max, 10000.0f);

        // Affine: both tails of x itself. On 1..10000: P_1 = 1 + 99.99 = 100.99, P_99 = 1 + 9899.01.
        std::vector<float> positive(10000);
        std::iota(positive.begin(), positive.end(), 1.0f);
        std::shuffle(positive.begin(), positive.end(), rng);
        QuantSpec affine = specFor(CalibMethod::Percentile, Scheme::Affine);
        affine.percentile = 99.0;
        r = rangeOf(affine, {positive});
        QCOMPARE(r.min, 100.99f);
        QCOMPARE(r.max, 9900.01f);
        // On the signed values the lower tail is the negative multiples of 3.
        affine.percentile = 100.0;
        r = rangeOf(affine, {values});
        QCOMPARE(r.min, -9999.0f);
        QCOMPARE(r.max, 10000.0f);
    }

    void mseClipsAFarOutlier() {
        // A million values uniform in [-1, 1] and one at 50. With threshold t >= 1 (int8, step
        // s = t / 127.5) the error is the outlier's (50 - t)^2 plus the bulk's rounding error
        // n s^2 / 12 = 5.13 t^2; not clipping (t = 50) costs 12800, and the sum is least where
        // 2 (50 - t) = 10.26 t, at t = 8.16 (error 2090): the outlier is clipped, the bulk is not.
        // The histogram method estimates the rounding error from bin centres (about two bins per
        // step here), so its choice is near that optimum, not on it: we require its true error
        // to be within 2 % of the best of t = 1, 2, ..., 20 measured on the values themselves.
        std::mt19937 rng(kSeed);
        std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
        std::vector<float> values(1'000'000);
        for (auto& v : values)
            v = uniform(rng);
        values[123456] = 50.0f;
        const Range r = rangeOf(specFor(CalibMethod::Mse), {values});
        const QuantSpec spec = specFor(CalibMethod::Mse);
        const auto trueError = [&](Range candidate) {
            float scale = 0.0f;
            int32_t zeroPoint = 0;
            computeBlockParams(candidate, spec, scale, zeroPoint);
            const IntegerQuantizer q(scale, zeroPoint, -128, 127);
            double sum = 0.0;
            for (float v : values) {
                const double d = double(q.dequantize(q.quantize(v))) - v;
                sum += d * d;
            }
            return sum;
        };
        double best = std::numeric_limits<double>::infinity();
        for (int t = 1; t <= 20; ++t) // the error only grows past t = 9
            best = std::min(best, trueError({-float(t), float(t)}));
        const double chosen = trueError(r);
        qInfo("mse threshold with an outlier at 50: %.4f, error %.1f, best on the grid %.1f, unclipped %.1f",
              double(r.max), chosen, best, trueError({-50.0f, 50.0f}));
        QVERIFY(r.max > 1.0f && r.max < 25.0f);
        QVERIFY(chosen <= 1.02 * best);
        QCOMPARE(r.min, -r.max);

        // Without the outlier, clipping any of the uniform bulk costs more than it saves at 8
        // bits: the optimum lies within 1 % of the maximum.
        values[123456] = 0.0f;
        const Range bulk = rangeOf(specFor(CalibMethod::Mse), {values});
        const float maxAbs = std::fabs(*std::max_element(
            values.begin(), values.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); }));
        qInfo("mse threshold on uniform data: %.6f of max %.6f", double(bulk.max), double(maxAbs));
        QVERIFY(bulk.max > 0.99f * maxAbs && bulk.max <= maxAbs);

        // At 2 bits, narrow range (levels -1, 0, 1; s = t) the bulk is clipped. The method sees
        // |x|, uniform on [0, 1]: values below t round to 0 or t (error t^3 / 12), values above
        // clip to t (error (1 - t)^3 / 3); the sum is least where t^2 / 4 = (1 - t)^2: t = 2/3.
        QuantSpec twoBitSpec = specFor(CalibMethod::Mse, Scheme::Symmetric, "int2");
        twoBitSpec.narrowRange = true;
        const Range twoBits = rangeOf(twoBitSpec, {values});
        qInfo("mse threshold at 2 bits, narrow range: %.4f", double(twoBits.max));
        QVERIFY(std::fabs(twoBits.max - 2.0f / 3.0f) < 0.005f);
    }

    void mseAndEntropyUseTheFullRangeForNonNegativeAffineData() {
        std::mt19937 rng(kSeed);
        std::exponential_distribution<float> exponential(1.0f);
        std::vector<float> values(200'000);
        for (auto& v : values)
            v = exponential(rng);
        for (CalibMethod method : {CalibMethod::Mse, CalibMethod::Entropy}) {
            const Range affine = rangeOf(specFor(method, Scheme::Affine, "uint8"), {values});
            QCOMPARE(affine.min, 0.0f);
            QVERIFY(affine.max > 0.0f);
            const Range symmetric = rangeOf(specFor(method, Scheme::Symmetric, "uint8"), {values});
            QCOMPARE(symmetric.min, -symmetric.max);
            values.push_back(-0.5f); // one negative value: back to {-t, t}
            const Range mixed = rangeOf(specFor(method, Scheme::Affine, "uint8"), {values});
            QCOMPARE(mixed.min, -mixed.max);
            values.pop_back();
        }
    }

    void entropyKeepsTheRangeOfAUniformHistogram() {
        // Values at the centres of 2048 equal bins, 10 each and their negatives: every bin of the
        // |x| histogram holds 20. At i = 2048 every group of 16 bins is flat, so Q = P and the
        // divergence is 0; any smaller i piles the clipped mass into its last bin (divergence > 0).
        // The threshold is therefore the upper edge, max|x| = 2047.5 / 2048.
        std::vector<float> values;
        for (int k = 0; k < 2048; ++k)
            for (int r = 0; r < 10; ++r) {
                values.push_back((float(k) + 0.5f) / 2048.0f);
                values.push_back(-(float(k) + 0.5f) / 2048.0f);
            }
        const Range r = rangeOf(specFor(CalibMethod::Entropy), {values});
        QCOMPARE(r.max, 2047.5f / 2048.0f);
        QCOMPARE(r.min, -r.max);
    }

    void entropyClipsTheTailsOfAGaussian() {
        // KL calibration is known to clip a normal distribution's sparse tails at 8 bits: the
        // threshold lies well inside max|x| (about 5 sigma for 10^6 samples) and beyond the
        // bulk (3 sigma).
        std::mt19937 rng(kSeed);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<float> values(1'000'000);
        for (auto& v : values)
            v = normal(rng);
        const float maxAbs = std::fabs(*std::max_element(
            values.begin(), values.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); }));
        const Range r = rangeOf(specFor(CalibMethod::Entropy), {values});
        qInfo("entropy threshold on N(0, 1): %.4f, max|x| %.4f", double(r.max), double(maxAbs));
        QVERIFY(r.max > 3.0f);
        QVERIFY(r.max < 0.95f * maxAbs);
    }

    void entropySearchMatchesThePublishedProcedure() {
        // Random histograms, dense and sparse, against the literal transcription.
        std::mt19937 rng(kSeed);
        for (int trial = 0; trial < 4; ++trial) {
            std::vector<int64_t> counts(384); // 257 candidates keep the literal version quick
            std::geometric_distribution<int> tail(0.002 * (trial + 1));
            std::bernoulli_distribution empty(trial % 2 == 0 ? 0.0 : 0.4);
            for (std::size_t j = 0; j < counts.size(); ++j)
                counts[j] =
                    empty(rng) ? 0 : static_cast<int64_t>(tail(rng)) / static_cast<int64_t>(1 + j / 64);
            counts[1] = std::max<int64_t>(counts[1], 1);
            counts.back() = std::max<int64_t>(counts.back(), 1);
            for (int64_t levels : {int64_t{128}, int64_t{256}, int64_t{8}, int64_t{127}}) {
                const int64_t fast = EntropyObserver::bestEdge(counts, levels);
                const int64_t literal = literalEntropyEdge(counts, levels);
                QVERIFY2(fast == literal, qPrintable(QStringLiteral("trial %1 levels %2: %3 vs literal %4")
                                                         .arg(trial)
                                                         .arg(levels)
                                                         .arg(fast)
                                                         .arg(literal)));
            }
        }
    }

    void absHistogramGrowsAsPytorchQuantization() {
        AbsHistogram h;
        h.add(std::vector<float>(8, 0.0f)); // zeros before any width exists
        QVERIFY(h.empty());
        h.add(std::vector<float>{-1.0f, 0.5f, 0.25f});
        QCOMPARE(h.counts().size(), std::size_t{2048});
        QCOMPARE(h.binWidth(), 1.0 / 2048.0);
        QCOMPARE(h.counts()[0], int64_t{8});
        QCOMPARE(h.counts()[2047], int64_t{1}); // |-1| is the upper edge: last bin
        QCOMPARE(h.counts()[1024], int64_t{1});
        QCOMPARE(h.counts()[512], int64_t{1});
        // A wider batch appends bins of the same width: ceil(1.5 * 2048) = 3072.
        h.add(std::vector<float>{1.5f, 1.0f});
        QCOMPARE(h.counts().size(), std::size_t{3072});
        QCOMPARE(h.binWidth(), 1.0 / 2048.0);
        QCOMPARE(h.counts()[2048], int64_t{1}); // 1.0 now falls into the first appended bin
        QCOMPARE(h.counts()[3071], int64_t{1});
        // Far wider: 100 * 2048 bins would be needed; pairs merge until ceil(100 / w) <= 8192,
        // i.e. five times (w = 1/64, 6400 bins), with every count kept.
        h.add(std::vector<float>{100.0f});
        QCOMPARE(h.binWidth(), 1.0 / 64.0);
        QCOMPARE(h.counts().size(), std::size_t{6400});
        QCOMPARE(std::accumulate(h.counts().begin(), h.counts().end(), int64_t{0}), int64_t{14});
        QCOMPARE(h.total(), int64_t{14});
        // Old bin b is now bin b / 32: zeros 0, 0.25: 512 -> 16, 0.5: 1024 -> 32, |-1|: 2047 -> 63,
        // 1.0: 2048 -> 64, 1.5: 3071 -> 95; the new 100 is the upper edge: last bin.
        const std::map<std::size_t, int64_t> expected = {{0, 8},  {16, 1}, {32, 1},  {63, 1},
                                                         {64, 1}, {95, 1}, {6399, 1}};
        for (std::size_t b = 0; b < h.counts().size(); ++b) {
            const auto it = expected.find(b);
            QCOMPARE(h.counts()[b], it == expected.end() ? int64_t{0} : it->second);
        }
        QVERIFY(h.sawNegative());
    }

    void histogramObserverCombinesBatches() {
        std::mt19937 rng(kSeed);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<float> a(20000), b(20000);
        for (auto& v : a)
            v = normal(rng);
        for (auto& v : b)
            v = 3.0f * normal(rng) + 1.0f; // wider: the histogram must be re-gridded
        const auto [lo, hi] = std::minmax_element(b.begin(), b.end());

        HistogramObserver observer(specFor(CalibMethod::Histogram, Scheme::Affine, "uint8"));
        observer.observe(a);
        observer.observe(b);
        const auto& hist = observer.histogram();
        QCOMPARE(hist.size(), std::size_t{2048});
        const double mass = std::accumulate(hist.begin(), hist.end(), 0.0);
        QVERIFY(std::fabs(mass - 40000.0) < 1e-6); // nothing lost or invented
        QCOMPARE(observer.histogramMin(), std::min(*lo, *std::min_element(a.begin(), a.end())));
        QVERIFY(observer.histogramMax() >= *hi); // torch relaxes the upper end to a whole grid
        const Range r = observer.range();
        QVERIFY(r.min >= observer.histogramMin() && r.max <= observer.histogramMax() && r.min < 0.0f &&
                r.max > 0.0f);

        // The same batch twice keeps the grid: the histogram is exactly twice the single one.
        HistogramObserver once(specFor(CalibMethod::Histogram));
        once.observe(a);
        HistogramObserver twice(specFor(CalibMethod::Histogram));
        twice.observe(a);
        twice.observe(a);
        for (std::size_t k = 0; k < 2048; ++k)
            QCOMPARE(twice.histogram()[k], 2.0 * once.histogram()[k]);
        QCOMPARE(twice.range().min, once.range().min);
        QCOMPARE(twice.range().max, once.range().max);

        // A range outside (-1, 1) is binned in full (torch 1.13 would bin over [int(min), int(max)]).
        HistogramObserver wide(specFor(CalibMethod::Histogram));
        wide.observe(std::vector<float>{-3.7f, 5.2f, 0.1f, 4.9f});
        QCOMPARE(std::accumulate(wide.histogram().begin(), wide.histogram().end(), 0.0), 4.0);

        // A later batch a billion times wider must not materialise torch's upsampled grid.
        HistogramObserver tiny(specFor(CalibMethod::Histogram));
        tiny.observe(std::vector<float>{0.0f, 1e-6f, 5e-7f});
        tiny.observe(std::vector<float>{-1000.0f, 1000.0f});
        QCOMPARE(std::accumulate(tiny.histogram().begin(), tiny.histogram().end(), 0.0), 5.0);
        QVERIFY(std::isfinite(tiny.range().min) && std::isfinite(tiny.range().max));

        // After a constant batch the point mass is kept (torch 1.13 would drop it).
        HistogramObserver point(specFor(CalibMethod::Histogram));
        point.observe(std::vector<float>(100, 0.5f));
        point.observe(std::vector<float>{-1.0f, 1.0f});
        QCOMPARE(std::accumulate(point.histogram().begin(), point.histogram().end(), 0.0), 102.0);
    }

    void histogramObserverSearch() {
        std::mt19937 rng(kSeed);
        std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
        std::vector<float> values(100000);
        for (auto& v : values)
            v = uniform(rng);
        values[0] = -1.0f;
        const QuantSpec spec = specFor(CalibMethod::Histogram, Scheme::Affine, "uint8");

        // Dense uniform data: clipping any of it costs more than the finer grid saves, so the
        // search keeps (nearly) the whole range.
        const Range dense = rangeOf(spec, {values});
        qInfo("histogram range of uniform data: [%.4f, %.4f]", double(dense.min), double(dense.max));
        QVERIFY(dense.min <= -0.99f && dense.max >= 0.99f);

        // One outlier at 20 among 100000 values: the search moves an end by quantiles of 1e-5 of
        // the mass. The first step takes the upper end from bin 2047 to 2046 (the outlier's
        // cumulative count equals the bound), the second would jump below 1.0, which raises the
        // error, so the search stops: max = -1 + 2047 * 21 / 2048 = 19.98975. torch 1.13 gives the
        // same on this data (-1 and 20 are integers, so its histc is right): [-1, 19.9897].
        values[77] = 20.0f;
        const Range outlier = rangeOf(spec, {values});
        QCOMPARE(outlier.min, -1.0f);
        QCOMPARE(outlier.max, -1.0f + 2047.0f * (21.0f / 2048.0f));

        // A normal sample: the search never widens the range and keeps the bulk; with 10^5 values
        // the tails are dense and nearly the whole range stays (torch 1.13 on such a sample with
        // ends +-1.25: [-1.238, 1.245]). Where the search does clip, it must clip as torch does:
        // tst_torch_conformance's hist_small goes from [-0.95, 0.95] to [-0.606, 0.636].
        std::normal_distribution<float> normal(0.0f, 0.25f);
        for (std::size_t count : {std::size_t{1024}, std::size_t{100000}}) {
            std::vector<float> sample(count);
            for (auto& v : sample)
                v = normal(rng);
            const auto [lo, hi] = std::minmax_element(sample.begin(), sample.end());
            const Range r = rangeOf(spec, {sample});
            qInfo("histogram range of %zu N(0, 0.25) values: [%.4f, %.4f] of [%.4f, %.4f]", count,
                  double(r.min), double(r.max), double(*lo), double(*hi));
            QVERIFY(r.min >= *lo && r.max <= *hi);
            QVERIFY(r.min < -0.5f && r.max > 0.5f); // 2 sigma always stays inside
            if (count == 100000)
                QVERIFY(r.max - r.min > 0.95f * (*hi - *lo));
        }
    }
};

QTEST_GUILESS_MAIN(CalibObservers)
#include "tst_calib_observers.moc"
