// quantscope-cli on GGUF files: info (ggml types, row-major shapes, metadata), info --tensor
// --block (stored block parameters, text and JSON), dump (float32 .npy, dequantized, for GGUF and
// the other formats), analyze, and the errors scripts see.

#include "tst_io_gguf_writer.h"
#include "tst_io_support.h"

#include "quantscope/io/GgufReader.h"
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/WeightFile.h"

#include "CliRunner.h"

#include <QtTest>

using namespace quantscope;
namespace gw = ggufwriter;

namespace {

QJsonObject parseJson(const QString& text) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("JSON error: %s", qPrintable(error.errorString()));
    return document.object();
}

// One Q8_0 block: d = 0.5 (fp16 0x3800), quants -16 ... 15, so values -8 ... 7.5.
std::string q8Block(int8_t offset) {
    std::string block = gw::u16(0x3800);
    for (int j = 0; j < 32; ++j)
        block += static_cast<char>(static_cast<int8_t>(j - 16 + offset));
    return block;
}

// A Q4_K super-block: d = 0.25, dmin = 0.5, sub-block j has scale j + 1 and min 2 j, quants j.
std::string q4kBlock() {
    std::string block = gw::u16(0x3400) + gw::u16(0x3800);
    unsigned char scales[12] = {};
    for (int j = 0; j < 8; ++j) {
        const int ls = j + 1;
        const int lm = 2 * j;
        if (j < 4) {
            scales[j] = static_cast<unsigned char>(ls);
            scales[j + 4] = static_cast<unsigned char>(lm);
        } else {
            scales[j + 4] = static_cast<unsigned char>((ls & 0xF) | ((lm & 0xF) << 4));
            scales[j - 4] |= static_cast<unsigned char>((ls >> 4) << 6);
            scales[j] |= static_cast<unsigned char>((lm >> 4) << 6);
        }
    }
    block += std::string(reinterpret_cast<const char*>(scales), 12);
    for (int half = 0; half < 4; ++half)
        for (int l = 0; l < 32; ++l)
            block += static_cast<char>((2 * half) | ((2 * half + 1) << 4));
    return block;
}

} // namespace

class TestGgufCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_model;

    QString path(const char* name) const { return m_dir.filePath(QString::fromLatin1(name)); }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        gw::Writer writer;
        writer.string("general.architecture", "llama");
        writer.key("llama.block_count", gw::U32, gw::u32(1));
        writer.string("general.name", "caf\xe9"); // Latin-1, not UTF-8
        writer.array("tokenizer.ggml.tokens", gw::String, 2, gw::str("<s>") + gw::str("hi"));
        // ne = [64, 2]: two rows of 64, shown [2, 64].
        writer.tensor(
            {"blk.0.attn_q.weight", {64, 2}, 8, q8Block(0) + q8Block(1) + q8Block(2) + q8Block(3), {}});
        writer.tensor({"blk.0.ffn_down.weight", {256}, 12, q4kBlock(), {}});
        writer.tensor(
            {"output_norm.weight", {4}, 0, gw::f32(1) + gw::f32(2) + gw::f32(-3) + gw::f32(0.5f), {}});
        writer.tensor({"blk.0.attn_k.weight", {256}, 16, std::string(66, '\0'), {}}); // iq2_xxs
        m_model = path("model.gguf");
        QVERIFY(iotest::writeBytes(m_model.toStdString(), writer.build()));
    }

    void infoListsGgmlTypesAndRowMajorShapes() {
        const CliRun run = runCli({QStringLiteral("info"), m_model});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains(QLatin1String("gguf, 4 tensors")), qPrintable(run.out));
        QVERIFY(run.out.contains(QLatin1String("general.architecture: llama")));
        QVERIFY(run.out.contains(QLatin1String("tokenizer.ggml.tokens: [\"<s>\", \"hi\"]")));
        QVERIFY(run.out.contains(QLatin1String("q8_0")));
        QVERIFY(run.out.contains(QLatin1String("q4_k")));
        QVERIFY(run.out.contains(QLatin1String("iq2_xxs")));
        QVERIFY(run.out.contains(QLatin1String("[2, 64]")));

        const CliRun json =
            runCli({QStringLiteral("info"), m_model, QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(json.exitCode, 0);
        const QJsonObject document = parseJson(json.out);
        QCOMPARE(document[QLatin1String("format")].toString(), QStringLiteral("gguf"));
        const QJsonObject metadata = document[QLatin1String("metadata")].toObject();
        QCOMPARE(metadata[QLatin1String("llama.block_count")].toString(), QStringLiteral("1"));
        QCOMPARE(metadata[QLatin1String("general.name")].toString(), QStringLiteral("caf\uFFFD"));
        const QJsonArray tensors = document[QLatin1String("tensors")].toArray();
        QCOMPARE(tensors.size(), 4);
        const QJsonObject q = tensors[0].toObject();
        QCOMPARE(q[QLatin1String("dtype")].toString(), QStringLiteral("q8_0"));
        QCOMPARE(q[QLatin1String("shape")].toArray(), (QJsonArray{2, 64}));
        QCOMPARE(q[QLatin1String("bytes")].toInt(), 4 * 34);
        QCOMPARE(tensors[2].toObject()[QLatin1String("dtype")].toString(), QStringLiteral("f32"));
    }

    void infoShowsTheStoredParametersOfABlock() {
        const CliRun run =
            runCli({QStringLiteral("info"), m_model, QStringLiteral("--tensor"),
                    QStringLiteral("blk.0.ffn_down.weight"), QStringLiteral("--block"), QStringLiteral("0")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(
            run.out.contains(QLatin1String("q4_k [256], 256 elements, 144 bytes, 1 blocks of 256 elements")),
            qPrintable(run.out));
        QVERIFY(
            run.out.contains(QRegularExpression(QStringLiteral("\\bscales +\\[1, 2, 3, 4, 5, 6, 7, 8\\]"))));
        QVERIFY(
            run.out.contains(QRegularExpression(QStringLiteral("\\bmins +\\[0, 2, 4, 6, 8, 10, 12, 14\\]"))));
        QVERIFY(run.out.contains(QRegularExpression(QStringLiteral("\\bdmin +0.5\\b"))));
        QVERIFY(run.out.contains(QRegularExpression(QStringLiteral("\\bd +0.25\\b"))));

        const CliRun json = runCli({QStringLiteral("info"), m_model, QStringLiteral("--tensor"),
                                    QStringLiteral("blk.0.attn_q.weight"), QStringLiteral("--block"),
                                    QStringLiteral("3"), QStringLiteral("--json"), QStringLiteral("-")});
        QCOMPARE(json.exitCode, 0);
        const QJsonObject document = parseJson(json.out);
        const QJsonObject block = document[QLatin1String("block")].toObject();
        QCOMPARE(block[QLatin1String("index")].toInt(), 3);
        QCOMPARE(block[QLatin1String("first_element")].toInt(), 96);
        QCOMPARE(block[QLatin1String("start")].toString(), QStringLiteral("[1, 32]"));
        QCOMPARE(block[QLatin1String("fields")].toObject()[QLatin1String("d")].toDouble(), 0.5);
        QCOMPARE(document[QLatin1String("tensor")].toObject()[QLatin1String("blocks")].toInt(), 4);

        const CliRun outOfRange =
            runCli({QStringLiteral("info"), m_model, QStringLiteral("--tensor"),
                    QStringLiteral("blk.0.attn_q.weight"), QStringLiteral("--block"), QStringLiteral("4")});
        QCOMPARE(outOfRange.exitCode, 1);
        QVERIFY2(outOfRange.err.contains(QLatin1String("blk.0.attn_q.weight: block 4 is out of range")),
                 qPrintable(outOfRange.err));
        const CliRun plain =
            runCli({QStringLiteral("info"), m_model, QStringLiteral("--tensor"),
                    QStringLiteral("output_norm.weight"), QStringLiteral("--block"), QStringLiteral("0")});
        QCOMPARE(plain.exitCode, 1);
        QVERIFY(plain.err.contains(QLatin1String("has no stored blocks")));
        const CliRun usage =
            runCli({QStringLiteral("info"), m_model, QStringLiteral("--block"), QStringLiteral("0")});
        QCOMPARE(usage.exitCode, 2);
    }

    void dumpWritesDequantizedFloat32() {
        const QString out = path("q.npy");
        const CliRun run = runCli({QStringLiteral("dump"), m_model, QStringLiteral("--tensor"),
                                   QStringLiteral("blk.0.attn_q.weight"), QStringLiteral("--out"), out});
        QCOMPARE(run.exitCode, 0);
        NpyReader npy(out.toStdString());
        QCOMPARE(npy.tensors()[0].dtype, DType::F32);
        const Tensor values = npy.load(npy.tensors()[0].name);
        QCOMPARE(values.shape(), (std::vector<int64_t>{2, 64}));
        std::vector<float> expected;
        for (int block = 0; block < 4; ++block)
            for (int j = 0; j < 32; ++j)
                expected.push_back(static_cast<float>(j - 16 + block) * 0.5f);
        QVERIFY(iotest::sameValues(values, expected));

        // Q4_K: element e of sub-block j is 0.25 * (j + 1) * q - 0.5 * 2j, q = 2(e / 64) + (e % 64) / 32.
        const QString k = path("k.npy");
        QCOMPARE(runCli({QStringLiteral("dump"), m_model, QStringLiteral("--tensor"),
                         QStringLiteral("blk.0.ffn_down.weight"), QStringLiteral("--out"), k})
                     .exitCode,
                 0);
        NpyReader kNpy(k.toStdString());
        const Tensor kValues = kNpy.load(kNpy.tensors()[0].name);
        QCOMPARE(kValues.values()[0], 0.0f);             // 0.25 * 1 * 0 - 0
        QCOMPARE(kValues.values()[32], 0.5f * 1 - 1.0f); // sub-block 1: 0.25 * 2 * 1 - 0.5 * 2
        QCOMPARE(kValues.values()[255], 0.25f * 8 * 7 - 7.0f);
    }

    void dumpReadsEveryFormatAndRefusesClearly() {
        const QString demo = QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_mlp.safetensors");
        const QString out = path("fc1.npy");
        QCOMPARE(runCli({QStringLiteral("dump"), demo, QStringLiteral("--tensor"),
                         QStringLiteral("fc1.weight"), QStringLiteral("--out"), out})
                     .exitCode,
                 0);
        const auto original = openWeightFile(demo.toStdString())->load("fc1.weight");
        NpyReader npy(out.toStdString());
        const Tensor dumped = npy.load(npy.tensors()[0].name);
        QCOMPARE(dumped.shape(), original.shape());
        QVERIFY(iotest::sameValues(dumped,
                                   std::vector<float>(original.values().begin(), original.values().end())));

        const QString unreadable = path("k.npy.unreadable");
        const CliRun refused =
            runCli({QStringLiteral("dump"), m_model, QStringLiteral("--tensor"),
                    QStringLiteral("blk.0.attn_k.weight"), QStringLiteral("--out"), unreadable});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains(QLatin1String("ggml type iq2_xxs, which quantscope cannot read")),
                 qPrintable(refused.err));
        QVERIFY(!QFile::exists(unreadable));

        const CliRun missing = runCli({QStringLiteral("dump"), m_model, QStringLiteral("--tensor"),
                                       QStringLiteral("nope"), QStringLiteral("--out"), unreadable});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(missing.err.contains(QLatin1String("nope: no such tensor")));
        QCOMPARE(runCli({QStringLiteral("dump"), m_model, QStringLiteral("--tensor"), QStringLiteral("x")})
                     .exitCode,
                 2);
    }

    void analyzeReadsGgufTensors() {
        const QString out = path("analysis.json");
        const CliRun run = runCli({QStringLiteral("analyze"), m_model, QStringLiteral("--tensor"),
                                   QStringLiteral("blk.0.attn_q.weight"), QStringLiteral("--tensor"),
                                   QStringLiteral("blk.0.ffn_down.weight"), QStringLiteral("--scheme"),
                                   QStringLiteral("symmetric"), QStringLiteral("--json"), out});
        QCOMPARE(run.exitCode, 0);
        QFile file(out);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject document = parseJson(QString::fromUtf8(file.readAll()));
        const QJsonArray tensors = document[QLatin1String("tensors")].toArray();
        QCOMPARE(tensors.size(), 2);
        const QJsonObject q = tensors[0].toObject();
        QCOMPARE(q[QLatin1String("shape")].toArray(), (QJsonArray{2, 64}));
        // Values -8 ... 9 (step 0.5): the symmetric int8 scale is 9 / 127.5.
        QCOMPARE(q[QLatin1String("max")].toArray()[0].toDouble(), 9.0);
        QCOMPARE(q[QLatin1String("min")].toArray()[0].toDouble(), -8.0);
        QVERIFY(qAbs(q[QLatin1String("scale")].toArray()[0].toDouble() - 9.0 / 127.5) < 1e-7);

        const CliRun refused = runCli({QStringLiteral("analyze"), m_model, QStringLiteral("--tensor"),
                                       QStringLiteral("blk.0.attn_k.weight")});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY(refused.err.contains(QLatin1String("blk.0.attn_k.weight: has ggml type iq2_xxs")));
    }
};

QTEST_GUILESS_MAIN(TestGgufCli)
#include "tst_io_gguf_cli.moc"
