// llama.cpp's block formats as quantization targets (--dtype q8_0 ... q6_k): ggml's reference
// quantizers on blocks whose bytes and values are derived by hand from ggml-quants.c's rules
// (q8_0: d = amax / 127, q = roundf(x / d); q4_0 / q5_0: d = max / -8 (-16), level =
// trunc(x / d + 8.5 (16.5)) capped at 15 (31); q4_1 / q5_1: d = (max - min) / 15 (31), m = min,
// level = trunc((x - m) / d + 0.5); q4_K: 6-bit sub-scales and mins of d / dmin = max / 63; q6_K:
// int8 sub-scales of d = max_scale / -128), decoded again by the GGUF block decoder; then whole
// tensors through analyzeTensor, storage sizes and the settings' rules.

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/io/GgmlBlocks.h"
#include "quantscope/quant/GgmlBlockQuantizer.h"
#include "quantscope/quant/QuantFormat.h"
#include "quantscope/quant/StorageSize.h"

#include "CliRunner.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <array>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

using namespace quantscope;

namespace {

struct Quantized {
    std::vector<std::byte> bytes;
    std::vector<uint8_t> levels;
    std::vector<bool> clipped;
    std::vector<float> decoded;
};

Quantized quantizeBlock(GgmlType type, const std::vector<float>& values) {
    const GgmlBlockQuantizer quantizer(type);
    Quantized out;
    out.bytes.resize(quantizer.blockBytes());
    out.levels.resize(quantizer.blockElements());
    const auto flags = std::make_unique<bool[]>(quantizer.blockElements());
    quantizer.quantize(values, out.bytes, out.levels,
                       std::span<bool>(flags.get(), quantizer.blockElements()));
    out.clipped.assign(flags.get(), flags.get() + quantizer.blockElements());
    out.decoded.resize(quantizer.blockElements());
    dequantizeGgmlBlocks(type, out.bytes.data(), 1, out.decoded.data());
    return out;
}

unsigned byteAt(const Quantized& q, std::size_t i) {
    return std::to_integer<unsigned>(q.bytes[i]);
}

unsigned halfAt(const Quantized& q, std::size_t i) {
    return byteAt(q, i) | (byteAt(q, i + 1) << 8);
}

QuantSpec ggmlSpec(const char* name, int axis = 1) {
    QuantSpec spec;
    spec.format = QuantFormat::parse(name);
    spec.granularity = Granularity::Group;
    spec.groupSize = spec.format.blockSize();
    spec.axis = axis;
    return spec;
}

QString demo(const char* name) {
    return QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/") + QLatin1String(name);
}

std::vector<float> gaussian(std::size_t n, unsigned seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> values(n);
    for (float& v : values)
        v = normal(generator);
    return values;
}

} // namespace

class TestQuantGgml : public QObject {
    Q_OBJECT

private slots:
    void namesSizesAndRules() {
        for (const char* name : {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k"}) {
            const QuantFormat format = QuantFormat::parse(name);
            QVERIFY(format.isGgml());
            QCOMPARE(format.name(), std::string(name));
        }
        QCOMPARE(QuantFormat::parse("Q4_K").name(), std::string("q4_k")); // llama.cpp's spelling
        QCOMPARE(QuantFormat::parse("q8_0").bitsPerValue(4096), 8.5);     // 34 bytes / 32
        QCOMPARE(QuantFormat::parse("q4_0").bitsPerValue(4096), 4.5);     // 18 / 32
        QCOMPARE(QuantFormat::parse("q4_1").bitsPerValue(4096), 5.0);     // 20 / 32
        QCOMPARE(QuantFormat::parse("q5_0").bitsPerValue(4096), 5.5);     // 22 / 32
        QCOMPARE(QuantFormat::parse("q5_1").bitsPerValue(4096), 6.0);     // 24 / 32
        QCOMPARE(QuantFormat::parse("q4_k").bitsPerValue(4096), 4.5);     // 144 / 256
        QCOMPARE(QuantFormat::parse("q6_k").bitsPerValue(4096), 6.5625);  // 210 / 256
        QCOMPARE(QuantFormat::parse("q4_k").blockSize(), 256);
        QCOMPARE(QuantFormat::parse("q5_1").blockSize(), 32);
        // A [4, 512] weight in q4_k: 8 super-blocks of 144 bytes; in q8_0, 64 blocks of 34.
        QCOMPARE(quantizedStorageBytes(2048, ggmlSpec("q4_k"), 8), uint64_t{8 * 144});
        QCOMPARE(quantizedStorageBytes(2048, ggmlSpec("q8_0"), 64), uint64_t{64 * 34});

        QuantSpec perTensor = ggmlSpec("q4_0");
        perTensor.granularity = Granularity::Tensor;
        QVERIFY_THROWS_EXCEPTION(Error, perTensor.validate());
        // Rows must be whole blocks: 100 values is no multiple of 32.
        try {
            ggmlSpec("q4_0").validateFor({4, 100});
            QFAIL("a partial block was accepted");
        } catch (const Error& error) {
            QVERIFY(std::string(error.what()).find("multiple of 32") != std::string::npos);
        }
    }

    void impliedOptionsAreTheSameForTheCliAndTheApp() {
        // Only --dtype given: a block format groups by its blocks along the inputs.
        QuantSpec q4;
        q4.format = QuantFormat::parse("q4_0");
        q4.fillImplied({});
        QCOMPARE(q4.granularity, Granularity::Group);
        QCOMPARE(q4.groupSize, int64_t{32});
        QCOMPARE(q4.axis, 1);
        q4.validate();
        QuantSpec k6;
        k6.format = QuantFormat::parse("q6_k");
        k6.fillImplied({});
        QCOMPARE(k6.groupSize, int64_t{256});
        // Plain int8 groups keep the user's size; channels run along the outputs.
        QuantSpec group;
        group.granularity = Granularity::Group;
        group.groupSize = 64;
        group.fillImplied({.granularity = true, .groupSize = true});
        QCOMPARE(group.axis, 1);
        QCOMPARE(group.groupSize, int64_t{64});
        QuantSpec channel;
        channel.granularity = Granularity::Channel;
        channel.fillImplied({.granularity = true});
        QCOMPARE(channel.axis, 0);
        // What the user gave stays: an explicit axis and a per-tensor block format (refused later).
        QuantSpec explicitAxis = group;
        explicitAxis.axis = 0;
        explicitAxis.fillImplied({.granularity = true, .groupSize = true, .axis = true});
        QCOMPARE(explicitAxis.axis, 0);
        QuantSpec perTensor = q4;
        perTensor.granularity = Granularity::Tensor;
        perTensor.fillImplied({.granularity = true});
        QCOMPARE(perTensor.granularity, Granularity::Tensor);
        QVERIFY_THROWS_EXCEPTION(Error, perTensor.validate());
    }

    void q8_0RoundsHalfAwayFromZero() {
        std::vector<float> x(32, 0.0f);
        x[0] = 127.0f; // amax 127: d = 1 exactly
        x[1] = 2.5f;   // roundf: 3 (round half to even would give 2)
        x[2] = -2.5f;
        x[3] = 0.4f;
        x[4] = -127.0f;
        const Quantized q = quantizeBlock(GgmlType::Q8_0, x);
        QCOMPARE(halfAt(q, 0), 0x3c00u); // fp16 1.0
        QCOMPARE(static_cast<int8_t>(byteAt(q, 2 + 1)), int8_t{3});
        QCOMPARE(static_cast<int8_t>(byteAt(q, 2 + 2)), int8_t{-3});
        const std::vector<float> expected{127, 3, -3, 0, -127};
        for (std::size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(q.decoded[i], expected[i]);
        QCOMPARE(q.levels[0], uint8_t{255});
        QCOMPARE(q.levels[4], uint8_t{1});
        QVERIFY(std::none_of(q.clipped.begin(), q.clipped.end(), [](bool c) { return c; }));
    }

    void q4_0ScalesByTheSignedMaximum() {
        std::vector<float> x(32, 0.0f);
        x[0] = 8.0f;  // the first value of largest magnitude: d = 8 / -8 = -1
        x[1] = -8.0f; // -8 / -1 + 8.5 = 16.5 -> 16, capped at 15: clipped to -7
        x[2] = -7.0f; // 15 -> -7
        x[3] = 0.4f;  // 8.1 -> 8 -> 0
        x[4] = 1.5f;  // 7.0 -> 7 -> (7 - 8) * -1 = 1: ties go toward the maximum's side
        x[17] = 3.0f; // 5.5 -> 5 -> 3, stored in the high nibble of byte 1
        const Quantized q = quantizeBlock(GgmlType::Q4_0, x);
        QCOMPARE(halfAt(q, 0), 0xbc00u); // fp16 -1.0
        const std::vector<float> expected{8, -7, -7, 0, 1};
        for (std::size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(q.decoded[i], expected[i]);
        QCOMPARE(q.decoded[17], 3.0f);
        QCOMPARE(q.levels[0], uint8_t{0});
        QCOMPARE(q.levels[1], uint8_t{15});
        QCOMPARE(byteAt(q, 2 + 1), 15u | (5u << 4)); // x[1] low nibble, x[17] high nibble
        QVERIFY(q.clipped[1]);
        QVERIFY(!q.clipped[2]);
        QCOMPARE(static_cast<int>(std::count(q.clipped.begin(), q.clipped.end(), true)), 1);
    }

    void q4_1AndQ5_1UseTheBlockMinimum() {
        std::vector<float> x(32, 0.0f);
        x[0] = -1.0f; // min: m = -1
        x[1] = 14.0f; // max: d = 15 / 15 = 1
        x[2] = 2.5f;  // (2.5 + 1) + 0.5 = 4.0 -> 4 -> 3
        x[3] = 2.4f;  // 3.9 -> 3 -> 2
        Quantized q = quantizeBlock(GgmlType::Q4_1, x);
        QCOMPARE(halfAt(q, 0), 0x3c00u);
        QCOMPARE(halfAt(q, 2), 0xbc00u);
        std::vector<float> expected{-1, 14, 3, 2, 0};
        for (std::size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(q.decoded[i], expected[i]);

        std::vector<float> y(32, 0.0f);
        y[0] = 31.0f; // [0, 31]: d = 1, m = 0
        y[1] = 17.0f; // level 17 needs the fifth bit (qh bit 1)
        y[20] = 2.5f; // 3.0 -> 3
        q = quantizeBlock(GgmlType::Q5_1, y);
        QCOMPARE(halfAt(q, 0), 0x3c00u);
        QCOMPARE(halfAt(q, 2), 0x0000u);
        QCOMPARE(q.decoded[0], 31.0f);
        QCOMPARE(q.decoded[1], 17.0f);
        QCOMPARE(q.decoded[20], 3.0f);
        const unsigned highBits = byteAt(q, 4) | (byteAt(q, 5) << 8);
        QCOMPARE(highBits & 0x3u, 0x3u); // levels 31 and 17 both have the fifth bit
    }

    void q5_0CapsAt31() {
        std::vector<float> x(32, 0.0f);
        x[0] = -16.0f; // d = -16 / -16 = 1
        x[1] = 16.0f;  // 32.5 -> 32, capped at 31: clipped to 15
        x[2] = 15.0f;  // 31 -> 15
        x[20] = 0.5f;  // 17.0 -> 17 -> 1: qh bit 20
        const Quantized q = quantizeBlock(GgmlType::Q5_0, x);
        QCOMPARE(halfAt(q, 0), 0x3c00u);
        QCOMPARE(q.decoded[0], -16.0f);
        QCOMPARE(q.decoded[1], 15.0f);
        QCOMPARE(q.decoded[2], 15.0f);
        QCOMPARE(q.decoded[20], 1.0f);
        QVERIFY(q.clipped[1]);
        const uint32_t highBits =
            byteAt(q, 2) | (byteAt(q, 3) << 8) | (byteAt(q, 4) << 16) | (byteAt(q, 5) << 24);
        QVERIFY((highBits >> 20) & 1u);
    }

    void q4_KOnIntegerRamps() {
        // Every sub-block holds 0..15 twice: the min-max fit is exact (scale 1, min 0), so the
        // sub-scales are all 63 and d = fp16(1 / 63) = 65 / 4096 (0x2410); dmin = 0.
        std::vector<float> x(256);
        for (std::size_t i = 0; i < x.size(); ++i)
            x[i] = static_cast<float>(i % 16);
        Quantized q = quantizeBlock(GgmlType::Q4_K, x);
        QCOMPARE(halfAt(q, 0), 0x2410u);
        QCOMPARE(halfAt(q, 2), 0x0000u);
        for (std::size_t i = 0; i < 4; ++i)
            QCOMPARE(byteAt(q, 4 + i), 0xffu); // sub-scales 0..3 = 63, with the top bits of 4..7
        for (std::size_t i = 4; i < 8; ++i)
            QCOMPARE(byteAt(q, 4 + i), 0x00u); // mins 0
        for (std::size_t i = 8; i < 12; ++i)
            QCOMPARE(byteAt(q, 4 + i), 0x0fu); // low bits of sub-scales 4..7
        for (std::size_t i = 0; i < x.size(); ++i) {
            QCOMPARE(q.levels[i], static_cast<uint8_t>(i % 16));
            QCOMPARE(q.decoded[i], x[i] * 4095.0f / 4096.0f); // d * 63 = 4095 / 4096
        }

        // -8..7: min -8, so dmin = fp16(8 / 63) = 65 / 512 (0x3010) and every min is 63.
        for (std::size_t i = 0; i < x.size(); ++i)
            x[i] = static_cast<float>(static_cast<int>(i % 16) - 8);
        q = quantizeBlock(GgmlType::Q4_K, x);
        QCOMPARE(halfAt(q, 0), 0x2410u);
        QCOMPARE(halfAt(q, 2), 0x3010u);
        for (std::size_t i = 0; i < 12; ++i)
            QCOMPARE(byteAt(q, 4 + i), 0xffu);
        for (std::size_t i = 0; i < x.size(); ++i) {
            QCOMPARE(q.levels[i], static_cast<uint8_t>(i % 16));
            QCOMPARE(q.decoded[i], x[i] * 4095.0f / 4096.0f);
        }
    }

    void q6_KOnIntegerSubBlocks() {
        // Sub-blocks of 16 integers led by -32: the fit is exact (scale 1), so d = 1 / -128
        // (fp16 0xa000), every int8 sub-scale is -128 and the values come back exactly.
        std::vector<float> x(256);
        for (std::size_t i = 0; i < x.size(); ++i) {
            const int k = static_cast<int>(i % 16);
            x[i] = k == 0 ? -32.0f : static_cast<float>(4 * k - 31 + static_cast<int>(i / 16) % 3);
        }
        const Quantized q = quantizeBlock(GgmlType::Q6_K, x);
        QCOMPARE(halfAt(q, 208), 0xa000u);
        for (std::size_t i = 192; i < 208; ++i)
            QCOMPARE(byteAt(q, i), 0x80u);
        for (std::size_t i = 0; i < x.size(); ++i) {
            QCOMPARE(q.decoded[i], x[i]);
            QCOMPARE(static_cast<int>(q.levels[i]), static_cast<int>(x[i]) + 32);
        }
        // An all-zero super-block is stored as zeros.
        const Quantized zero = quantizeBlock(GgmlType::Q6_K, std::vector<float>(256, 0.0f));
        QVERIFY(
            std::all_of(zero.bytes.begin(), zero.bytes.end(), [](std::byte b) { return b == std::byte{0}; }));
    }

    void errorsStayWithinTheirSteps() {
        // On Gaussian rows every format keeps its expected accuracy; more bits, less error.
        const auto values = gaussian(256 * 64, 7);
        const Tensor tensor("w", {64, 256}, values);
        std::map<std::string, double> sqnr;
        for (const char* name : {"q8_0", "q6_k", "q5_1", "q5_0", "q4_k", "q4_1", "q4_0"}) {
            AnalysisOptions options;
            options.keepDequantized = true;
            const TensorAnalysis analysis = analyzeTensor(tensor, ggmlSpec(name), options);
            QCOMPARE(analysis.metrics.count, int64_t{256 * 64});
            sqnr[name] = analysis.metrics.sqnrDb;
            // Each block's values come back from the decoder as llama.cpp reads them.
            const GgmlBlockQuantizer quantizer(ggmlTypeOf(QuantFormat::parse(name)));
            const std::size_t n = quantizer.blockElements();
            const std::vector<float> firstBlock(values.begin(), values.begin() + static_cast<long>(n));
            const Quantized q = quantizeBlock(quantizer.type(), firstBlock);
            for (std::size_t i = 0; i < n; ++i)
                QCOMPARE(analysis.dequantized[i], q.decoded[i]);
        }
        // Reference points: uniform-grid SQNR of Gaussian data is about 6.02 b - 1.25 dB for b bits
        // at these block sizes.
        QVERIFY2(sqnr["q8_0"] > 38.0, qPrintable(QString::number(sqnr["q8_0"])));
        QVERIFY2(sqnr["q6_k"] > 26.0, qPrintable(QString::number(sqnr["q6_k"])));
        QVERIFY2(sqnr["q4_0"] > 16.0, qPrintable(QString::number(sqnr["q4_0"])));
        QVERIFY(sqnr["q8_0"] > sqnr["q6_k"]);
        QVERIFY(sqnr["q6_k"] > sqnr["q5_1"]);
        QVERIFY(sqnr["q5_1"] > sqnr["q4_1"]);
        QVERIFY(sqnr["q5_0"] > sqnr["q4_0"]);
        QVERIFY(sqnr["q4_k"] > sqnr["q4_0"]); // the k-quant's fitted sub-scales win at 4.5 bits too
    }

    void blocksAlongAnotherAxisAndNonFiniteValues() {
        // Groups along axis 0 of a [64, 3] tensor: column c is the block of values c, c + 3, ...
        std::vector<float> values(64 * 3);
        for (std::size_t i = 0; i < values.size(); ++i)
            values[i] = static_cast<float>(static_cast<int>(i / 3) - 32) * static_cast<float>(i % 3 + 1);
        values[5] = std::numeric_limits<float>::quiet_NaN();
        const Tensor tensor("t", {64, 3}, values);
        AnalysisOptions options;
        options.keepDequantized = true;
        options.perBlockMetrics = true;
        const TensorAnalysis analysis = analyzeTensor(tensor, ggmlSpec("q8_0", 0), options);
        QCOMPARE(analysis.params.blockCount(), std::size_t{6}); // 2 groups of 32 x 3 columns
        QCOMPARE(analysis.metrics.nonfinite, int64_t{1});
        QCOMPARE(analysis.metrics.count, int64_t{64 * 3 - 1});
        // Column 1 of rows 0..31: -64, -62, ..., -2 (the NaN is in column 2): amax 64, d = 64 / 127.
        std::vector<float> column;
        for (int r = 0; r < 32; ++r)
            column.push_back(values[static_cast<std::size_t>(r * 3 + 1)]);
        const Quantized q = quantizeBlock(GgmlType::Q8_0, column);
        for (int r = 0; r < 32; ++r)
            QCOMPARE(analysis.dequantized[static_cast<std::size_t>(r * 3 + 1)],
                     q.decoded[static_cast<std::size_t>(r)]);
        QCOMPARE(analysis.params.max[1], -2.0f);
        QCOMPARE(analysis.params.min[1], -64.0f);
    }

    void givenParametersAndActivationsAreRefused() {
        const Tensor tensor("w", {2, 32}, gaussian(64, 3));
        AnalysisOptions options;
        options.fixedParams = QParams{{0.0f, 0.0f}, {1.0f, 1.0f}, {0.1f, 0.1f}, {0, 0}, 0, 0};
        QVERIFY_THROWS_EXCEPTION(Error, analyzeTensor(tensor, ggmlSpec("q4_0"), options));

        // A qparams document keeps the settings only: no block parameters to write or read.
        QParamsDocument document;
        QParamsEntry entry;
        entry.name = "w";
        entry.shape = {2, 32};
        entry.spec = ggmlSpec("q4_0");
        entry.params = analyzeTensor(tensor, entry.spec).params;
        document.tensors.push_back(entry);
        const std::string json = document.toJson();
        QVERIFY(json.find("\"scale\"") == std::string::npos);
        const QParamsDocument back = QParamsDocument::fromJson(json, "doc.json");
        QCOMPARE(back.tensors.size(), std::size_t{1});
        QVERIFY(back.tensors[0].spec.format == QuantFormat::parse("q4_0"));
        QVERIFY(!back.tensors[0].params);
    }

    void commandLineAnalysesAsLlamaCppQuantizes() {
        // The demo MLP: fc1 [256, 64] and fc3 [10, 128] have rows 256 does not divide (q5_0, as
        // llama.cpp falls back), fc2 [128, 256] takes q4_k, the biases stay float.
        const CliRun all = runCli({QStringLiteral("analyze"), demo("digits_mlp.safetensors"),
                                   QStringLiteral("--dtype"), QStringLiteral("q4_k")});
        QCOMPARE(all.exitCode, 0);
        QVERIFY(all.out.contains(
            QRegularExpression(QStringLiteral("fc1\\.weight +\\[256, 64\\] +q5_0 +llama\\.cpp"))));
        QVERIFY(all.out.contains(QRegularExpression(QStringLiteral("fc2\\.weight +\\[128, 256\\] +q4_k"))));
        QVERIFY(!all.out.contains(QStringLiteral("fc1.bias")));
        QVERIFY(all.err.contains(QStringLiteral("fc1.bias is 1-D")));
        QVERIFY(all.err.contains(QStringLiteral("analysed as q5_0")));

        // One tensor asked for by name keeps the error that names the row length.
        const CliRun one =
            runCli({QStringLiteral("analyze"), demo("digits_mlp.safetensors"), QStringLiteral("--dtype"),
                    QStringLiteral("q4_k"), QStringLiteral("--tensor"), QStringLiteral("fc1.weight")});
        QCOMPARE(one.exitCode, 1);
        QVERIFY(one.err.contains(QStringLiteral("fc1.weight")));
        QVERIFY(one.err.contains(QStringLiteral("a multiple of 256")));

        // Activations refuse the weight-only formats.
        const CliRun eval =
            runCli({QStringLiteral("eval"), demo("digits_mlp.onnx"), QStringLiteral("--samples"),
                    demo("digits_test.npy"), QStringLiteral("--mode"), QStringLiteral("static"),
                    QStringLiteral("--dtype"), QStringLiteral("q8_0")});
        QCOMPARE(eval.exitCode, 1);
        QVERIFY(eval.err.contains(QStringLiteral("--dtype: q8_0 is one of llama.cpp's weight formats")));
    }

    void tensorsInParallelGiveTheSameResults() {
        // analyze --threads 2 runs tensors side by side: the same table as one thread, in file order.
        const QStringList arguments{QStringLiteral("analyze"),       demo("digits_cnn.safetensors"),
                                    QStringLiteral("--scheme"),      QStringLiteral("symmetric"),
                                    QStringLiteral("--granularity"), QStringLiteral("channel")};
        const CliRun one = runCli(arguments + QStringList{QStringLiteral("--threads"), QStringLiteral("1")});
        const CliRun two = runCli(arguments + QStringList{QStringLiteral("--threads"), QStringLiteral("2")});
        QCOMPARE(one.exitCode, 0);
        QCOMPARE(two.exitCode, 0);
        QCOMPARE(two.out, one.out);
        // A tensor that fails stops the run with its own error: fc3's axis 0 holds 10 values,
        // no whole q4_0 block.
        const CliRun failing =
            runCli({QStringLiteral("analyze"), demo("digits_mlp.safetensors"), QStringLiteral("--dtype"),
                    QStringLiteral("q4_0"), QStringLiteral("--axis"), QStringLiteral("0"),
                    QStringLiteral("--threads"), QStringLiteral("2")});
        QCOMPARE(failing.exitCode, 1);
        QVERIFY2(failing.err.contains(QStringLiteral("fc3.weight")), qPrintable(failing.err));
        QVERIFY(failing.out.isEmpty());
    }

    void planKeepsItsBudgetAndWritesOverrides() {
        QTemporaryDir dir;
        const QString types = dir.filePath(QStringLiteral("types.txt"));
        const CliRun run = runCli(
            {QStringLiteral("plan"), demo("digits_mlp.safetensors"), QStringLiteral("--budget"),
             QStringLiteral("6"), QStringLiteral("--candidates"), QStringLiteral("q4_0,q8_0"),
             QStringLiteral("--json"), QStringLiteral("-"), QStringLiteral("--llama-tensor-types"), types});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject plan = QJsonDocument::fromJson(run.out.toUtf8()).object();
        QVERIFY(plan[QLatin1String("bits_per_value")].toDouble() <= 6.0);
        const QJsonArray candidates = plan[QLatin1String("candidates")].toArray();
        QCOMPARE(candidates.size(), 2);
        QCOMPARE(candidates[0].toObject()[QLatin1String("bits_per_value")].toDouble(), 4.5); // 18 bytes / 32
        QCOMPARE(candidates[1].toObject()[QLatin1String("bits_per_value")].toDouble(), 8.5); // 34 bytes / 32
        QVERIFY(plan[QLatin1String("weighted_sqnr_db")].toDouble() >
                candidates[0].toObject()[QLatin1String("weighted_sqnr_db")].toDouble());
        // Bits per value from the choices: (sum of elements * bits) / elements.
        double bits = 0.0, values = 0.0;
        const QJsonArray tensors = plan[QLatin1String("tensors")].toArray();
        QCOMPARE(tensors.size(), 3); // the three weights; biases stay float
        for (const auto& item : tensors) {
            const QJsonObject tensor = item.toObject();
            values += tensor[QLatin1String("elements")].toDouble();
            bits += tensor[QLatin1String("elements")].toDouble() *
                    tensor[QLatin1String("bits_per_value")].toDouble();
        }
        QCOMPARE(bits / values, plan[QLatin1String("bits_per_value")].toDouble());

        QFile file(types);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QStringList lines =
            QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0] == QStringLiteral("^fc1\\.weight$=q4_0") ||
                lines[0] == QStringLiteral("^fc1\\.weight$=q8_0"));

        const CliRun tooSmall =
            runCli({QStringLiteral("plan"), demo("digits_mlp.safetensors"), QStringLiteral("--budget"),
                    QStringLiteral("4"), QStringLiteral("--candidates"), QStringLiteral("q4_0,q8_0")});
        QCOMPARE(tooSmall.exitCode, 1);
        QVERIFY(
            tooSmall.err.contains(QStringLiteral("--budget: budget 4 bits per value is below the cheapest")));
    }
};

QTEST_GUILESS_MAIN(TestQuantGgml)
#include "tst_quant_ggml.moc"
