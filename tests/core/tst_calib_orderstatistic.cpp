// orderStatistic (the stoppable selection behind the percentile observer) against a full sort.
#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"
#include "quantscope/calib/OrderStatistic.h"

#include <QtTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace quantscope;

class TestCalibOrderStatistic : public QObject {
    Q_OBJECT

    // Every rank of `values` (or every `step`-th) against the sorted copy.
    static void compareWithSort(const std::vector<float>& values, std::size_t step) {
        std::vector<float> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        for (std::size_t rank = 0; rank < sorted.size(); rank += step) {
            const float got = orderStatistic(values, rank);
            QVERIFY2(got == sorted[rank], qPrintable(QStringLiteral("rank %1: %2, sorted %3")
                                                         .arg(rank)
                                                         .arg(static_cast<double>(got))
                                                         .arg(static_cast<double>(sorted[rank]))));
        }
        const float last = orderStatistic(values, sorted.size() - 1);
        QCOMPARE(last, sorted.back());
    }

private slots:
    void matchesSortOnMixedValues() {
        std::mt19937 rng(20261130);
        std::normal_distribution<float> normal(0.0f, 3.0f);
        std::vector<float> values(2003);
        for (float& v : values)
            v = normal(rng);
        // Ties, both zeros, subnormals, the extremes and values sharing their high 16 bits.
        const float specials[] = {0.0f,
                                  -0.0f,
                                  1.0f,
                                  1.0f,
                                  -1.0f,
                                  1e-42f,
                                  -1e-42f,
                                  std::numeric_limits<float>::max(),
                                  std::numeric_limits<float>::lowest(),
                                  1.0000001f,
                                  1.0000002f,
                                  -1.0000001f};
        for (std::size_t i = 0; i < std::size(specials); ++i)
            values[i * 97] = specials[i];
        compareWithSort(values, 1);
    }

    void matchesSortWhenAllEqualOrFew() {
        compareWithSort(std::vector<float>(5000, -2.5f), 499);
        compareWithSort({42.0f}, 1);
        compareWithSort({3.0f, -3.0f}, 1);
        // Integers in a narrow band: every value falls into few high buckets.
        std::vector<float> band;
        for (int i = 0; i < 1000; ++i)
            band.push_back(static_cast<float>((i * 37) % 101));
        compareWithSort(band, 1);
    }

    void zeroHasNoSign() {
        // -0 and +0 compare equal: whatever the mix, the middle rank reads as +0.
        const std::vector<float> zeros = {-0.0f, 0.0f, -0.0f, -1.0f, 1.0f};
        const float middle = orderStatistic(zeros, 2);
        QCOMPARE(middle, 0.0f);
        QVERIFY(!std::signbit(middle));
    }

    void stopsWhenCancelled() {
        const std::vector<float> values(std::size_t{3} << 20, 0.25f);
        const std::atomic<bool> stop{true};
        const CancellationScope scope(stop);
        QVERIFY_THROWS_EXCEPTION(Cancelled, orderStatistic(values, 17));
    }
};

QTEST_GUILESS_MAIN(TestCalibOrderStatistic)
#include "tst_calib_orderstatistic.moc"
