// The GUI's instant preview (MetricsPreview, from a fine histogram) and the exact metrics a worker
// computes (TensorResultBuilder -> analyzeTensor -> MetricsAccumulator) follow the same rules, and
// every size shown comes from one function (quantizedStorageBytes).
#include "quantscope/analysis/FineHistogram.h"
#include "quantscope/analysis/MetricsPreview.h"
#include "quantscope/analysis/TensorResultBuilder.h"
#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/StorageSize.h"

#include <QtTest>

#include <cmath>
#include <random>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

QuantSpec specOf(const char* format, Scheme scheme, Granularity granularity = Granularity::Tensor) {
    QuantSpec spec;
    spec.format = QuantFormat::parse(format);
    spec.scheme = scheme;
    spec.granularity = granularity;
    return spec;
}

struct Both {
    PreviewResult preview;
    std::shared_ptr<TensorResult> exact;
};

// The preview and the exact result for the same values, settings and clipping range.
Both previewAndExact(const std::vector<float>& values, const QuantSpec& spec, Range clip) {
    const Tensor tensor("t", {static_cast<int64_t>(values.size())}, values);
    TensorSettings settings;
    settings.spec = spec;
    settings.manualRange = clip;
    return {MetricsPreview::estimate(FineHistogram::build(values), spec, clip),
            TensorResultBuilder::build(tensor, settings, {})};
}

} // namespace

class TestAnalysisPreview : public QObject {
    Q_OBJECT

private slots:
    // x = 0.0005, 0.001, 0.0015 with int8 affine over [0, 1]: scale = 1/255, zero point
    // -128 - round(0) = -128, and x / scale <= 0.3825 rounds to 0 levels above the zero point, so x̂
    // is all zero. A zero vector has no direction: cosine 0 in both (the preview used to say 1).
    // SQNR is 10 log10(Σx² / Σ(x - 0)²) = 0 dB; MSE = (0.25 + 1 + 2.25) / 3 * 1e-6.
    void allZeroDequantizedGivesCosineZeroInPreviewAndExact() {
        const std::vector<float> values{0.0005f, 0.001f, 0.0015f};
        const Both both = previewAndExact(values, specOf("int8", Scheme::Affine), Range{0.0f, 1.0f});
        QVERIFY(both.exact);
        const ErrorMetrics& exact = both.exact->analysis.metrics;
        const ErrorMetrics& preview = both.preview.metrics;
        QCOMPARE(both.preview.zeroPoint, -128);
        QCOMPARE(exact.cosine, 0.0);
        QCOMPARE(preview.cosine, 0.0);
        QVERIFY(std::abs(exact.sqnrDb) < 1e-9);
        QVERIFY(std::abs(preview.sqnrDb) < 1e-3);
        const double mse = 3.5e-6 / 3.0;
        QVERIFY(std::abs(exact.mse - mse) < 1e-6 * mse + 1e-15);
        QVERIFY(std::abs(preview.mse - mse) < 1e-3 * mse);
        QCOMPARE(exact.levelsUsed, int64_t{1});
        QCOMPARE(preview.levelsUsed, int64_t{1});
    }

    // The shared rule itself: both zero -> 1, one zero -> 0, else the normalised dot product
    // (x = (1, 2), x̂ = (2, 1): 4 / sqrt(5 * 5) = 0.8).
    void cosineRule() {
        QCOMPARE(cosineSimilarity(0, 0, 0), 1.0);
        QCOMPARE(cosineSimilarity(0, 5, 0), 0.0);
        QCOMPARE(cosineSimilarity(0, 0, 5), 0.0);
        QCOMPARE(cosineSimilarity(4, 5, 5), 0.8);
    }

    // An all-zero tensor: "zero signal" and cosine 1 (both vectors zero) in both.
    void zeroTensorReadsZeroSignalInBoth() {
        const std::vector<float> values(100, 0.0f);
        const Both both = previewAndExact(values, specOf("int8", Scheme::Symmetric), Range{0.0f, 0.0f});
        QCOMPARE(both.exact->analysis.metrics.sqnrNote, std::string("zero signal"));
        QCOMPARE(both.preview.metrics.sqnrNote, std::string("zero signal"));
        QCOMPARE(both.exact->analysis.metrics.cosine, 1.0);
        QCOMPARE(both.preview.metrics.cosine, 1.0);
    }

    // A dense Gaussian tensor: the preview computes the same parameters and estimates the metrics
    // closely (each of 16384 bins is far narrower than a quantization step).
    void previewMatchesExactOnADenseTensor_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<int>("scheme");
        QTest::addColumn<float>("clipMax");
        QTest::newRow("int8 affine, full range") << QStringLiteral("int8") << int(Scheme::Affine) << 4.5f;
        QTest::newRow("int8 symmetric, clipped at 2")
            << QStringLiteral("int8") << int(Scheme::Symmetric) << 2.0f;
        QTest::newRow("uint4 affine, clipped at 1.5")
            << QStringLiteral("uint4") << int(Scheme::Affine) << 1.5f;
    }

    void previewMatchesExactOnADenseTensor() {
        QFETCH(QString, format);
        QFETCH(int, scheme);
        QFETCH(float, clipMax);
        std::mt19937 generator(20261130);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<float> values(200000);
        for (float& v : values)
            v = std::clamp(normal(generator), -4.5f, 4.5f);
        const QuantSpec spec = specOf(format.toLatin1().constData(), static_cast<Scheme>(scheme));
        const Both both = previewAndExact(values, spec, Range{-clipMax, clipMax});
        const ErrorMetrics& exact = both.exact->analysis.metrics;
        const ErrorMetrics& preview = both.preview.metrics;
        QCOMPARE(both.preview.scale, both.exact->analysis.params.scale.front());
        QCOMPARE(both.preview.zeroPoint, both.exact->analysis.params.zeroPoint.front());
        QVERIFY2(std::abs(preview.sqnrDb - exact.sqnrDb) < 0.05,
                 qPrintable(QStringLiteral("%1 vs %2").arg(preview.sqnrDb).arg(exact.sqnrDb)));
        QVERIFY(std::abs(preview.cosine - exact.cosine) < 1e-4);
        QVERIFY(std::abs(preview.clippedFraction - exact.clippedFraction) < 1e-3);
        QVERIFY(std::abs(preview.mse - exact.mse) < 0.01 * exact.mse);
        QVERIFY(std::abs(preview.levelsUsed - exact.levelsUsed) <= 1);
    }

    // Sizes by hand: values at the storage width (whole bytes), per block a float32 scale except for
    // the plain casts fp16 / bf16, and an int32 zero point for affine integers.
    void storageBytesByHand() {
        QCOMPARE(quantizedStorageBytes(1000, specOf("fp16", Scheme::Symmetric, Granularity::Channel), 10),
                 uint64_t{2000});
        QCOMPARE(quantizedStorageBytes(1000, specOf("bf16", Scheme::Affine, Granularity::Channel), 10),
                 uint64_t{2000});
        QCOMPARE(quantizedStorageBytes(1000, specOf("int8", Scheme::Symmetric, Granularity::Channel), 10),
                 uint64_t{1000 + 10 * 4});
        QCOMPARE(quantizedStorageBytes(1000, specOf("int8", Scheme::Affine), 1), uint64_t{1000 + 4 + 4});
        // 1001 int4 values take 4004 bits = 500.5 bytes -> 501; 8 groups of scale + zero point.
        QCOMPARE(quantizedStorageBytes(1001, specOf("int4", Scheme::Affine, Granularity::Group), 8),
                 uint64_t{501 + 8 * 8});
        QCOMPARE(quantizedStorageBytes(1000, specOf("fp8_e4m3", Scheme::Symmetric), 1), uint64_t{1000 + 4});
    }

    // The exact result's size for an fp16 / bf16 tensor counts no scales: 2 bytes per value.
    void fp16AndBf16ResultsStoreNoScale() {
        std::vector<float> values(96);
        for (std::size_t i = 0; i < values.size(); ++i)
            values[i] = static_cast<float>(i) * 0.25f - 10.0f;
        const Tensor tensor("w", {12, 8}, values);
        for (const char* format : {"fp16", "bf16"}) {
            TensorSettings settings;
            settings.spec = specOf(format, Scheme::Symmetric, Granularity::Channel);
            const auto result = TensorResultBuilder::build(tensor, settings, {});
            QCOMPARE(result->analysis.params.blockCount(), std::size_t{12});
            QCOMPARE(result->sizeBytes, 192.0);
        }
    }
};

QTEST_GUILESS_MAIN(TestAnalysisPreview)
#include "tst_analysis_preview.moc"
