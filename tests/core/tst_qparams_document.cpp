// The quantscope-qparams v1 document: written, read back bit for bit, and malformed input refused.
#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/io/AtomicFile.h"
#include "quantscope/io/Sha256.h"
#include "quantscope/metrics/MetricsAccumulator.h"

#include <QtTest>

#include <cstring>
#include <fstream>
#include <random>

using namespace quantscope;

class TestQParamsDocument : public QObject {
    Q_OBJECT

private slots:
    void roundTripIsBitExact() {
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.0f, 0.37f);
        std::vector<float> values(12 * 33);
        for (auto& v : values)
            v = normal(rng);
        const Tensor tensor("fc1.weight", {12, 33}, values);
        QuantSpec spec;
        spec.format = QuantFormat::parse("int4");
        spec.scheme = Scheme::Symmetric;
        spec.granularity = Granularity::Group;
        spec.axis = 1;
        spec.groupSize = 8;
        spec.narrowRange = true;
        AnalysisOptions options;
        options.keepIntegers = true;
        const TensorAnalysis analysis = analyzeTensor(tensor, spec, options);

        QParamsDocument document;
        document.source = FileReference{"model.safetensors", "abc", 123, std::nullopt};
        document.tensors.push_back(
            {tensor.name(), TensorKind::Weight, tensor.shape(), spec, analysis.params, analysis.metrics});
        const std::string json = document.toJson();
        const QParamsDocument back = QParamsDocument::fromJson(json, "p.json");

        QCOMPARE(back.tensors.size(), std::size_t{1});
        const QParamsEntry& entry = back.tensors[0];
        QVERIFY(entry.spec == spec);
        QVERIFY(entry.params.has_value());
        QCOMPARE(entry.params->scale.size(), analysis.params.scale.size());
        QCOMPARE(entry.params->scale.size(), std::size_t{12 * 5});
        QVERIFY(std::memcmp(entry.params->scale.data(), analysis.params.scale.data(),
                            analysis.params.scale.size() * sizeof(float)) == 0);
        QCOMPARE(entry.params->zeroPoint, analysis.params.zeroPoint);
        QVERIFY(entry.params->min == analysis.params.min);
        QVERIFY(back.calibration == std::nullopt);
        QCOMPARE(back.source->bytes, uint64_t{123});
        QCOMPARE(entry.metrics->levelsUsed, analysis.metrics.levelsUsed);
        QCOMPARE(entry.metrics->mse, analysis.metrics.mse);

        // Applying the read-back parameters reproduces the same integers.
        AnalysisOptions applied = options;
        applied.fixedParams = entry.params;
        QCOMPARE(analyzeTensor(tensor, entry.spec, applied).integers, analysis.integers);
        // Writing the read-back document gives the same text.
        QCOMPARE(back.toJson(), json);
    }

    void documentFields() {
        QParamsDocument document;
        QuantSpec spec;
        document.tensors.push_back({"x",
                                    TensorKind::Activation,
                                    {4},
                                    spec,
                                    QParams{{-1.f}, {1.f}, {0.5f}, {3}, -128, 127},
                                    MetricsAccumulator(256).finish()});
        const std::string json = document.toJson();
        for (const char* expected :
             {"\"format\": \"quantscope-qparams\"", "\"version\": 1", "\"calibration\": null",
              "\"kind\": \"activation\"", "\"dtype\": \"int8\"", "\"qmin\": -128", "\"axis\": null",
              "\"group_size\": null", "\"method\": \"minmax\"", "\"sqnr_db\": null",
              "\"sqnr_note\": \"zero signal\"", "\"zero_point\": [\n        3\n      ]"})
            QVERIFY2(json.find(expected) != std::string::npos, expected);
    }

    void storedParametersAreMarked() {
        // An entry whose scale and zero point are the source file's own says so; others do not.
        QParamsDocument document;
        QParamsEntry stored;
        stored.name = "fc.weight";
        stored.shape = {2};
        stored.params = QParams{{-1.0f}, {1.0f}, {0.5f}, {3}, -128, 127};
        stored.stored = true;
        QParamsEntry own = stored;
        own.name = "fc.bias";
        own.stored = false;
        document.tensors = {stored, own};
        const std::string json = document.toJson();
        QCOMPARE(QString::fromStdString(json).count(QStringLiteral("\"stored\": true")), 1);
        const QParamsDocument read = QParamsDocument::fromJson(json, "p.json");
        QVERIFY(read.find("fc.weight")->stored);
        QVERIFY(!read.find("fc.bias")->stored);
    }

    void malformedDocumentsNameTheProblem_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QStringLiteral("{nope") << QStringLiteral("p.json: not valid JSON");
        // A number beyond double's range is JSON the parser refuses with another exception type.
        QTest::newRow("number overflow")
            << QStringLiteral(R"({"format":"quantscope-qparams","version":-1e309})")
            << QStringLiteral("p.json: not valid JSON");
        QTest::newRow("wrong format") << QStringLiteral(R"({"format":"other","version":1})")
                                      << QStringLiteral("not a quantscope-qparams document");
        QTest::newRow("version") << QStringLiteral(
                                        R"({"format":"quantscope-qparams","version":2,"tensors":[]})")
                                 << QStringLiteral("version");
        QTest::newRow("bad dtype")
            << QStringLiteral(
                   R"({"format":"quantscope-qparams","version":1,"tensors":[{"name":"w","dtype":"int17"}]})")
            << QStringLiteral("tensors[0] 'w': --dtype: bit width 17");
        QTest::newRow("length mismatch")
            << QStringLiteral(
                   R"({"format":"quantscope-qparams","version":1,"tensors":[{"name":"w","dtype":"int8","scale":[1,2],"zero_point":[0]}]})")
            << QStringLiteral("'zero_point' has 1 entries but 'scale' has 2");
        QTest::newRow("negative scale")
            << QStringLiteral(
                   R"({"format":"quantscope-qparams","version":1,"tensors":[{"name":"w","dtype":"int8","scale":[-1],"zero_point":[0]}]})")
            << QStringLiteral("positive finite");
        QTest::newRow("qmin disagrees")
            << QStringLiteral(
                   R"({"format":"quantscope-qparams","version":1,"tensors":[{"name":"w","dtype":"int8","qmin":-127}]})")
            << QStringLiteral("field 'qmin' is -127");
        QTest::newRow("percentile")
            << QStringLiteral(
                   R"({"format":"quantscope-qparams","version":1,"tensors":[{"name":"w","dtype":"int8","calib":{"method":"percentile","percentile":101}}]})")
            << QStringLiteral("percentile 101 is out of range");
    }

    void malformedDocumentsNameTheProblem() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        try {
            QParamsDocument::fromJson(json.toStdString(), "p.json");
            QFAIL("accepted a malformed document");
        } catch (const Error& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(expected), error.what());
        }
    }

    void atomicWriteKeepsTheOldFileOnFailure() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("out.json")).toStdString();
        writeFileAtomically(path, "first");
        writeFileAtomically(path, "second");
        std::ifstream in(path);
        std::string text;
        std::getline(in, text);
        QCOMPARE(QString::fromStdString(text), QStringLiteral("second"));
        QVERIFY_THROWS_EXCEPTION(
            Error, writeFileAtomically(dir.filePath(QStringLiteral("missing/out.json")).toStdString(), "x"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("out.json")});
    }

    void sha256KnownAnswers() {
        QCOMPARE(QString::fromStdString(sha256OfBytes("")),
                 QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(QString::fromStdString(sha256OfBytes("abc")),
                 QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(QString::fromStdString(sha256OfBytes(std::string(1000, 'a'))),
                 QStringLiteral("41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"));
    }
};

QTEST_GUILESS_MAIN(TestQParamsDocument)
#include "tst_qparams_document.moc"
