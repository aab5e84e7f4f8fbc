// Conformance with PyTorch 1.13's observers and quantize functions, from the reference data in
// tests/data/torch/ (made by tools/make_torch_reference.py).
//
// Min-max, moving-average and per-channel min-max cases must agree bit for bit: the observed
// min/max, the scale (compared as float32 bit patterns), the zero point and every integer.
// The integers are compared with torch's fake_quantize_per_tensor/channel_affine (clamped to
// [quant_min, quant_max], as ours are) and with quantize_per_tensor/channel, which clamps to the
// whole 8-bit dtype: ours must equal those clamped to [qmin, qmax] (they differ only with
// reduce_range, where torch's quantize functions ignore the reduced range).
//
// HistogramObserver cases: the L2 search runs in a different precision and order of summation
// than torch's, so the range may differ by rounding; we require each end within one histogram bin
// ((max - min) / 2048) of torch's, and scale and zero point to follow from it. With several
// batches the combined histogram must match torch's within 1e-4 per bin.
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/calib/HistogramObserver.h"
#include "quantscope/calib/Observer.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

using namespace quantscope;

namespace {

struct ReferenceTensor {
    std::vector<int64_t> shape;
    std::vector<float> values;
};

QByteArray readFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open %s", qPrintable(path));
    return file.readAll();
}

bool sameBits(float a, float b) {
    return std::memcmp(&a, &b, sizeof(float)) == 0;
}

QString describe(float v) {
    return QStringLiteral("%1 (0x%2)")
        .arg(double(v), 0, 'g', 9)
        .arg(std::bit_cast<uint32_t>(v), 8, 16, QLatin1Char('0'));
}

QuantSpec specOf(const QJsonObject& c, double averagingConstant) {
    QuantSpec spec;
    spec.format = QuantFormat::parse(c.value(QLatin1String("dtype")).toString().toStdString());
    spec.scheme = parseScheme(c.value(QLatin1String("scheme")).toString().toStdString());
    spec.reduceRange = c.value(QLatin1String("reduce_range")).toBool();
    spec.emaConstant = averagingConstant;
    const QString observer = c.value(QLatin1String("observer")).toString();
    if (observer.startsWith(QLatin1String("moving_average")))
        spec.calib = CalibMethod::MovingAverage;
    else if (observer == QLatin1String("histogram"))
        spec.calib = CalibMethod::Histogram;
    else
        spec.calib = CalibMethod::MinMax;
    if (c.contains(QLatin1String("axis"))) {
        spec.granularity = Granularity::Channel;
        spec.axis = c.value(QLatin1String("axis")).toInt();
    }
    return spec;
}

// Values of channel `channel` along `axis` of a rank-3 tensor, restricted to batch `batch`
// along axis 0 when batch >= 0.
std::vector<float> slice(const ReferenceTensor& t, int axis, int64_t channel, int64_t batch) {
    std::vector<float> out;
    const int64_t d0 = t.shape[0], d1 = t.shape[1], d2 = t.shape[2];
    for (int64_t i = 0; i < d0; ++i)
        for (int64_t j = 0; j < d1; ++j)
            for (int64_t k = 0; k < d2; ++k) {
                const int64_t index[3] = {i, j, k};
                if (index[axis] != channel || (batch >= 0 && i != batch))
                    continue;
                out.push_back(t.values[static_cast<std::size_t>((i * d1 + j) * d2 + k)]);
            }
    return out;
}

// The ranges our observers compute for a case, fed as torch's observers were.
std::vector<Range> ourRanges(const QJsonObject& c, const QuantSpec& spec, const ReferenceTensor& t) {
    const QString observer = c.value(QLatin1String("observer")).toString();
    const std::span<const float> all(t.values);
    const int64_t batches = t.shape[0];
    const auto batchSize = static_cast<std::size_t>(t.values.size() / static_cast<std::size_t>(batches));
    if (observer == QLatin1String("minmax") || observer == QLatin1String("histogram")) {
        auto o = makeObserver(spec);
        o->observe(all);
        return {o->range()};
    }
    if (observer == QLatin1String("moving_average")) {
        auto o = makeObserver(spec);
        for (int64_t b = 0; b < batches; ++b)
            o->observe(all.subspan(static_cast<std::size_t>(b) * batchSize, batchSize));
        return {o->range()};
    }
    const int axis = spec.axis;
    const int64_t channels = t.shape[static_cast<std::size_t>(axis)];
    std::vector<Range> ranges;
    for (int64_t ch = 0; ch < channels; ++ch) {
        auto o = makeObserver(spec);
        if (observer == QLatin1String("per_channel_minmax")) {
            o->observe(slice(t, axis, ch, -1));
        } else { // moving_average_per_channel: batches along axis 0
            for (int64_t b = 0; b < batches; ++b)
                o->observe(slice(t, axis, ch, b));
        }
        ranges.push_back(o->range());
    }
    return ranges;
}

int64_t blockOfElement(const QuantSpec& spec, const ReferenceTensor& t, int64_t element) {
    if (spec.granularity == Granularity::Tensor)
        return 0;
    const int64_t d1 = t.shape[1], d2 = t.shape[2];
    const int64_t i = element / (d1 * d2), j = (element / d2) % d1;
    return spec.axis == 0 ? i : j;
}

} // namespace

class TorchConformance : public QObject {
    Q_OBJECT

private:
    QJsonObject m_manifest;
    std::map<QString, ReferenceTensor> m_tensors;
    std::vector<int16_t> m_integers;
    double m_averagingConstant = 0.0;

    std::vector<int16_t> integersAt(int64_t offset, std::size_t count) const {
        if (offset < 0 || static_cast<std::size_t>(offset) + count > m_integers.size())
            qFatal("integer offset %lld out of range", static_cast<long long>(offset));
        return {m_integers.begin() + offset,
                m_integers.begin() + offset + static_cast<std::ptrdiff_t>(count)};
    }

    void addRows(bool histogram) {
        QTest::addColumn<int>("index");
        const QJsonArray cases = m_manifest.value(QLatin1String("cases")).toArray();
        for (int i = 0; i < cases.size(); ++i) {
            const QJsonObject c = cases[i].toObject();
            if ((c.value(QLatin1String("observer")).toString() == QLatin1String("histogram")) != histogram)
                continue;
            QTest::newRow(qPrintable(c.value(QLatin1String("id")).toString())) << i;
        }
    }

    QJsonObject caseAt(int index) const {
        return m_manifest.value(QLatin1String("cases")).toArray()[index].toObject();
    }

private slots:
    void initTestCase() {
        const QString dir = QStringLiteral(QUANTSCOPE_TEST_DATA "/torch/");
        m_manifest = QJsonDocument::fromJson(readFile(dir + QLatin1String("manifest.json"))).object();
        QVERIFY(!m_manifest.isEmpty());
        m_averagingConstant = m_manifest.value(QLatin1String("averaging_constant")).toDouble();
        const QByteArray tensorBytes = readFile(dir + QLatin1String("tensors.bin"));
        const QByteArray integerBytes = readFile(dir + QLatin1String("integers.bin"));
        m_integers.resize(static_cast<std::size_t>(integerBytes.size()) / 2);
        std::memcpy(m_integers.data(), integerBytes.constData(), m_integers.size() * 2);
        for (const auto& item : m_manifest.value(QLatin1String("tensors")).toArray()) {
            const QJsonObject t = item.toObject();
            ReferenceTensor tensor;
            for (const auto& d : t.value(QLatin1String("shape")).toArray())
                tensor.shape.push_back(d.toInteger());
            const auto offset = static_cast<std::size_t>(t.value(QLatin1String("offset")).toInteger());
            const auto elements = static_cast<std::size_t>(t.value(QLatin1String("elements")).toInteger());
            QVERIFY((offset + elements) * 4 <= static_cast<std::size_t>(tensorBytes.size()));
            tensor.values.resize(elements);
            std::memcpy(tensor.values.data(), tensorBytes.constData() + offset * 4, elements * 4);
            m_tensors[t.value(QLatin1String("name")).toString()] = std::move(tensor);
        }
        qInfo("reference: torch %s, %lld cases, %zu tensors",
              qPrintable(m_manifest.value(QLatin1String("torch_version")).toString()),
              static_cast<long long>(m_manifest.value(QLatin1String("cases")).toArray().size()),
              m_tensors.size());
    }

    void referenceCoversTheSettings() {
        // Guards against a truncated or regenerated-but-empty data set passing silently.
        std::map<QString, int> perObserver;
        for (const auto& item : m_manifest.value(QLatin1String("cases")).toArray())
            ++perObserver[item.toObject().value(QLatin1String("observer")).toString()];
        QCOMPARE(perObserver[QStringLiteral("minmax")], 126);
        QCOMPARE(perObserver[QStringLiteral("moving_average")], 98);
        QCOMPARE(perObserver[QStringLiteral("per_channel_minmax")], 252);
        QCOMPARE(perObserver[QStringLiteral("moving_average_per_channel")], 98);
        QCOMPARE(perObserver[QStringLiteral("histogram")], 20);
    }

    void exactCases_data() { addRows(false); }
    void exactCases() {
        QFETCH(int, index);
        const QJsonObject c = caseAt(index);
        const ReferenceTensor& t = m_tensors.at(c.value(QLatin1String("tensor")).toString());
        const QuantSpec spec = specOf(c, m_averagingConstant);
        QCOMPARE(spec.qmin(), c.value(QLatin1String("quant_min")).toInteger());
        QCOMPARE(spec.qmax(), c.value(QLatin1String("quant_max")).toInteger());

        const std::vector<Range> ranges = ourRanges(c, spec, t);
        const QJsonArray minBits = c.value(QLatin1String("min_bits")).toArray();
        const QJsonArray maxBits = c.value(QLatin1String("max_bits")).toArray();
        const QJsonArray scaleBits = c.value(QLatin1String("scale_bits")).toArray();
        const QJsonArray zeroPoints = c.value(QLatin1String("zero_point")).toArray();
        QCOMPARE(ranges.size(), static_cast<std::size_t>(minBits.size()));
        for (std::size_t b = 0; b < ranges.size(); ++b) {
            const auto torchMin = std::bit_cast<float>(static_cast<uint32_t>(minBits[int(b)].toInteger()));
            const auto torchMax = std::bit_cast<float>(static_cast<uint32_t>(maxBits[int(b)].toInteger()));
            if (!sameBits(ranges[b].min, torchMin) || !sameBits(ranges[b].max, torchMax))
                QFAIL(qPrintable(QStringLiteral("block %1: min %2 max %3, torch %4 %5")
                                     .arg(b)
                                     .arg(describe(ranges[b].min), describe(ranges[b].max),
                                          describe(torchMin), describe(torchMax))));
        }

        // The analysis path (calibrateBlocks, which batches the moving average along axis 0)
        // must see the same ranges.
        const Tensor tensor(QStringLiteral("t").toStdString(), t.shape, t.values);
        const std::vector<Range> analysed = calibrateBlocks(tensor, spec);
        QCOMPARE(analysed.size(), ranges.size());
        for (std::size_t b = 0; b < ranges.size(); ++b)
            QVERIFY2(sameBits(analysed[b].min, ranges[b].min) && sameBits(analysed[b].max, ranges[b].max),
                     qPrintable(QStringLiteral("calibrateBlocks block %1 differs").arg(b)));

        const QParams params = computeQParams(ranges, spec);
        for (std::size_t b = 0; b < ranges.size(); ++b) {
            const auto torchScale =
                std::bit_cast<float>(static_cast<uint32_t>(scaleBits[int(b)].toInteger()));
            if (!sameBits(params.scale[b], torchScale))
                QFAIL(qPrintable(QStringLiteral("block %1: scale %2, torch %3")
                                     .arg(b)
                                     .arg(describe(params.scale[b]), describe(torchScale))));
            QCOMPARE(static_cast<int64_t>(params.zeroPoint[b]), zeroPoints[int(b)].toInteger());
        }

        const std::size_t n = t.values.size();
        const auto fake = integersAt(c.value(QLatin1String("integers_fake_quant")).toInteger(), n);
        std::vector<int16_t> quantized;
        if (c.contains(QLatin1String("integers_quantize")))
            quantized = integersAt(c.value(QLatin1String("integers_quantize")).toInteger(), n);
        AnalysisOptions options;
        options.keepIntegers = true;
        const TensorAnalysis analysis = analyzeTensor(tensor, spec, options);
        QCOMPARE(analysis.integers.size(), n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto block = static_cast<std::size_t>(blockOfElement(spec, t, static_cast<int64_t>(i)));
            const IntegerQuantizer quantizer(params.scale[block], params.zeroPoint[block],
                                             static_cast<int32_t>(params.qmin),
                                             static_cast<int32_t>(params.qmax));
            const int32_t ours = quantizer.quantize(t.values[i]);
            if (ours != fake[i])
                QFAIL(qPrintable(QStringLiteral("element %1 (x = %2): ours %3, torch fake-quant %4")
                                     .arg(i)
                                     .arg(describe(t.values[i]))
                                     .arg(ours)
                                     .arg(fake[i])));
            if (!quantized.empty()) {
                const int32_t clamped = std::clamp<int32_t>(quantized[i], static_cast<int32_t>(params.qmin),
                                                            static_cast<int32_t>(params.qmax));
                if (ours != clamped)
                    QFAIL(qPrintable(QStringLiteral("element %1: ours %2, torch quantize %3")
                                         .arg(i)
                                         .arg(ours)
                                         .arg(quantized[i])));
            }
            if (analysis.integers[i] != ours)
                QFAIL(qPrintable(QStringLiteral("element %1: analyzeTensor %2, quantizer %3")
                                     .arg(i)
                                     .arg(analysis.integers[i])
                                     .arg(ours)));
        }
    }

    void histogramCases_data() { addRows(true); }
    void histogramCases() {
        QFETCH(int, index);
        const QJsonObject c = caseAt(index);
        const ReferenceTensor& t = m_tensors.at(c.value(QLatin1String("tensor")).toString());
        const QuantSpec spec = specOf(c, m_averagingConstant);
        HistogramObserver observer(spec);
        if (c.contains(QLatin1String("batch_axis"))) {
            const std::size_t batchSize = t.values.size() / static_cast<std::size_t>(t.shape[0]);
            for (int64_t b = 0; b < t.shape[0]; ++b)
                observer.observe(std::span<const float>(t.values).subspan(
                    static_cast<std::size_t>(b) * batchSize, batchSize));
        } else {
            observer.observe(t.values);
        }
        if (c.contains(QLatin1String("torch_histogram"))) {
            // Several batches: the combined histogram itself must match torch's (_adjust_min_max
            // and _combine_histograms), up to float32 rounding of torch's fractional counts.
            const ReferenceTensor& torchHistogram =
                m_tensors.at(c.value(QLatin1String("torch_histogram")).toString());
            QCOMPARE(observer.histogram().size(), torchHistogram.values.size());
            double largest = 0.0;
            for (std::size_t k = 0; k < torchHistogram.values.size(); ++k)
                largest =
                    std::max(largest, std::fabs(observer.histogram()[k] - double(torchHistogram.values[k])));
            qInfo("largest difference from torch's combined histogram: %g", largest);
            QVERIFY(largest <= 1e-4);
        }
        // The histogram spans the observed range exactly as torch's.
        QCOMPARE(double(observer.histogramMin()), c.value(QLatin1String("observed_min")).toDouble());
        QCOMPARE(double(observer.histogramMax()), c.value(QLatin1String("observed_max")).toDouble());

        const Range ours = observer.range();
        const double torchMin = c.value(QLatin1String("min")).toArray()[0].toDouble();
        const double torchMax = c.value(QLatin1String("max")).toArray()[0].toDouble();
        const double bin =
            (double(observer.histogramMax()) - double(observer.histogramMin())) / HistogramObserver::kBins;
        qInfo("%s: ours [%.9g, %.9g], torch [%.9g, %.9g], bin %.3g",
              qPrintable(c.value(QLatin1String("id")).toString()), double(ours.min), double(ours.max),
              torchMin, torchMax, bin);
        QVERIFY2(std::fabs(double(ours.min) - torchMin) <= bin, "min more than one bin from torch's");
        QVERIFY2(std::fabs(double(ours.max) - torchMax) <= bin, "max more than one bin from torch's");

        float scale = 0.0f;
        int32_t zeroPoint = 0;
        computeBlockParams(ours, spec, scale, zeroPoint);
        const double torchScale = c.value(QLatin1String("scale")).toArray()[0].toDouble();
        const auto torchZeroPoint = c.value(QLatin1String("zero_point")).toArray()[0].toInteger();
        // One bin at each end moves the scale by at most 2 bins / (qmax - qmin).
        QVERIFY(std::fabs(double(scale) - torchScale) <=
                2.0 * bin / double(spec.qmax() - spec.qmin()) + 1e-12);
        QVERIFY(std::abs(int64_t{zeroPoint} - torchZeroPoint) <= 1);
    }
};

QTEST_GUILESS_MAIN(TorchConformance)
#include "tst_torch_conformance.moc"
