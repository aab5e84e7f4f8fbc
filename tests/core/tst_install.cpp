// `cmake --install` of this build into a temporary prefix: the programs, the demo where the GUI
// looks for it, the desktop entry, AppStream metadata and icon; the installed CLI works on the
// installed demo.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

class TestInstall : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_prefix;

    static QString run(const QString& program, const QStringList& arguments, int* exitCode) {
        QProcess process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.start(program, arguments);
        if (!process.waitForFinished(300000)) {
            *exitCode = -1;
            return QStringLiteral("did not finish");
        }
        *exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        return QString::fromUtf8(process.readAll());
    }

private slots:
    void initTestCase() {
        QVERIFY(m_prefix.isValid());
        int code = 0;
        const QString output = run(QStringLiteral(QUANTSCOPE_CMAKE_COMMAND),
                                   {QStringLiteral("--install"), QStringLiteral(QUANTSCOPE_BINARY_DIR),
                                    QStringLiteral("--prefix"), m_prefix.path()},
                                   &code);
        QVERIFY2(code == 0, qPrintable(output));
    }

    void filesAreWhereTheyBelong() {
        const QDir prefix(m_prefix.path());
        QStringList expected{QStringLiteral("bin/quantscope-cli"),
                             QStringLiteral("share/quantscope/demo/digits_mlp.safetensors"),
                             QStringLiteral("share/quantscope/demo/digits_mlp.onnx"),
                             QStringLiteral("share/quantscope/demo/digits_calib.npy"),
                             QStringLiteral("share/quantscope/demo/LICENSE-digits-CC-BY-4.0.txt")};
        if (QUANTSCOPE_GUI_BUILT)
            expected << QStringLiteral("bin/quantscope")
                     << QStringLiteral("share/applications/quantscope.desktop")
                     << QStringLiteral("share/metainfo/io.github.quantscope.metainfo.xml")
                     << QStringLiteral("share/icons/hicolor/scalable/apps/quantscope.svg");
        for (const QString& file : std::as_const(expected))
            QVERIFY2(QFile::exists(prefix.filePath(file)), qPrintable(file));
        QVERIFY(QFileInfo(prefix.filePath(QStringLiteral("bin/quantscope-cli"))).isExecutable());
        if (QUANTSCOPE_GUI_BUILT) {
            QFile desktop(prefix.filePath(QStringLiteral("share/applications/quantscope.desktop")));
            QVERIFY(desktop.open(QIODevice::ReadOnly));
            const QString text = QString::fromUtf8(desktop.readAll());
            QVERIFY(text.contains(QStringLiteral("Exec=quantscope ")));
            QVERIFY(text.contains(QStringLiteral("Icon=quantscope\n")));
        }
    }

    void installedCliReadsTheInstalledDemo() {
        int code = 0;
        const QDir prefix(m_prefix.path());
        const QString output = run(prefix.filePath(QStringLiteral("bin/quantscope-cli")),
                                   {QStringLiteral("info"),
                                    prefix.filePath(QStringLiteral("share/quantscope/demo/digits_mlp.onnx"))},
                                   &code);
        QVERIFY2(code == 0, qPrintable(output));
        QVERIFY2(output.contains(QStringLiteral("fc1.weight")) &&
                     output.contains(QStringLiteral("[256, 64]")),
                 qPrintable(output));
    }

    void installedGuiFindsTheInstalledDemo() {
        if (!QUANTSCOPE_GUI_BUILT)
            QSKIP("built without the GUI");
        int code = 0;
        const QDir prefix(m_prefix.path());
        const QString shot = prefix.filePath(QStringLiteral("shot.png"));
        // No QUANTSCOPE_DEMO_DIR and a working directory outside the source tree: the demo must
        // come from <prefix>/share/quantscope/demo.
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(QStringLiteral("QUANTSCOPE_DEMO_DIR"));
        environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        process.setProcessEnvironment(environment);
        process.setWorkingDirectory(m_prefix.path());
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.start(prefix.filePath(QStringLiteral("bin/quantscope")),
                      {QStringLiteral("--demo"), QStringLiteral("--screenshot"), shot,
                       QStringLiteral("--size"), QStringLiteral("1500x900")});
        QVERIFY(process.waitForFinished(300000));
        code = process.exitCode();
        QVERIFY2(code == 0, process.readAll().constData());
        // A PNG of the requested width (IHDR: big-endian width at byte 16).
        QFile image(shot);
        QVERIFY(image.open(QIODevice::ReadOnly));
        const QByteArray header = image.read(24);
        QVERIFY(header.startsWith("\x89PNG"));
        const auto byte = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(header[i])); };
        QCOMPARE(byte(16) << 24 | byte(17) << 16 | byte(18) << 8 | byte(19), uint32_t(1500));
        QCOMPARE(byte(20) << 24 | byte(21) << 16 | byte(22) << 8 | byte(23), uint32_t(900));
    }
};

QTEST_GUILESS_MAIN(TestInstall)
#include "tst_install.moc"
