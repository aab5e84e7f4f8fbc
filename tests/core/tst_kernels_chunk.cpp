// The calibration and tensor-analysis loops (KernelTable::chunk) on every usable path, against a
// plain reference written here with std::nearbyint and double sums: counts, ranges, codes and
// integers exactly, float sums within a stated tolerance (the paths reorder float reductions).
#include "tst_kernels_paths.h"

#include "quantscope/kernels/ChunkKernels.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <utility>
#include <vector>

using namespace quantscope::kernels;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Expected {
    double sumX2 = 0, sumXhat2 = 0, sumXXhat = 0, sumAbs = 0, maxAbs = 0, sumClip2 = 0, sumRound2 = 0;
    int count = 0, clipped = 0, nonfinite = 0;
    int lowestCode = std::numeric_limits<int>::max(), highestCode = std::numeric_limits<int>::min();
    std::vector<int32_t> integers;
    std::vector<float> dequantized;
    std::vector<uint32_t> codes;
};

// The numerics contract: q = clamp(round_half_even(x * (1/S)) + Z, qmin, qmax), NaN -> Z.
Expected reference(const std::vector<float>& x, const ChunkQuantizer& q) {
    Expected e;
    for (float v : x) {
        const bool finite = std::isfinite(v);
        const float product = v * q.inverseScale; // float32 product, as the contract says
        float level = std::isnan(v) ? q.zeroPoint : std::nearbyint(product) + q.zeroPoint;
        const float clamped = std::clamp(level, q.qmin, q.qmax);
        const float xhat = (clamped - q.zeroPoint) * q.scale;
        e.integers.push_back(static_cast<int32_t>(clamped));
        e.dequantized.push_back(xhat);
        e.codes.push_back(finite ? static_cast<uint32_t>(clamped - q.qmin) : 0xFFFFFFFFu);
        if (!finite) {
            ++e.nonfinite;
            continue;
        }
        ++e.count;
        const double err = static_cast<double>(v) - static_cast<double>(xhat);
        e.sumX2 += static_cast<double>(v) * v;
        e.sumXhat2 += static_cast<double>(xhat) * xhat;
        e.sumXXhat += static_cast<double>(v) * xhat;
        e.sumAbs += std::fabs(err);
        e.maxAbs = std::max(e.maxAbs, std::fabs(err));
        const bool isClipped = clamped != level;
        (isClipped ? e.sumClip2 : e.sumRound2) += err * err;
        e.clipped += isClipped ? 1 : 0;
        e.lowestCode = std::min(e.lowestCode, static_cast<int>(clamped - q.qmin));
        e.highestCode = std::max(e.highestCode, static_cast<int>(clamped - q.qmin));
    }
    return e;
}

// Float sums of at most 4096 values in any order: within 1e-5 of the total magnitude.
void compareSum(float actual, double expected, double magnitude, const char* what) {
    const double tolerance = 1e-5 * std::max(magnitude, 1e-30);
    QVERIFY2(std::fabs(actual - expected) <= tolerance,
             qPrintable(QStringLiteral("%1: %2 vs %3").arg(QLatin1String(what)).arg(actual).arg(expected)));
}

void compareSums(const ChunkSums& s, const Expected& e) {
    QCOMPARE(s.count, e.count);
    QCOMPARE(s.clipped, e.clipped);
    QCOMPARE(s.nonfinite, e.nonfinite);
    compareSum(s.sumX2, e.sumX2, e.sumX2, "sumX2");
    compareSum(s.sumXhat2, e.sumXhat2, e.sumXhat2, "sumXhat2");
    compareSum(s.sumXXhat, e.sumXXhat, std::sqrt(e.sumX2 * e.sumXhat2), "sumXXhat");
    compareSum(s.sumAbs, e.sumAbs, e.sumAbs, "sumAbs");
    QCOMPARE(static_cast<double>(s.maxAbs), static_cast<double>(static_cast<float>(e.maxAbs)));
    compareSum(s.sumClip2, e.sumClip2, e.sumClip2 + e.sumRound2, "sumClip2");
    compareSum(s.sumRound2, e.sumRound2, e.sumClip2 + e.sumRound2, "sumRound2");
}

// Values on the grid, exact ties (x / S = k + 0.5), values past both ends, zeros of both signs.
std::vector<float> chunkValues(std::mt19937& rng, int count, const ChunkQuantizer& q, bool withNonfinite) {
    std::vector<float> x(static_cast<size_t>(count));
    std::uniform_int_distribution<int> kind(0, 9), level(-140, 140);
    std::normal_distribution<float> normal(0.0f, 30.0f * q.scale);
    for (auto& v : x) {
        switch (kind(rng)) {
        case 0:
            v = (static_cast<float>(level(rng)) + 0.5f) * q.scale;
            break;
        case 1:
            v = static_cast<float>(level(rng)) * q.scale * 2.0f;
            break;
        case 2:
            v = (kind(rng) % 2) ? 0.0f : -0.0f;
            break;
        case 3:
            v = withNonfinite ? (kind(rng) < 3 ? kNaN : (kind(rng) < 5 ? kInf : -kInf)) : normal(rng);
            break;
        default:
            v = normal(rng);
        }
    }
    return x;
}

} // namespace

class TestKernelsChunk : public QObject {
    Q_OBJECT

private slots:
    void rangeLoops_data() { kerneltest::addPathRows(); }
    void rangeLoops() {
        KERNEL_PATH_OR_SKIP(table);
        const ChunkKernels& k = table.chunk;
        std::mt19937 rng(kerneltest::seed("rangeLoops"));
        std::normal_distribution<float> normal(0.0f, 3.0f);
        for (size_t count : {1u, 2u, 7u, 15u, 16u, 17u, 63u, 64u, 65u, 4096u}) {
            for (bool withNonfinite : {false, true}) {
                std::vector<float> x(count);
                for (auto& v : x)
                    v = normal(rng);
                if (withNonfinite) {
                    x[count / 2] = kNaN;
                    x[count - 1] = count > 1 ? kInf : kNaN;
                }
                const auto expectedNonfinite = static_cast<size_t>(
                    std::count_if(x.begin(), x.end(), [](float v) { return !std::isfinite(v); }));
                float lo = 0, hi = 0;
                bool any = false;
                for (float v : x)
                    if (std::isfinite(v)) {
                        lo = any ? std::min(lo, v) : v;
                        hi = any ? std::max(hi, v) : v;
                        any = true;
                    }
                QCOMPARE(k.countNonfinite(x.data(), x.size()), expectedNonfinite);
                float l = x[0], h = x[0];
                if (std::isfinite(x[0])) {
                    const bool hadNonfinite = k.minMaxUnlessNonfinite(x.data(), x.size(), l, h);
                    QCOMPARE(hadNonfinite, withNonfinite);
                    if (!withNonfinite) {
                        QCOMPARE(l, lo);
                        QCOMPARE(h, hi);
                    }
                }
                if (any) {
                    l = lo;
                    h = lo;
                    QCOMPARE(k.minMaxSkippingNonfinite(x.data(), x.size(), l, h), expectedNonfinite);
                    QCOMPARE(l, lo);
                    QCOMPARE(h, hi);
                }
            }
        }
    }

    void quantizeVersions_data() { kerneltest::addPathRows(); }
    void quantizeVersions() {
        KERNEL_PATH_OR_SKIP(table);
        const ChunkKernels& k = table.chunk;
        std::mt19937 rng(kerneltest::seed("quantizeVersions"));
        // Affine uint8, symmetric int8, int4 and int16: a zero point, a narrow grid, a wide one.
        const ChunkQuantizer quantizers[] = {
            {0.02f, 1.0f / 0.02f, 117.0f, 0.0f, 255.0f},
            {0.0125f, 1.0f / 0.0125f, 0.0f, -128.0f, 127.0f},
            {0.25f, 1.0f / 0.25f, 0.0f, -8.0f, 7.0f},
            {1e-4f, 1.0f / 1e-4f, 0.0f, -32768.0f, 32767.0f},
        };
        for (const ChunkQuantizer& q : quantizers) {
            for (int count : {1, 5, 16, 31, 4096}) {
                for (bool withNonfinite : {false, true}) {
                    const std::vector<float> x = chunkValues(rng, count, q, withNonfinite);
                    const Expected e = reference(x, q);
                    // The general version is right for every input.
                    const int general = static_cast<int>(ChunkVersion::ClipNonfinite);
                    std::vector<int32_t> integers(x.size());
                    std::vector<float> dequantized(x.size());
                    const ChunkQuantizeResult withOutputs = k.quantizeWithOutputs[general](
                        x.data(), count, q, integers.data(), dequantized.data());
                    compareSums(withOutputs.sums, e);
                    for (size_t i = 0; i < x.size(); ++i) {
                        if (std::isfinite(x[i])) {
                            QCOMPARE(integers[i], e.integers[i]);
                            QCOMPARE(dequantized[i], e.dequantized[i]);
                        }
                    }
                    if (e.count > 0) {
                        QCOMPARE(static_cast<int>(withOutputs.lowestCode), e.lowestCode);
                        QCOMPARE(static_cast<int>(withOutputs.highestCode), e.highestCode);
                    } else {
                        QVERIFY(withOutputs.lowestCode > withOutputs.highestCode);
                    }
                    const ChunkQuantizeResult sumsOnly = k.quantize[general](x.data(), count, q);
                    compareSums(sumsOnly.sums, e);
                    std::vector<uint32_t> codes(x.size());
                    k.codes(x.data(), count, q, codes.data());
                    for (size_t i = 0; i < x.size(); ++i)
                        QCOMPARE(codes[i], e.codes[i]);
                    if (withNonfinite)
                        continue;
                    // The cheaper versions agree where their assumptions hold and say when the
                    // no-clipping one was wrong.
                    const ChunkQuantizeResult clipFinite =
                        k.quantize[static_cast<int>(ChunkVersion::ClipFinite)](x.data(), count, q);
                    compareSums(clipFinite.sums, e);
                    const ChunkQuantizeResult noClip =
                        k.quantize[static_cast<int>(ChunkVersion::NoClipFinite)](x.data(), count, q);
                    QCOMPARE(noClip.assumptionsHeld, e.clipped == 0);
                    if (e.clipped == 0)
                        compareSums(noClip.sums, e);
                    const ChunkQuantizeResult untracked =
                        k.quantize[static_cast<int>(ChunkVersion::ClipUntracked)](x.data(), count, q);
                    compareSums(untracked.sums, e);
                    QVERIFY(untracked.lowestCode > untracked.highestCode); // left to the caller
                }
            }
        }
    }

    // Tensor analysis picks a version per chunk from what it knows (no clipping, no non-finite
    // value, levels known): the versions must give the same sums bit for bit where they all
    // apply, or a document's metrics would depend on how its parameters were obtained.
    void versionsAgreeBitForBit_data() { kerneltest::addPathRows(); }
    void versionsAgreeBitForBit() {
        KERNEL_PATH_OR_SKIP(table);
        const ChunkKernels& k = table.chunk;
        std::mt19937 rng(kerneltest::seed("versionsAgreeBitForBit"));
        const ChunkQuantizer q{0.01f, 100.0f, 3.0f, -128.0f, 127.0f};
        std::normal_distribution<float> normal(0.0f, 0.3f);
        for (int count : {1, 8, 13, 64, 100, 1000, 4096}) {
            // At every alignment: a compiler's peeling must not change the sums.
            std::vector<float> storage(static_cast<size_t>(count) + 3);
            const auto offset = static_cast<size_t>(count % 4);
            std::span<float> x(storage.data() + offset, static_cast<size_t>(count));
            for (auto& v : x)
                v = std::clamp(normal(rng), -1.2f, 1.2f); // never clipped
            std::vector<ChunkSums> sums;
            for (int version = 0; version < kChunkVersionCount; ++version) {
                sums.push_back(k.quantize[version](x.data(), count, q).sums);
                std::vector<int32_t> integers(x.size());
                std::vector<float> dequantized(x.size());
                sums.push_back(
                    k.quantizeWithOutputs[version](x.data(), count, q, integers.data(), dequantized.data())
                        .sums);
            }
            for (const ChunkSums& s : sums) {
                QCOMPARE(s.sumX2, sums[0].sumX2);
                QCOMPARE(s.sumXhat2, sums[0].sumXhat2);
                QCOMPARE(s.sumXXhat, sums[0].sumXXhat);
                QCOMPARE(s.sumAbs, sums[0].sumAbs);
                QCOMPARE(s.sumRound2, sums[0].sumRound2);
                QCOMPARE(s.count, count);
            }
            // With clipping: the versions that may clip.
            x[0] = 2.0f;
            sums.clear();
            for (ChunkVersion version :
                 {ChunkVersion::ClipFinite, ChunkVersion::ClipNonfinite, ChunkVersion::ClipUntracked}) {
                const int at = static_cast<int>(version);
                sums.push_back(k.quantize[at](x.data(), count, q).sums);
                std::vector<int32_t> integers(x.size());
                std::vector<float> dequantized(x.size());
                sums.push_back(
                    k.quantizeWithOutputs[at](x.data(), count, q, integers.data(), dequantized.data()).sums);
            }
            for (const ChunkSums& s : sums) {
                QCOMPARE(s.sumX2, sums[0].sumX2);
                QCOMPARE(s.sumXhat2, sums[0].sumXhat2);
                QCOMPARE(s.sumXXhat, sums[0].sumXXhat);
                QCOMPARE(s.sumAbs, sums[0].sumAbs);
                QCOMPARE(s.sumClip2, sums[0].sumClip2);
                QCOMPARE(s.sumRound2, sums[0].sumRound2);
                QCOMPARE(s.clipped, 1);
            }
        }
    }

    // The sums' order is fixed by the source (lanes of 16), so every path gives the scalar
    // path's sums bit for bit: a document's metrics do not depend on the processor.
    void pathsAgreeBitForBit_data() { kerneltest::addPathRows(); }
    void pathsAgreeBitForBit() {
        KERNEL_PATH_OR_SKIP(table);
        const ChunkKernels& scalar = KernelRegistry::scalarTable().chunk;
        std::mt19937 rng(kerneltest::seed("pathsAgreeBitForBit"));
        const ChunkQuantizer q{0.02f, 50.0f, 117.0f, 0.0f, 255.0f};
        for (int count : {3, 16, 77, 4096}) {
            for (bool withNonfinite : {false, true}) {
                const std::vector<float> x = chunkValues(rng, count, q, withNonfinite);
                const auto version = static_cast<int>(ChunkVersion::ClipNonfinite);
                const ChunkSums a = table.chunk.quantize[version](x.data(), count, q).sums;
                const ChunkSums b = scalar.quantize[version](x.data(), count, q).sums;
                QCOMPARE(a.sumX2, b.sumX2);
                QCOMPARE(a.sumXhat2, b.sumXhat2);
                QCOMPARE(a.sumXXhat, b.sumXXhat);
                QCOMPARE(a.sumAbs, b.sumAbs);
                QCOMPARE(a.sumClip2, b.sumClip2);
                QCOMPARE(a.sumRound2, b.sumRound2);
                QCOMPARE(a.maxAbs, b.maxAbs);
            }
        }
    }

    // Every version, with and without outputs, at every tail length 1..17 past whole 16-lane
    // steps: the SIMD loops and their scalar tails give the scalar path's sums, levels, integers
    // and dequantized values bit for bit.
    void versionsAndTailsAgreeWithScalar_data() { kerneltest::addPathRows(); }
    void versionsAndTailsAgreeWithScalar() {
        KERNEL_PATH_OR_SKIP(table);
        const ChunkKernels& scalar = KernelRegistry::scalarTable().chunk;
        std::mt19937 rng(kerneltest::seed("versionsAndTailsAgreeWithScalar"));
        const ChunkQuantizer quantizers[] = {
            {0.02f, 1.0f / 0.02f, 117.0f, 0.0f, 255.0f},
            {0.0125f, 1.0f / 0.0125f, 0.0f, -128.0f, 127.0f},
        };
        for (const ChunkQuantizer& q : quantizers) {
            for (int whole : {0, 32, 4064}) {
                for (int tail = 1; tail <= 17; ++tail) {
                    const int count = whole + tail;
                    for (int version = 0; version < kChunkVersionCount; ++version) {
                        const bool nonfinite = version == static_cast<int>(ChunkVersion::ClipNonfinite);
                        const std::vector<float> x = chunkValues(rng, count, q, nonfinite);
                        const ChunkQuantizeResult a = table.chunk.quantize[version](x.data(), count, q);
                        const ChunkQuantizeResult b = scalar.quantize[version](x.data(), count, q);
                        std::vector<int32_t> integersA(x.size()), integersB(x.size());
                        std::vector<float> dequantizedA(x.size()), dequantizedB(x.size());
                        const ChunkQuantizeResult c = table.chunk.quantizeWithOutputs[version](
                            x.data(), count, q, integersA.data(), dequantizedA.data());
                        const ChunkQuantizeResult d = scalar.quantizeWithOutputs[version](
                            x.data(), count, q, integersB.data(), dequantizedB.data());
                        for (const auto& [mine, theirs] : {std::pair{a, b}, std::pair{c, d}}) {
                            QCOMPARE(mine.sums.sumX2, theirs.sums.sumX2);
                            QCOMPARE(mine.sums.sumXhat2, theirs.sums.sumXhat2);
                            QCOMPARE(mine.sums.sumXXhat, theirs.sums.sumXXhat);
                            QCOMPARE(mine.sums.sumAbs, theirs.sums.sumAbs);
                            QCOMPARE(mine.sums.maxAbs, theirs.sums.maxAbs);
                            QCOMPARE(mine.sums.sumClip2, theirs.sums.sumClip2);
                            QCOMPARE(mine.sums.sumRound2, theirs.sums.sumRound2);
                            QCOMPARE(mine.sums.count, theirs.sums.count);
                            QCOMPARE(mine.sums.clipped, theirs.sums.clipped);
                            QCOMPARE(mine.sums.nonfinite, theirs.sums.nonfinite);
                            QCOMPARE(mine.assumptionsHeld, theirs.assumptionsHeld);
                            if (mine.assumptionsHeld) {
                                QCOMPARE(mine.lowestCode, theirs.lowestCode);
                                QCOMPARE(mine.highestCode, theirs.highestCode);
                            }
                        }
                        // Outputs are meaningful where the version's assumptions hold.
                        if (c.assumptionsHeld && std::isfinite(c.sums.sumX2))
                            for (size_t i = 0; i < x.size(); ++i) {
                                QCOMPARE(integersA[i], integersB[i]);
                                QCOMPARE(dequantizedA[i], dequantizedB[i]);
                            }
                        // The contract's value for value, computed independently.
                        const Expected e = reference(x, q);
                        if (version == static_cast<int>(ChunkVersion::ClipNonfinite) ||
                            version == static_cast<int>(ChunkVersion::ClipFinite))
                            compareSums(c.sums, e);
                        std::vector<uint32_t> codes(x.size());
                        table.chunk.codes(x.data(), count, q, codes.data());
                        for (size_t i = 0; i < x.size(); ++i)
                            QCOMPARE(codes[i], e.codes[i]);
                    }
                }
            }
        }
    }

    // Exact ties x / S = k + 0.5 (S = 0.25, exact in binary) go to the even level on every path.
    void tiesRoundHalfToEven_data() { kerneltest::addPathRows(); }
    void tiesRoundHalfToEven() {
        KERNEL_PATH_OR_SKIP(table);
        const ChunkQuantizer q{0.25f, 4.0f, 0.0f, -128.0f, 127.0f};
        const std::vector<float> x = {0.125f, 0.375f, 0.625f, -0.125f, -0.375f, -0.625f, 31.875f, -32.125f};
        const std::vector<int32_t> expected = {0, 2, 2, 0, -2, -2, 127, -128}; // 127.5 -> 128 -> clipped
        std::vector<int32_t> integers(x.size());
        std::vector<float> dequantized(x.size());
        const auto result = table.chunk.quantizeWithOutputs[static_cast<int>(ChunkVersion::ClipFinite)](
            x.data(), static_cast<int>(x.size()), q, integers.data(), dequantized.data());
        for (size_t i = 0; i < x.size(); ++i)
            QCOMPARE(integers[i], expected[i]);
        QCOMPARE(result.sums.clipped, 1); // 31.875 / 0.25 = 127.5 rounds to 128, past 127
    }
};

QTEST_GUILESS_MAIN(TestKernelsChunk)
#include "tst_kernels_chunk.moc"
