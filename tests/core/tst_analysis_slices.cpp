// Whole-file analysis without whole tensors: analyzeTensorInSlices (a safetensors tensor read
// slice by slice) against analyzeTensor on the loaded tensor, bit for bit, and against the numerics
// contract computed here; SafetensorsReader::decodeRange and loadInto; FloatBuffer reused across
// tensors of different sizes and dtypes, and its pages returned after a large tensor.

#include "tst_io_support.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/tensor/FloatBuffer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

using namespace quantscope;

namespace {

struct Stored {
    std::string name;
    std::string dtype; // "F32", "F16", "BF16"
    std::vector<int64_t> shape;
    std::vector<float> values; // exactly representable in `dtype`
};

// float32 -> float16 bits for values that fp16 holds exactly (normal, or zero).
uint16_t halfBits(float value) {
    const auto bits = std::bit_cast<uint32_t>(value);
    const uint32_t sign = (bits >> 16) & 0x8000u;
    if ((bits & 0x7fffffffu) == 0)
        return static_cast<uint16_t>(sign);
    if ((bits & 0x7f800000u) == 0x7f800000u)
        return static_cast<uint16_t>(sign | 0x7c00u | ((bits & 0x7fffffu) ? 0x200u : 0u));
    const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
    return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exponent) << 10) | ((bits >> 13) & 0x3ffu));
}

// `value` with its mantissa cut to `bits` bits (toward zero), in float arithmetic: dividing and
// multiplying by a power of two are exact. (Masking the float's bit pattern instead was compiled to
// return the value unchanged by GCC 12.2 at -O2 inside representable().)
float truncateMantissa(float value, int bits) {
    const float step = std::ldexp(1.0f, std::ilogb(value) - bits);
    return std::trunc(value / step) * step;
}

// Rounds a value to what `dtype` holds (bf16: the top 16 bits; f16: 10 mantissa bits, kept normal).
float representable(float value, const std::string& dtype) {
    if (!std::isfinite(value) || value == 0.0f)
        return value;
    if (dtype == "BF16")
        return truncateMantissa(value, 7);
    if (dtype == "F16")
        return truncateMantissa(std::fabs(value) < 1e-4f ? std::copysign(1e-4f, value) : value, 10);
    return value;
}

std::string encode(const Stored& tensor) {
    std::string bytes;
    for (float v : tensor.values) {
        if (tensor.dtype == "F32") {
            bytes.append(reinterpret_cast<const char*>(&v), 4);
        } else {
            const uint16_t bits = tensor.dtype == "BF16"
                                      ? static_cast<uint16_t>(std::bit_cast<uint32_t>(v) >> 16)
                                      : halfBits(v);
            bytes.append(reinterpret_cast<const char*>(&bits), 2);
        }
    }
    return bytes;
}

std::string writeSafetensors(const std::string& path, const std::vector<Stored>& tensors) {
    std::string header = "{";
    std::string data;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const std::string bytes = encode(tensors[i]);
        header += (i ? "," : "") + std::string("\"") + tensors[i].name + "\":{\"dtype\":\"" +
                  tensors[i].dtype + "\",\"shape\":[";
        for (std::size_t d = 0; d < tensors[i].shape.size(); ++d)
            header += (d ? "," : "") + std::to_string(tensors[i].shape[d]);
        header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                  std::to_string(data.size() + bytes.size()) + "]}";
        data += bytes;
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    if (!iotest::writeBytes(path, iotest::littleEndian64(header.size()) + header + data))
        qFatal("cannot write %s", path.c_str());
    return path;
}

Stored makeTensor(std::mt19937& rng, std::string name, std::string dtype, std::vector<int64_t> shape) {
    Stored tensor{std::move(name), std::move(dtype), std::move(shape), {}};
    int64_t count = 1;
    for (int64_t d : tensor.shape)
        count *= d;
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    tensor.values.resize(static_cast<std::size_t>(count));
    for (float& v : tensor.values) {
        v = normal(rng);
        if (uniform(rng) < 0.01f)
            v *= 20.0f; // outliers: clipping under narrow settings, wide rows
        v = representable(v, tensor.dtype);
    }
    return tensor;
}

bool sameFloat(double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

void compareMetrics(const ErrorMetrics& a, const ErrorMetrics& b) {
    QCOMPARE(a.count, b.count);
    QCOMPARE(a.nonfinite, b.nonfinite);
    QCOMPARE(a.clippedCount, b.clippedCount);
    QVERIFY(sameFloat(a.mse, b.mse));
    QVERIFY(sameFloat(a.meanAbsError, b.meanAbsError));
    QVERIFY(sameFloat(a.maxAbsError, b.maxAbsError));
    QVERIFY(sameFloat(a.sqnrDb, b.sqnrDb));
    QCOMPARE(a.sqnrNote, b.sqnrNote);
    QVERIFY(sameFloat(a.cosine, b.cosine));
    QVERIFY(sameFloat(a.clipMse, b.clipMse));
    QVERIFY(sameFloat(a.roundMse, b.roundMse));
    QCOMPARE(a.levelsUsed, b.levelsUsed);
}

QuantSpec integerSpec(int bits, bool isSigned, Scheme scheme, Granularity granularity, int axis,
                      int64_t groupSize = 128) {
    QuantSpec spec;
    spec.format = QuantFormat::integer(bits, isSigned);
    spec.scheme = scheme;
    spec.granularity = granularity;
    spec.axis = axis;
    spec.groupSize = groupSize;
    return spec;
}

uint64_t residentBytes() {
    std::ifstream statm("/proc/self/statm");
    uint64_t pages = 0;
    uint64_t resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

} // namespace

class TestAnalysisSlices : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string m_path;
    std::vector<Stored> m_tensors;

    std::string tempPath(const std::string& name) const {
        return m_dir.filePath(QString::fromStdString(name)).toStdString();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        std::mt19937 rng(20261201u);
        // Rows of 16k + 1..17 values (the SIMD loops' tails), a row longer than a slice (70000 values
        // > 65536), many short rows, every dtype, and a row holding NaN and Inf.
        m_tensors.push_back(makeTensor(rng, "large.f32", "F32", {300, 4096 + 13}));
        m_tensors.push_back(makeTensor(rng, "small.bf16", "BF16", {40, 64 + 1}));
        m_tensors.push_back(makeTensor(rng, "wide.f16", "F16", {3, 70000}));
        m_tensors.push_back(makeTensor(rng, "tails.bf16", "BF16", {17, 16 * 8 + 17}));
        m_tensors.push_back(makeTensor(rng, "rows.f32", "F32", {5000, 128}));
        Stored special = makeTensor(rng, "special.f32", "F32", {8, 256});
        special.values[3 * 256 + 5] = std::numeric_limits<float>::quiet_NaN();
        special.values[4 * 256 + 7] = std::numeric_limits<float>::infinity();
        for (int c = 0; c < 256; ++c)
            special.values[static_cast<std::size_t>(6 * 256 + c)] = 0.0f; // an all-zero row
        m_tensors.push_back(special);
        m_path = writeSafetensors(tempPath("model.safetensors"), m_tensors);
    }

    // Every tensor, for every setting that goes in slices: the same TensorAnalysis bit for bit as
    // analyzeTensor on the whole loaded tensor, with one FloatBuffer reused throughout.
    void slicesEqualWholeTensor() {
        const auto file = openWeightFile(m_path);
        QVERIFY(file->decodesRanges());
        const QuantSpec specs[] = {
            integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 0),
            integerSpec(8, false, Scheme::Affine, Granularity::Channel, 0),
            integerSpec(4, true, Scheme::Symmetric, Granularity::Group, 1, 64),
            integerSpec(16, true, Scheme::Affine, Granularity::Channel, 0),
        };
        FloatBuffer buffer;
        for (const QuantSpec& spec : specs) {
            for (const Stored& stored : m_tensors) {
                if (spec.granularity == Granularity::Group && stored.shape[1] % spec.groupSize != 0)
                    continue; // groups must tile the row
                AnalysisOptions options;
                options.keepIntegers = true;
                options.keepDequantized = true;
                options.perBlockMetrics = true;
                QVERIFY(analysisGoesInSlices(stored.shape, spec, options));
                const TensorAnalysis whole = analyzeTensor(file->load(stored.name), spec, options);
                const TensorAnalysis sliced = analyzeTensorInSlices(
                    stored.name, stored.shape, spec, options,
                    [&](int64_t first, int64_t count, float* destination) {
                        file->decodeRange(stored.name, static_cast<uint64_t>(first),
                                          static_cast<uint64_t>(count), destination);
                    },
                    buffer);
                QCOMPARE(sliced.name, whole.name);
                QCOMPARE(sliced.shape, whole.shape);
                QCOMPARE(sliced.params.scale, whole.params.scale);
                QCOMPARE(sliced.params.zeroPoint, whole.params.zeroPoint);
                QCOMPARE(sliced.params.min, whole.params.min);
                QCOMPARE(sliced.params.max, whole.params.max);
                QCOMPARE(sliced.integers, whole.integers);
                QCOMPARE(sliced.dequantized.size(), whole.dequantized.size());
                QVERIFY(std::memcmp(sliced.dequantized.data(), whole.dequantized.data(),
                                    whole.dequantized.size() * sizeof(float)) == 0);
                compareMetrics(sliced.metrics, whole.metrics);
                QCOMPARE(sliced.blockMetrics.size(), whole.blockMetrics.size());
                for (std::size_t b = 0; b < whole.blockMetrics.size(); ++b)
                    compareMetrics(sliced.blockMetrics[b], whole.blockMetrics[b]);
            }
        }
    }

    // The numerics contract, computed here in double from the stored values: int8 symmetric per
    // row, scale = max|x| / 127.5, q = clamp(round_half_even(x * (1/S)), -128, 127).
    void slicesFollowTheContract() {
        const auto file = openWeightFile(m_path);
        const QuantSpec spec = integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 0);
        FloatBuffer buffer;
        for (const char* name : {"tails.bf16", "wide.f16"}) {
            const Stored* stored = nullptr;
            for (const Stored& t : m_tensors)
                if (t.name == name)
                    stored = &t;
            QVERIFY(stored);
            const TensorAnalysis result = analyzeTensorInSlices(
                stored->name, stored->shape, spec, {},
                [&](int64_t first, int64_t count, float* destination) {
                    file->decodeRange(stored->name, static_cast<uint64_t>(first),
                                      static_cast<uint64_t>(count), destination);
                },
                buffer);
            const int64_t rows = stored->shape[0];
            const int64_t cols = stored->shape[1];
            double sumError2 = 0.0;
            double sumX2 = 0.0;
            for (int64_t r = 0; r < rows; ++r) {
                float amax = 0.0f;
                for (int64_t c = 0; c < cols; ++c)
                    amax = std::max(amax, std::fabs(stored->values[static_cast<std::size_t>(r * cols + c)]));
                const float scale = std::max(amax / 127.5f, 1.1920929e-07f);
                QCOMPARE(result.params.scale[static_cast<std::size_t>(r)], scale);
                QCOMPARE(result.params.zeroPoint[static_cast<std::size_t>(r)], 0);
                const float inverse = 1.0f / scale;
                for (int64_t c = 0; c < cols; ++c) {
                    const float x = stored->values[static_cast<std::size_t>(r * cols + c)];
                    const float q = std::clamp(std::nearbyint(x * inverse), -128.0f, 127.0f);
                    const double error = static_cast<double>(x) - static_cast<double>(q * scale);
                    sumError2 += error * error;
                    sumX2 += static_cast<double>(x) * x;
                }
            }
            const double n = static_cast<double>(rows * cols);
            QVERIFY(std::fabs(result.metrics.mse - sumError2 / n) <= 1e-5 * (sumError2 / n));
            QVERIFY(std::fabs(result.metrics.sqnrDb - 10.0 * std::log10(sumX2 / sumError2)) <= 1e-4);
            QCOMPARE(result.metrics.count, rows * cols);
        }
    }

    // Settings that need the whole tensor (a range over it, another observer, float codes, fixed
    // parameters, blocks across the rows) do not go in slices.
    void onlyRowRunsGoInSlices() {
        const std::vector<int64_t> shape{64, 256};
        AnalysisOptions options;
        QVERIFY(analysisGoesInSlices(shape, integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 0),
                                     options));
        QVERIFY(!analysisGoesInSlices(shape, integerSpec(8, true, Scheme::Symmetric, Granularity::Tensor, 0),
                                      options));
        QVERIFY(!analysisGoesInSlices(shape, integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 1),
                                      options));
        QuantSpec percentile = integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 0);
        percentile.calib = CalibMethod::Percentile;
        QVERIFY(!analysisGoesInSlices(shape, percentile, options));
        QuantSpec fp8 = integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 0);
        fp8.format = QuantFormat::parse("fp8_e4m3");
        QVERIFY(!analysisGoesInSlices(shape, fp8, options));
        // Rows of 32 values are shorter than the vectorised quantizer's runs.
        QVERIFY(!analysisGoesInSlices(
            {64, 32}, integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 0), options));
        AnalysisOptions fixed;
        fixed.fixedParams = QParams{};
        QVERIFY(!analysisGoesInSlices(shape, integerSpec(8, true, Scheme::Symmetric, Granularity::Channel, 0),
                                      fixed));
        FloatBuffer buffer;
        QS_VERIFY_ERROR(analyzeTensorInSlices(
                            "w", shape, integerSpec(8, true, Scheme::Symmetric, Granularity::Tensor, 0),
                            options, [](int64_t, int64_t, float*) {}, buffer),
                        "w", "whole tensor");
    }

    // decodeRange gives load()'s values for any range and refuses one past the tensor's end.
    void decodeRangeReadsPartOfATensor() {
        const auto file = openWeightFile(m_path);
        for (const Stored& stored : m_tensors) {
            const Tensor whole = file->load(stored.name);
            QVERIFY(iotest::sameValues(whole, stored.values));
            const auto count = static_cast<uint64_t>(stored.values.size());
            for (uint64_t first : {uint64_t{0}, uint64_t{1}, count / 3, count - 1}) {
                const uint64_t length = std::min<uint64_t>(count - first, 70001);
                std::vector<float> part(length);
                file->decodeRange(stored.name, first, length, part.data());
                QVERIFY(std::memcmp(part.data(), whole.values().data() + first, length * sizeof(float)) == 0);
            }
            QS_VERIFY_ERROR(
                {
                    std::vector<float> past(2);
                    file->decodeRange(stored.name, count - 1, 2, past.data());
                },
                m_path, stored.name, "past the tensor's " + std::to_string(count));
        }
        std::vector<float> none(1);
        QS_VERIFY_ERROR(file->decodeRange("missing", 0, 1, none.data()), m_path, "missing", "no such tensor");
    }

    // One buffer across tensors larger then smaller, of every dtype: each view holds exactly the
    // tensor's values (nothing left from the one before), and an npy-style reader's Tensor is kept.
    void bufferReusedAcrossTensors() {
        const auto file = openWeightFile(m_path);
        FloatBuffer buffer;
        for (const char* name :
             {"large.f32", "small.bf16", "wide.f16", "tails.bf16", "large.f32", "special.f32"}) {
            const TensorView view = file->loadInto(name, buffer);
            const Tensor loaded = file->load(name);
            QCOMPARE(view.name(), std::string(name));
            QCOMPARE(view.shape(), loaded.shape());
            QCOMPARE(view.size(), loaded.size());
            QVERIFY(std::memcmp(view.values().data(), loaded.values().data(), loaded.values().size_bytes()) ==
                    0);
        }
        // The default loadInto (other readers) keeps load()'s Tensor in the buffer.
        const auto npy = openWeightFile(iotest::dataPath("f2.npy"));
        const std::string npyName = npy->tensors().front().name;
        const TensorView view = npy->loadInto(npyName, buffer);
        const Tensor loaded = npy->load(npyName);
        QCOMPARE(view.shape(), loaded.shape());
        QVERIFY(std::memcmp(view.values().data(), loaded.values().data(), loaded.values().size_bytes()) == 0);
    }

    // After a large tensor, a small one returns the pages past the retained room to the system.
    void bufferReturnsPagesAfterALargeTensor() {
        FloatBuffer buffer;
        const std::size_t large = (FloatBuffer::kRetainedBytes + (std::size_t{128} << 20)) / sizeof(float);
        const uint64_t before = residentBytes();
        const std::span<float> values = buffer.prepare(large);
        std::fill(values.begin(), values.end(), 1.0f);
        const uint64_t touched = residentBytes();
        QVERIFY(touched - before >= (std::size_t{180} << 20));
        const std::span<float> small = buffer.prepare(1000);
        QCOMPARE(small.size(), std::size_t{1000});
        const uint64_t after = residentBytes();
        QVERIFY2(touched - after >= (std::size_t{120} << 20),
                 qPrintable(QStringLiteral("resident %1 MB after the large tensor, %2 MB after the small one")
                                .arg(touched >> 20)
                                .arg(after >> 20)));
        // The retained room keeps its values: no fault, no zeroing.
        QCOMPARE(small[999], 1.0f);
    }
};

QTEST_GUILESS_MAIN(TestAnalysisSlices)
#include "tst_analysis_slices.moc"
