// Long parameter arrays in a .npz sidecar beside the qparams JSON: written together with the JSON,
// read back bit for bit, the JSON-only form still read, and hostile references refused.
#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/io/NpzReader.h"

#include <QtTest>

#include <cstring>
#include <fstream>
#include <random>
#include <span>
#include <sstream>

using namespace quantscope;

namespace {

std::string readText(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeText(const QString& path, const std::string& text) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out << text;
}

bool sameBits(std::span<const float> a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

class TestQParamsSidecar : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QParamsDocument m_document;
    QParams m_big;   // 256 rows × 32 groups of 128: 8192 entries, past the 4096 threshold
    QParams m_small; // per channel, 16 entries

private slots:
    void initTestCase() {
        std::mt19937 rng(20261130);
        std::normal_distribution<float> normal(0.0f, 0.02f);
        std::vector<float> values(256 * 4096);
        for (auto& v : values)
            v = normal(rng);
        values[12345] = 0.9f; // one group with an outlier
        QuantSpec int4;
        int4.format = QuantFormat::parse("int4");
        int4.scheme = Scheme::Affine;
        int4.granularity = Granularity::Group;
        int4.axis = 1;
        int4.groupSize = 128;
        const TensorAnalysis big = analyzeTensor(Tensor("big.weight", {256, 4096}, values), int4, {});
        m_big = big.params;
        QCOMPARE(m_big.scale.size(), std::size_t{8192});

        QuantSpec perChannel;
        perChannel.scheme = Scheme::Symmetric;
        perChannel.granularity = Granularity::Channel;
        std::vector<float> smallValues(values.begin(), values.begin() + 16 * 8);
        const TensorAnalysis small =
            analyzeTensor(Tensor("small.weight", {16, 8}, smallValues), perChannel, {});
        m_small = small.params;

        m_document.tensors.push_back(
            {"big.weight", TensorKind::Weight, {256, 4096}, int4, m_big, big.metrics});
        m_document.tensors.push_back(
            {"small.weight", TensorKind::Weight, {16, 8}, perChannel, m_small, small.metrics});
    }

    void sidecarPathFollowsTheJson() {
        QCOMPARE(QParamsDocument::sidecarPath("/a/model.qparams.json"), std::string("/a/model.qparams.npz"));
        QCOMPARE(QParamsDocument::sidecarPath("model.json"), std::string("model.qparams.npz"));
        QCOMPARE(QParamsDocument::sidecarPath("x"), std::string("x.qparams.npz"));
    }

    void roundTripThroughTheSidecarIsBitExact() {
        const QString json = m_dir.filePath(QStringLiteral("model.qparams.json"));
        m_document.writeFile(json.toStdString(), true);
        const QString npz = m_dir.filePath(QStringLiteral("model.qparams.npz"));
        QVERIFY(QFileInfo::exists(npz));

        // The JSON refers to the long arrays and keeps the short ones inline.
        const std::string text = readText(json);
        QVERIFY(text.find(R"("file": "model.qparams.npz")") != std::string::npos);
        QVERIFY(text.find(R"("key": "big.weight/scale")") != std::string::npos);
        QVERIFY(text.find(R"("key": "small.weight/scale")") == std::string::npos);
        QVERIFY2(text.size() < 20000, "the JSON holds no long arrays");

        // The sidecar is an ordinary .npz: its arrays hold the values, in the order of the groups.
        const NpzReader archive(npz.toStdString());
        QCOMPARE(archive.tensors().size(), std::size_t{4});
        QVERIFY(sameBits(archive.load("big.weight/scale").values(), m_big.scale));

        const QParamsDocument back = QParamsDocument::readFile(json.toStdString());
        QCOMPARE(back.tensors.size(), std::size_t{2});
        const QParams& big = *back.tensors[0].params;
        QVERIFY(sameBits(big.scale, m_big.scale));
        QVERIFY(sameBits(big.min, m_big.min));
        QVERIFY(sameBits(big.max, m_big.max));
        QCOMPARE(big.zeroPoint, m_big.zeroPoint);
        QVERIFY(sameBits(back.tensors[1].params->scale, m_small.scale));
        QCOMPARE(back.tensors[1].params->zeroPoint, m_small.zeroPoint);
    }

    void jsonOnlyFormStillReads() {
        const QString json = m_dir.filePath(QStringLiteral("inline.json"));
        m_document.writeFile(json.toStdString());
        QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("inline.qparams.npz"))));
        const QParamsDocument back = QParamsDocument::readFile(json.toStdString());
        QVERIFY(sameBits(back.tensors[0].params->scale, m_big.scale));
        QCOMPARE(back.tensors[0].params->zeroPoint, m_big.zeroPoint);
    }

    void badReferencesAreClearErrors_data() {
        QTest::addColumn<QString>("reference");
        QTest::addColumn<QString>("expected");
        QTest::newRow("outside") << R"({"file": "../model.qparams.npz", "key": "big.weight/scale"})"
                                 << "beside the document";
        QTest::newRow("not npz") << R"({"file": "model.qparams.json", "key": "big.weight/scale"})"
                                 << "beside the document";
        QTest::newRow("missing file") << R"({"file": "gone.qparams.npz", "key": "big.weight/scale"})"
                                      << "gone.qparams.npz";
        QTest::newRow("missing key") << R"({"file": "model.qparams.npz", "key": "nothing/scale"})"
                                     << "nothing/scale";
        QTest::newRow("no key") << R"({"file": "model.qparams.npz"})"
                                << "must be an array";
    }

    void badReferencesAreClearErrors() {
        QFETCH(QString, reference);
        QFETCH(QString, expected);
        const QString good = m_dir.filePath(QStringLiteral("model.qparams.json"));
        m_document.writeFile(good.toStdString(), true);
        std::string text = readText(good);
        const std::string original = R"({
        "file": "model.qparams.npz",
        "key": "big.weight/scale"
      })";
        const auto at = text.find(original);
        QVERIFY2(at != std::string::npos, text.substr(0, 2000).c_str());
        text.replace(at, original.size(), reference.toStdString());
        const QString bad = m_dir.filePath(QStringLiteral("bad.json"));
        writeText(bad, text);
        try {
            QParamsDocument::readFile(bad.toStdString());
            QFAIL("a bad sidecar reference was accepted");
        } catch (const Error& error) {
            const QString message = QString::fromStdString(error.what());
            QVERIFY2(message.contains(expected) && message.contains(QStringLiteral("bad.json")),
                     qPrintable(message));
        }
    }
};

QTEST_GUILESS_MAIN(TestQParamsSidecar)
#include "tst_qparams_sidecar.moc"
