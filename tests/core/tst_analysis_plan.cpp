// Mixed precision under a budget (planPrecision): hand-worked choices, dominated candidates,
// the budget rule, and on random instances the promises: within budget, never worse than any
// single format that fits, never better than the exhaustive optimum. The candidates the CLI and
// the app share (PlanCandidate): parsing, llama.cpp's k-quant fallback, scores and --tensor-type lines.

#include "quantscope/Error.h"
#include "quantscope/analysis/PlanCandidate.h"
#include "quantscope/analysis/PrecisionPlan.h"

#include <QTest>

#include <cmath>
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

    void candidatesParseAsDocumented() {
        const PlanCandidate int4 = parsePlanCandidate("int4/g128");
        QCOMPARE(int4.spec.format.name(), std::string("int4"));
        QCOMPARE(int4.spec.scheme, Scheme::Symmetric);
        QCOMPARE(int4.spec.granularity, Granularity::Group);
        QCOMPARE(int4.spec.groupSize, int64_t{128});
        QCOMPARE(int4.spec.axis, 1); // groups run along the inputs
        const PlanCandidate int8 = parsePlanCandidate("int8/channel");
        QCOMPARE(int8.spec.granularity, Granularity::Channel);
        QCOMPARE(int8.spec.axis, 0);
        const PlanCandidate q4k = parsePlanCandidate("q4_k");
        QCOMPARE(q4k.spec.granularity, Granularity::Group);
        QCOMPARE(q4k.spec.groupSize, int64_t{256});
        QCOMPARE(parsePlanCandidates("q8_0,,nvfp4").size(), std::size_t{2});
        const auto refused = [](const std::string& text, const std::string& part) {
            try {
                parsePlanCandidates(text, "Candidates");
            } catch (const Error& error) {
                return error.subject() == "Candidates" &&
                       std::string(error.what()).find(part) != std::string::npos;
            }
            return false;
        };
        QVERIFY(refused("int4/g", "allowed: channel, tensor, gN"));
        QVERIFY(refused("int4/g0", "group size must be 1 or more"));
        QVERIFY(refused("q4_k/g64", "brings its own blocks"));
        QVERIFY(refused("int33", "int33"));
        QVERIFY(refused(",", "names no format"));
    }

    void kQuantRowsFallBackAsLlamaCpp() {
        std::string note;
        const QuantSpec q4k = candidateSpecFor(parsePlanCandidate("q4_k").spec, {4, 288}, &note);
        QCOMPARE(q4k.format.name(), std::string("q5_0"));
        QCOMPARE(q4k.groupSize, int64_t{32});
        QCOMPARE(q4k.axis, 1);
        QCOMPARE(note, std::string("rows of 288 values, not whole q4_k super-blocks: analysed as q5_0, as "
                                   "llama.cpp quantizes it"));
        QCOMPARE(candidateSpecFor(parsePlanCandidate("q6_k").spec, {2, 3, 96}, &note).format.name(),
                 std::string("q8_0"));
        const QuantSpec whole = candidateSpecFor(parsePlanCandidate("q4_k").spec, {3, 512}, &note);
        QCOMPARE(whole.format.name(), std::string("q4_k"));
        QVERIFY(note.empty());
        // Rows that 32 does not divide keep the k-quant (and its error); other formats never change.
        QCOMPARE(candidateSpecFor(parsePlanCandidate("q4_k").spec, {3, 100}).format.name(),
                 std::string("q4_k"));
        QCOMPARE(candidateSpecFor(parsePlanCandidate("q4_0").spec, {3, 288}).format.name(),
                 std::string("q4_0"));
        QCOMPARE(candidateSpecFor(parsePlanCandidate("int4/g128").spec, {3, 288}).axis, 1);
        QCOMPARE(llamaCppFallback(parsePlanCandidate("int8/channel").spec, 288).format.name(),
                 std::string("int8"));
    }

    void scoresAndTensorTypeLines() {
        TensorAnalysis exact;
        exact.spec = parsePlanCandidate("q8_0").spec;
        exact.metrics.count = 64;
        exact.metrics.sqnrDb = INFINITY;
        exact.metrics.sqnrNote = "exact";
        exact.params.scale = {1.0f, 1.0f};
        const CandidateScore score = scoreCandidate(exact);
        QCOMPARE(score.sqnrDb, kExactSqnrDb);
        QCOMPARE(score.bitsPerValue, 8.5); // 34 bytes per 32 values
        exact.metrics.sqnrNote = "zero signal";
        QCOMPARE(scoreCandidate(exact).sqnrDb, 0.0);

        const std::string lines =
            llamaTensorTypeLines({{"blk.0.attn_q.weight", QuantFormat::parse("q4_k")},
                                  {"model.layers.1.mlp.down_proj.weight", QuantFormat::parse("q8_0")}});
        QCOMPARE(lines, std::string("^blk\\.0\\.attn_q\\.weight$=q4_K\n"
                                    "^model\\.layers\\.1\\.mlp\\.down_proj\\.weight$=q8_0\n"));
        try {
            llamaTensorTypeLines({{"w", QuantFormat::parse("nvfp4")}}, "llama");
            QFAIL("nvfp4 has no llama.cpp type here");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), std::string("llama"));
            QVERIFY(std::string(error.what()).find("w chose nvfp4") != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestAnalysisPlan)
#include "tst_analysis_plan.moc"
