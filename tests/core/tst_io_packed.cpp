// PackedCheckpoint: GPTQ (v1 and v2, with and without g_idx, desc_act), AWQ and compressed-tensors
// pack-quantized checkpoints, built by tools/make_packed_checkpoint_data.py from the toolkits'
// documented packings, list each packed weight once and dequantize to exactly the script's values.

#include "tst_io_support.h"

#include "quantscope/io/NpzReader.h"
#include "quantscope/io/PackedCheckpoint.h"
#include "quantscope/io/WeightFile.h"

#include <QFile>
#include <QProcess>

#include <filesystem>

using namespace quantscope;

namespace {

std::string casePath(const std::string& folder, const std::string& file = "model.safetensors") {
    return iotest::dataPath("packed/" + folder + "/" + file);
}

const std::vector<std::string> kModules{"model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"};

// Every tensor the script expects is listed with its shape and loads bit for bit.
bool matchesExpected(const WeightFile& file, const std::string& folder) {
    const NpzReader reference(casePath(folder, "expected.npz"));
    for (const TensorInfo& info : reference.tensors()) {
        const TensorInfo* listed = file.find(info.name);
        if (listed == nullptr || listed->shape != info.shape) {
            qWarning("%s: %s missing or of another shape", folder.c_str(), info.name.c_str());
            return false;
        }
        const Tensor expected = reference.load(info.name);
        if (!iotest::sameValues(file.load(info.name),
                                std::vector<float>(expected.values().begin(), expected.values().end())))
            return false;
    }
    return true;
}

} // namespace

class TestPacked : public QObject {
    Q_OBJECT

private:
    iotest::TempFiles m_files;

private slots:
    void initTestCase() { QVERIFY(m_files.isValid()); }

    void dequantizesEachPacking_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("reason");
        QTest::newRow("gptq v1, config") << "gptq_v1"
                                         << "gptq-v1 int4 g8 (g_idx)"
                                         << "checkpoint_format \"gptq\"";
        QTest::newRow("gptq v2, config") << "gptq_v2"
                                         << "gptq-v2 int4 g8 (g_idx)"
                                         << "checkpoint_format \"gptq_v2\"";
        QTest::newRow("gptq v1 inferred")
            << "gptq_v1_inferred"
            << "gptq-v1 int4 g8"
            << "the stored zeros are 7 everywhere, the symmetric zero 8 minus 1";
        QTest::newRow("gptq v2 inferred")
            << "gptq_v2_inferred"
            << "gptq-v2 int4 g8"
            << "config.json has no checkpoint_format; the stored zeros are 8 everywhere";
        QTest::newRow("gptq desc_act") << "gptq_desc_act"
                                       << "gptq-v1 int4 g8 (g_idx)"
                                       << "checkpoint_format";
        QTest::newRow("awq") << "awq"
                             << "awq int4 g8"
                             << "0 2 4 6 1 3 5 7";
        QTest::newRow("compressed-tensors symmetric") << "ct_int4_sym"
                                                      << "pack-quantized int4 g8 symmetric"
                                                      << "no zero point";
        QTest::newRow("compressed-tensors asymmetric") << "ct_int4_asym"
                                                       << "pack-quantized int4 g8 asymmetric"
                                                       << "zero points packed";
        QTest::newRow("nvfp4") << "nvfp4"
                               << "nvfp4"
                               << "weight_scale (E4M3, per 16) / weight_global_scale";
        QTest::newRow("fp8 e4m3 per channel") << "fp8_e4m3_channel"
                                              << "fp8_e4m3 per-channel"
                                              << "weight_scale";
        QTest::newRow("fp8 e5m2 per tensor") << "fp8_e5m2_tensor"
                                             << "fp8_e5m2 per-tensor"
                                             << "weight_scale";
        QTest::newRow("compressed-tensors, no config") << "ct_int4_noconfig"
                                                       << "pack-quantized int4 g8 symmetric"
                                                       << "codes stored + 8";
    }

    void dequantizesEachPacking() {
        QFETCH(QString, folder);
        QFETCH(QString, format);
        QFETCH(QString, reason);
        const auto file = openWeightFile(casePath(folder.toStdString()));
        QVERIFY(matchesExpected(*file, folder.toStdString()));

        for (const std::string& module : kModules) {
            const std::string name = module + ".weight";
            const TensorInfo* info = file->find(name);
            QVERIFY(info != nullptr);
            QCOMPARE(info->shape, (std::vector<int64_t>{16, 32}));
            // The stored parts are not listed: each packed weight appears once.
            for (const char* part :
                 {".qweight", ".qzeros", ".scales", ".g_idx", ".weight_packed", ".weight_scale",
                  ".weight_zero_point", ".weight_shape", ".weight_global_scale"})
                QVERIFY(file->find(module + part) == nullptr);
            const auto stored = file->storedQuantization(name);
            QVERIFY(stored.has_value());
            QCOMPARE(QString::fromStdString(stored->format), format);
            QVERIFY2(stored->note.find(reason.toStdString()) != std::string::npos, stored->note.c_str());
            QVERIFY(!stored->parameters.empty());
        }
        QVERIFY(!file->storedQuantization("model.norm.weight").has_value());
    }

    void exposesStoredParameters() {
        // GPTQ v1 symmetric: every zero as used is 8 (stored 7, plus 1); scales [groups, out].
        const auto file = openWeightFile(casePath("gptq_v1"));
        const auto stored = file->storedQuantization("model.layers.0.mlp.down_proj.weight");
        QCOMPARE(stored->parameters.size(), std::size_t{3});
        const Tensor& scales = stored->parameters[0];
        QCOMPARE(scales.name(), std::string("model.layers.0.mlp.down_proj.scales"));
        QCOMPARE(scales.shape(), (std::vector<int64_t>{4, 16}));
        const Tensor& zeros = stored->parameters[1];
        QCOMPARE(zeros.shape(), (std::vector<int64_t>{4, 16}));
        for (const float zero : zeros.values())
            QCOMPARE(zero, 8.0f);
        const Tensor& groups = stored->parameters[2];
        QCOMPARE(groups.values()[9], 1.0f); // input 9 is in group 1 (group size 8)
        QVERIFY(file->metadata().at("gptq.checkpoint_format").starts_with("v1"));

        // Asymmetric compressed-tensors: zero points in [-8, 7], one per output row and group.
        const auto ct = openWeightFile(casePath("ct_int4_asym"));
        const auto ctStored = ct->storedQuantization("model.layers.0.self_attn.q_proj.weight");
        QCOMPARE(ctStored->parameters.size(), std::size_t{2});
        QCOMPARE(ctStored->parameters[1].shape(), (std::vector<int64_t>{16, 4}));
        for (const float zero : ctStored->parameters[1].values())
            QVERIFY(zero >= -8.0f && zero <= 7.0f);
    }

    void infoDescribesAPackedTensor() {
        QProcess cli;
        cli.start(QUANTSCOPE_CLI_PATH, {"info", QString::fromStdString(casePath("gptq_v1_inferred")),
                                        "--tensor", "model.layers.0.mlp.down_proj.weight"});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        const QString output = QString::fromUtf8(cli.readAllStandardOutput());
        QVERIFY2(output.contains("stored as gptq-v1 int4 g8"), qPrintable(output));
        QVERIFY2(output.contains("the stored zeros are 7 everywhere"), qPrintable(output));
        QVERIFY2(output.contains("model.layers.0.mlp.down_proj.qzeros [4, 16], min 8, max 8"),
                 qPrintable(output));
    }

    void refusesInconsistentPacking() {
        // A GPTQ file (without g_idx) whose qzeros went missing: the header names them otherwise.
        const std::string folder = m_files.path("broken");
        std::filesystem::create_directories(folder);
        const std::string copy = folder + "/model.safetensors";
        std::filesystem::copy_file(casePath("gptq_v1_inferred"), copy);
        const std::string bad = iotest::readBytes(copy);
        // Rename "qzeros" to "qzeroz" in the header: the module loses its zeros.
        std::string renamed = bad;
        for (std::size_t at = renamed.find(".qzeros"); at != std::string::npos;
             at = renamed.find(".qzeros", at + 1))
            renamed[at + 6] = 'z';
        iotest::writeBytes(copy, renamed);
        QS_VERIFY_ERROR(openWeightFile(copy), copy, "model.layers.0.self_attn.q_proj",
                        "packed weight without its \"model.layers.0.self_attn.q_proj.qzeros\" tensor");

        // A config.json that is not JSON is named in the error.
        std::filesystem::copy_file(casePath("gptq_v1_inferred"), copy,
                                   std::filesystem::copy_options::overwrite_existing);
        iotest::writeBytes(folder + "/config.json", "{\"quantization_config\": ");
        QS_VERIFY_ERROR(openWeightFile(copy), folder + "/config.json", "is not valid JSON");

        // A config whose group size disagrees with the scales.
        iotest::writeBytes(
            folder + "/config.json",
            R"({"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 16}})");
        QS_VERIFY_ERROR(openWeightFile(copy),
                        "group size 16 gives 2 groups over 32 inputs, the scales have 4");

        // 3-bit GPTQ packs across word boundaries: refused by name.
        iotest::writeBytes(
            folder + "/config.json",
            R"({"quantization_config": {"quant_method": "gptq", "bits": 3, "group_size": 8}})");
        QS_VERIFY_ERROR(openWeightFile(copy), "packs 3-bit values (2, 4 and 8 are read)");
    }
};

QTEST_GUILESS_MAIN(TestPacked)
#include "tst_io_packed.moc"
