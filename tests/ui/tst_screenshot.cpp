// `quantscope --demo --screenshot FILE.png --view V` for every view: exit code 0 and a picture of
// the requested size with real content (many colours, no colour covering almost everything) that
// differs from every other view's picture; in the process itself, the window's current tab is the
// requested view, no error was shown and the screenshot holds that tab's own rendering. Failures
// exit 1 with a message.
#include "ui/UiTestUtils.h"

#include "learn/LearnView.h"
#include "session/JobRunner.h"
#include "window/MainWindow.h"
#include "window/ScreenshotRunner.h"

#include <QApplication>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTabWidget>

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace quantscope::ui;

namespace {

// The fraction of pixels that differ between two pictures of the same size.
double differingShare(const QImage& a, const QImage& b) {
    int64_t differing = 0;
    for (int y = 0; y < a.height(); ++y)
        for (int x = 0; x < a.width(); ++x)
            differing += a.pixel(x, y) != b.pixel(x, y);
    return static_cast<double>(differing) / (static_cast<double>(a.width()) * a.height());
}

const char* const kViewNames[] = {"distribution", "error", "compare", "model", "learn"};

} // namespace

class TestScreenshot : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_app;
    QHash<QString, QImage> m_pictures; // each view's picture, to tell the views apart

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
        QTest::newRow("distribution") << QStringLiteral("distribution")
                                      << QStringList{QStringLiteral("--dtype"), QStringLiteral("int4")};
        QTest::newRow("error") << QStringLiteral("error")
                               << QStringList{QStringLiteral("--granularity"), QStringLiteral("channel")};
        QTest::newRow("compare") << QStringLiteral("compare") << QStringList{};
        QTest::newRow("model") << QStringLiteral("model") << QStringList{};
        QTest::newRow("learn") << QStringLiteral("learn")
                               << QStringList{QStringLiteral("--dtype"), QStringLiteral("int3")};
    }

    void everyViewRendersRealContent() {
        QFETCH(QString, view);
        QFETCH(QStringList, extra);
        const QString png = m_dir.filePath(view + QStringLiteral(".png"));
        QString errors;
        const int code = run(QStringList{QStringLiteral("--demo"), QStringLiteral("--screenshot"), png,
                                         QStringLiteral("--size"), QStringLiteral("1200x800"),
                                         QStringLiteral("--view"), view} +
                                 extra,
                             &errors);
        QVERIFY2(code == 0, qPrintable(QStringLiteral("exit %1: %2").arg(code).arg(errors)));
        QImage image(png);
        QVERIFY(!image.isNull());
        // The requested size, or a little wider when the window needs it (the program says so): the
        // window itself, not a dialog or a smaller top-level.
        QCOMPARE(image.height(), 800);
        QVERIFY2(image.width() >= 1200 && image.width() <= 1320, qPrintable(QString::number(image.width())));
        const auto [colours, largestShare] = quantscope::test::colourStats(image);
        qInfo() << view << "distinct colours" << colours << "largest share" << largestShare;
        QVERIFY2(colours >= 64, qPrintable(QString::number(colours)));
        QVERIFY(largestShare < 0.85);
        // Each view is its own picture: an error page or the same view every time would repeat.
        for (auto it = m_pictures.cbegin(); it != m_pictures.cend(); ++it) {
            const double share = differingShare(image, it.value());
            QVERIFY2(share > 0.05, qPrintable(QStringLiteral("%1 and %2 differ in only %3 of the pixels")
                                                  .arg(view, it.key())
                                                  .arg(share)));
        }
        m_pictures.insert(view, image.convertToFormat(QImage::Format_RGB32));
    }

    // In the process: the runner finishes without an error, the current tab is the requested view,
    // no message box is open, and the screenshot's tab area is that tab's own rendering.
    void screenshotShowsTheRequestedTab_data() {
        QTest::addColumn<int>("view");
        for (int view = MainWindow::Distribution; view <= MainWindow::Learn; ++view)
            QTest::newRow(kViewNames[view]) << view;
    }

    // A job that runs longer than the idle timeout is work in progress, not a hang: the runner
    // waits for it (a large model's comparison takes minutes) and then for the view.
    void aRunningJobIsNotATimeout() {
        MainWindow window(nullptr, false);
        window.resize(1200, 800);
        window.show();
        const QString png = m_dir.filePath(QStringLiteral("after-long-job.png"));
        ScreenshotRunner runner(&window, png);
        QSignalSpy done(&runner, &ScreenshotRunner::done);
        runner.start(2000);
        window.jobs()->start(QStringLiteral("test"), QStringLiteral("a long job"),
                             [](const quantscope::ProgressCallback&) {
                                 QThread::msleep(6000); // three idle timeouts
                                 return QVariant();
                             });
        connect(
            window.jobs(), &JobRunner::finished, &window, [&window] { window.openDemo(); },
            Qt::SingleShotConnection);
        QVERIFY(done.wait(180000));
        QCOMPARE(done.first().at(0).toInt(), 0);
        QVERIFY(QFileInfo::exists(png));
    }

    void screenshotShowsTheRequestedTab() {
        QFETCH(int, view);
        MainWindow window(nullptr, false);
        QSignalSpy errors(&window, &MainWindow::errorShown);
        window.showView(static_cast<MainWindow::View>(view));
        window.resize(1200, 800);
        window.show();
        const QString png = m_dir.filePath(QStringLiteral("inprocess-%1.png").arg(view));
        ScreenshotRunner runner(&window, png);
        QSignalSpy done(&runner, &ScreenshotRunner::done);
        runner.start(170000);
        window.openDemo();
        QVERIFY(done.wait(180000));
        QCOMPARE(done.first().at(0).toInt(), 0);
        QCOMPARE(errors.count(), 0);
        QCOMPARE(window.views()->currentIndex(), view);
        for (QWidget* topLevel : QApplication::topLevelWidgets())
            if (const auto* box = qobject_cast<QMessageBox*>(topLevel); box && box->isVisible())
                QFAIL(qPrintable(QStringLiteral("a message box is open: ") + box->text()));

        const QImage image = QImage(png).convertToFormat(QImage::Format_RGB32);
        QCOMPARE(image.size(), window.size());
        QWidget* page = window.views()->currentWidget();
        const QRect area(page->mapTo(&window, QPoint(0, 0)), page->size());
        const QImage pageImage = page->grab().toImage().convertToFormat(QImage::Format_RGB32);
        QCOMPARE(pageImage.size(), area.size());
        QVERIFY2(differingShare(image.copy(area), pageImage) < 0.01,
                 "the screenshot does not hold the current tab");
        QVERIFY2(quantscope::test::colourStats(pageImage).first >= 64,
                 qPrintable(QString::number(quantscope::test::colourStats(pageImage).first)));
        QVERIFY(quantscope::test::colourStats(image).second < 0.85);
    }

    void failuresExitWithOneAndAMessage() {
        const QString bad = m_dir.filePath(QStringLiteral("bad.safetensors"));
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a weights file");
        file.close();
        QString errors;
        QCOMPARE(
            run({bad, QStringLiteral("--screenshot"), m_dir.filePath(QStringLiteral("bad.png"))}, &errors),
            1);
        QVERIFY2(errors.contains(QStringLiteral("quantscope: error: ")) &&
                     errors.contains(QStringLiteral("bad.safetensors")),
                 qPrintable(errors));
        QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("bad.png"))));
        QCOMPARE(run({QStringLiteral("--demo"), QStringLiteral("--screenshot"),
                      m_dir.filePath(QStringLiteral("x.png")), QStringLiteral("--view"),
                      QStringLiteral("nonsense")},
                     &errors),
                 2);
        QVERIFY(errors.contains(QStringLiteral("--view")));
    }

    void learnPageOptionOpensOnePage() {
        // A page number out of range names the option and the range, before anything opens.
        QString errors;
        for (const QString& bad : {QStringLiteral("0"), QStringLiteral("7"), QStringLiteral("two")}) {
            QCOMPARE(run({QStringLiteral("--demo"), QStringLiteral("--screenshot"),
                          m_dir.filePath(QStringLiteral("p.png")), QStringLiteral("--learn-page"), bad},
                         &errors),
                     2);
            QVERIFY2(errors.contains(QStringLiteral("--learn-page: '%1'").arg(bad)) &&
                         errors.contains(QStringLiteral("1..6")),
                     qPrintable(errors));
        }
        QCOMPARE(run({QStringLiteral("--demo"), QStringLiteral("--screenshot"),
                      m_dir.filePath(QStringLiteral("p.png")), QStringLiteral("--view"),
                      QStringLiteral("error"), QStringLiteral("--learn-page"), QStringLiteral("2")},
                     &errors),
                 2);
        QVERIFY2(errors.contains(QStringLiteral("--learn-page")), qPrintable(errors));
        QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("p.png"))));
        // Page 3 in presentation mode on a 1280×720 "screen": a picture of exactly that size.
        const QString png = m_dir.filePath(QStringLiteral("learn3.png"));
        QCOMPARE(run({QStringLiteral("--demo"), QStringLiteral("--screenshot"), png, QStringLiteral("--view"),
                      QStringLiteral("learn"), QStringLiteral("--learn-page"), QStringLiteral("3"),
                      QStringLiteral("--present"), QStringLiteral("--size"), QStringLiteral("1280x720")},
                     &errors),
                 0);
        const QImage image(png);
        QCOMPARE(image.size(), QSize(1280, 720));
        QVERIFY(quantscope::test::colourStats(image).first >= 64);
    }

    void helpAndVersionNeedNoDisplay() {
        // No platform chosen and no display: a QApplication could not start here.
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
        environment.remove(QStringLiteral("DISPLAY"));
        environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
        for (const QString& flag : {QStringLiteral("--help"), QStringLiteral("--version")}) {
            QProcess process;
            process.setProcessEnvironment(environment);
            process.start(m_app, {flag});
            QVERIFY(process.waitForFinished(60000));
            const QString out = QString::fromLocal8Bit(process.readAllStandardOutput());
            QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
                     qPrintable(flag + QStringLiteral(": ") +
                                QString::fromLocal8Bit(process.readAllStandardError())));
            if (flag == QStringLiteral("--help"))
                QVERIFY2(out.contains(QStringLiteral("--screenshot")) &&
                             out.contains(QStringLiteral("--demo")) &&
                             out.contains(QStringLiteral("--learn-page <N>")) &&
                             out.contains(QStringLiteral("--present")),
                         qPrintable(out));
            else
                QVERIFY2(out.contains(QStringLiteral(QUANTSCOPE_VERSION)), qPrintable(out));
        }
    }
};

QTEST_MAIN(TestScreenshot)
#include "tst_screenshot.moc"
