// Mixed precision under a budget (planPrecision): hand-worked choices, dominated candidates,
// the budget rule, and on random instances the promises: within budget, never worse than any
// single format that fits, never better than the exhaustive optimum.

#include "quantscope/Error.h"
#include "quantscope/analysis/PrecisionPlan.h"

#include <QTest>

#include <random>

using namespace quantscope;

namespace {

TensorCandidates tensor(const char* name, int64_t elements, std::vector<CandidateScore> scores) {
    return {name, elements, std::move(scores)};
}

} // namespace

class TestAnalysisPlan : public QObject {
    Q_OBJECT

private slots:
    void upgradesWhereSqnrPerBitIsHighest() {
        // Both tensors start at 4 bits. Going to 8 buys t1 20 dB (5 dB per bit) and t2 35 dB
        // (8.75 dB per bit); a 6-bit budget pays for one upgrade: t2's.
        const std::vector<TensorCandidates> tensors{
            tensor("t1", 100, {{4.0, 20.0}, {8.0, 40.0}}),
            tensor("t2", 100, {{4.0, 10.0}, {8.0, 45.0}}),
        };
        const PrecisionPlan plan = planPrecision(tensors, 6.0);
        QCOMPARE(plan.choice, (std::vector<std::size_t>{0, 1}));
        QCOMPARE(plan.bitsPerValue, 6.0);
        QCOMPARE(plan.weightedSqnrDb, 32.5);
        QVERIFY(!plan.uniform);
        // With 8 bits everything upgrades; with 4 nothing does.
        QCOMPARE(planPrecision(tensors, 8.0).choice, (std::vector<std::size_t>{1, 1}));
        QCOMPARE(planPrecision(tensors, 4.0).choice, (std::vector<std::size_t>{0, 0}));
    }

    void sizesWeighTheChoice() {
        // The big tensor holds 9 times the values, so its upgrade costs 3600 bits. A budget of
        // 4.4 bits per value (4400 bits, 4000 spent at the start) pays only for the small one's 400.
        const std::vector<TensorCandidates> tensors{
            tensor("big", 900, {{4.0, 20.0}, {8.0, 40.0}}),
            tensor("small", 100, {{4.0, 10.0}, {8.0, 45.0}}),
        };
        const PrecisionPlan plan = planPrecision(tensors, 4.4);
        QCOMPARE(plan.choice, (std::vector<std::size_t>{0, 1}));
        QCOMPARE(plan.bitsPerValue, 4.4);
        QCOMPARE(plan.weightedSqnrDb, (900.0 * 20.0 + 100.0 * 45.0) / 1000.0);
    }

    void dominatedCandidatesAreSkipped() {
        // The 6-bit candidate gives less than the 4-bit one: it is never chosen, and the upgrade
        // goes straight to 8 bits.
        const std::vector<TensorCandidates> tensors{tensor("t", 10, {{6.0, 5.0}, {4.0, 20.0}, {8.0, 40.0}})};
        QCOMPARE(planPrecision(tensors, 7.0).choice, (std::vector<std::size_t>{1}));
        QCOMPARE(planPrecision(tensors, 8.0).choice, (std::vector<std::size_t>{2}));
    }

    void aBudgetBelowTheCheapestChoiceIsAnError() {
        const std::vector<TensorCandidates> tensors{tensor("t", 10, {{4.5, 20.0}, {8.5, 40.0}})};
        try {
            planPrecision(tensors, 4.0);
            QFAIL("an impossible budget was accepted");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), std::string("--budget"));
            QVERIFY(std::string(error.what()).find("4.5") != std::string::npos);
        }
    }

    void randomInstancesKeepThePromises() {
        std::mt19937 generator(11);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const std::vector<double> bits{4.5, 5.5, 6.5625, 8.5};
        for (int trial = 0; trial < 300; ++trial) {
            std::vector<TensorCandidates> tensors;
            for (int t = 0; t < 4; ++t) {
                TensorCandidates candidates{
                    "t" + std::to_string(t), 1 + static_cast<int64_t>(unit(generator) * 1000), {}};
                double sqnr = 10.0 + 20.0 * unit(generator);
                for (double b : bits) {
                    candidates.scores.push_back({b, sqnr});
                    sqnr += 12.0 * unit(generator) - 2.0; // sometimes a costlier format is worse
                }
                tensors.push_back(candidates);
            }
            const double budget = 4.5 + 4.0 * unit(generator);
            const PrecisionPlan plan = planPrecision(tensors, budget);
            QVERIFY(plan.bitsPerValue <= budget + 1e-9);

            // Exhaustive: every one of the 4^4 choices.
            double optimum = -1e300;
            for (int code = 0; code < 256; ++code) {
                std::vector<std::size_t> choice;
                for (int t = 0; t < 4; ++t)
                    choice.push_back(static_cast<std::size_t>((code >> (2 * t)) & 3));
                const PrecisionPlan candidate = evaluatePlan(tensors, choice);
                const bool uniform = std::all_of(choice.begin(), choice.end(),
                                                 [&](std::size_t c) { return c == choice.front(); });
                if (candidate.bitsPerValue > budget + 1e-9)
                    continue;
                optimum = std::max(optimum, candidate.weightedSqnrDb);
                if (uniform)
                    QVERIFY2(plan.weightedSqnrDb >= candidate.weightedSqnrDb - 1e-9,
                             qPrintable(QStringLiteral("trial %1").arg(trial)));
            }
            QVERIFY(plan.weightedSqnrDb <= optimum + 1e-9);
        }
    }
};

QTEST_GUILESS_MAIN(TestAnalysisPlan)
#include "tst_analysis_plan.moc"
