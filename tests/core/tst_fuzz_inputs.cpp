// Replays every committed fuzz input through the code its fuzz target runs (fuzz/FuzzTargets.h):
// the seeds in fuzz/corpus/<target>/ and the minimal inputs of past findings in
// tests/data/fuzz/<target>/. Each must load or end in quantscope::Error — never another exception
// (and, in the sanitizer builds, never a memory error).
#include "../../fuzz/FuzzTargets.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

using namespace quantscope;

class TestFuzzInputs : public QObject {
    Q_OBJECT
private slots:
    void replay_data() {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("input");
        for (const auto& target : fuzz::targets()) {
            const QString name = QString::fromLatin1(target.name);
            for (const QString& folder : {QStringLiteral(QUANTSCOPE_SOURCE_DIR "/fuzz/corpus/") + name,
                                          QStringLiteral(QUANTSCOPE_TEST_DATA "/fuzz/") + name}) {
                const QDir dir(folder);
                for (const QString& file : dir.entryList(QDir::Files, QDir::Name))
                    QTest::newRow(qPrintable(name + QLatin1Char('/') + file)) << name << dir.filePath(file);
            }
        }
    }

    void replay() {
        QFETCH(QString, target);
        QFETCH(QString, input);
        const fuzz::Target& chosen = fuzz::target(target.toStdString());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath(QString::fromLatin1(chosen.fileName)).toStdString();
        std::filesystem::copy_file(input.toStdString(), path);
        try {
            chosen.run(path);
        } catch (const Error&) {
            // a clear error is the right answer to a bad input
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QStringLiteral("not a quantscope::Error: ") + QString::fromStdString(e.what())));
        }
    }

    // Every target has seeds, so the short CI runs start from valid files.
    void everyTargetHasSeeds() {
        for (const auto& target : fuzz::targets()) {
            const QDir dir(QStringLiteral(QUANTSCOPE_SOURCE_DIR "/fuzz/corpus/") +
                           QString::fromLatin1(target.name));
            QVERIFY2(!dir.entryList(QDir::Files).isEmpty(), target.name);
        }
    }
};

QTEST_GUILESS_MAIN(TestFuzzInputs)
#include "tst_fuzz_inputs.moc"
