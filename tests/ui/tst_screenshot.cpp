// `quantscope --demo --screenshot FILE.png --view V` for every view: exit code 0 and a picture
// with real content (many colours, no colour covering almost everything); failures exit 1 with a
// message.
#include "ui/UiTestUtils.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class TestScreenshot : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_app;

    int run(const QStringList& arguments, QString* errors = nullptr) {
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        process.setProcessEnvironment(environment);
        process.start(m_app, arguments);
        if (!process.waitForFinished(180000))
            return -1;
        if (errors)
            *errors = QString::fromLocal8Bit(process.readAllStandardError());
        return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    }

private slots:
    void initTestCase() {
        // The GUI is built beside the CLI (app/).
        m_app = QFileInfo(QStringLiteral(QUANTSCOPE_CLI_PATH)).dir().filePath(QStringLiteral("quantscope"));
        QVERIFY2(QFileInfo(m_app).isExecutable(), qPrintable(m_app + QStringLiteral(" is not built")));
    }

    void everyViewRendersRealContent_data() {
        QTest::addColumn<QString>("view");
        QTest::addColumn<QStringList>("extra");
        QTest::newRow("distribution") << QStringLiteral("distribution") << QStringList{QStringLiteral("--dtype"), QStringLiteral("int4")};
        QTest::newRow("error") << QStringLiteral("error") << QStringList{QStringLiteral("--granularity"), QStringLiteral("channel")};
        QTest::newRow("compare") << QStringLiteral("compare") << QStringList{};
        QTest::newRow("model") << QStringLiteral("model") << QStringList{};
        QTest::newRow("learn") << QStringLiteral("learn") << QStringList{QStringLiteral("--dtype"), QStringLiteral("int3")};
    }

    void everyViewRendersRealContent() {
        QFETCH(QString, view);
        QFETCH(QStringList, extra);
        const QString png = m_dir.filePath(view + QStringLiteral(".png"));
        QString errors;
        const int code = run(QStringList{QStringLiteral("--demo"), QStringLiteral("--screenshot"), png, QStringLiteral("--size"),
                                         QStringLiteral("1200x800"), QStringLiteral("--view"), view} + extra, &errors);
        QVERIFY2(code == 0, qPrintable(QStringLiteral("exit %1: %2").arg(code).arg(errors)));
        QImage image(png);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() >= 1200 && image.height() >= 800);
        QHash<QRgb, int> colours;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x)
                ++colours[image.pixel(x, y)];
        int largest = 0;
        for (int count : std::as_const(colours))
            largest = std::max(largest, count);
        const double largestShare = static_cast<double>(largest) / (image.width() * image.height());
        qInfo() << view << "distinct colours" << colours.size() << "largest share" << largestShare;
        QVERIFY2(colours.size() >= 64, qPrintable(QString::number(colours.size())));
        QVERIFY(largestShare < 0.85);
    }

    void failuresExitWithOneAndAMessage() {
        const QString bad = m_dir.filePath(QStringLiteral("bad.safetensors"));
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a weights file");
        file.close();
        QString errors;
        QCOMPARE(run({bad, QStringLiteral("--screenshot"), m_dir.filePath(QStringLiteral("bad.png"))}, &errors), 1);
        QVERIFY2(errors.contains(QStringLiteral("quantscope: error: ")) && errors.contains(QStringLiteral("bad.safetensors")),
                 qPrintable(errors));
        QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("bad.png"))));
        QCOMPARE(run({QStringLiteral("--demo"), QStringLiteral("--screenshot"), m_dir.filePath(QStringLiteral("x.png")),
                      QStringLiteral("--view"), QStringLiteral("nonsense")}, &errors), 2);
        QVERIFY(errors.contains(QStringLiteral("--view")));
    }
};

QTEST_GUILESS_MAIN(TestScreenshot)
#include "tst_screenshot.moc"
