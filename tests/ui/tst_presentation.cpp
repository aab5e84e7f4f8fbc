// Presentation mode on screens of 1280×720, 1920×1080 and 3840×2160 (three virtual screens of the
// offscreen platform): on every view and every Learn page the window fits the screen it is on, the
// side panels are hidden, nothing scrolls or is cut off, and no two texts of any plot overprint (tick labels,
// titles, legends, labels), no legend covers data and no title is wider than its plot. PgUp / PgDn turn the
// Learn pages. Set QUANTSCOPE_PRESENT_SHOTS to a folder to keep the pictures.
#include "ui/UiTestUtils.h"

#include "learn/LearnView.h"
#include "learn/LessonPreset.h"
#include "plots/PlotBase.h"
#include "plots/PlotTextBoxes.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "window/MainWindow.h"

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

const QList<QSize> kScreens{QSize(1280, 720), QSize(1920, 1080), QSize(3840, 2160)};

QScreen* screenOfSize(QSize size) {
    for (QScreen* screen : QGuiApplication::screens())
        if (screen->geometry().size() == size)
            return screen;
    return nullptr;
}

bool settle(MainWindow& window) {
    // A hang guard, not a performance limit: the demo's model and lessons take a few seconds.
    return QTest::qWaitFor(
        [&] {
            return window.session()->hasTensors() && window.session()->currentRow() >= 0 &&
                   window.learnView()->isSettled() && window.jobs()->runningCount() == 0 &&
                   !window.comparison()->isBusy() && window.comparison()->report();
        },
        300000);
}

// The problems of every visible plot in the window, replotted at its current size.
QStringList plotProblems(MainWindow& window, const QString& where) {
    QStringList found;
    const auto plots = window.findChildren<PlotBase*>();
    for (PlotBase* plot : plots) {
        if (!plot->isVisible() || plot->visibleRegion().isEmpty())
            continue;
        plot->replot(QCustomPlot::rpImmediateRefresh);
        found += PlotTextBoxes::problems(plot, where + QStringLiteral(" ") +
                                                   QString::fromLatin1(plot->metaObject()->className()));
    }
    return found;
}

// Where the current view does not fit: a scroll area that would scroll (its content taller or
// wider than its viewport) or a plot partly outside what is shown.
QStringList fitProblems(MainWindow& window, const QString& where) {
    QStringList found;
    QWidget* view = window.views()->currentWidget();
    QList<QScrollArea*> areas = view->findChildren<QScrollArea*>();
    if (auto* area = qobject_cast<QScrollArea*>(view))
        areas.prepend(area);
    for (QScrollArea* area : std::as_const(areas)) {
        if (!area->isVisible() || area->visibleRegion().isEmpty())
            continue;
        const QWidget* content = area->widget();
        if (area->verticalScrollBar()->maximum() > 0 || area->horizontalScrollBar()->maximum() > 0)
            found += QStringLiteral("%1: %2 scrolls (content %3x%4 in %5x%6, needs at least %7x%8)")
                         .arg(where, QString::fromLatin1(content->metaObject()->className()))
                         .arg(content->width())
                         .arg(content->height())
                         .arg(area->viewport()->width())
                         .arg(area->viewport()->height())
                         .arg(content->minimumSizeHint().width())
                         .arg(content->minimumSizeHint().height());
    }
    // Wrapped text squeezed below its height at its width loses its last lines.
    for (QLabel* label : view->findChildren<QLabel*>()) {
        if (!label->isVisible() || label->visibleRegion().isEmpty() || !label->wordWrap() ||
            label->text().isEmpty())
            continue;
        const int needed = label->heightForWidth(label->width());
        if (label->height() < needed)
            found += QStringLiteral("%1: text \"%2…\" is cut: %3 of %4 px high")
                         .arg(where, label->text().left(40))
                         .arg(label->height())
                         .arg(needed);
    }
    for (PlotBase* plot : view->findChildren<PlotBase*>()) {
        if (!plot->isVisible())
            continue;
        const QRect shown = plot->visibleRegion().boundingRect();
        if (shown != plot->rect())
            found += QStringLiteral("%1: %2 is cut: %3x%4 of %5x%6 shown")
                         .arg(where, QString::fromLatin1(plot->metaObject()->className()))
                         .arg(shown.width())
                         .arg(shown.height())
                         .arg(plot->width())
                         .arg(plot->height());
    }
    return found;
}

} // namespace

class TestPresentation : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(QFileInfo::exists(test::demoWeights()));
        qputenv("QUANTSCOPE_DEMO_DIR", QFileInfo(test::demoWeights()).path().toLocal8Bit());
        for (const QSize size : kScreens)
            QVERIFY2(screenOfSize(size), "the offscreen platform did not read the screens' configuration");
    }

    void fitsTheScreenAndNothingOverprints_data() {
        QTest::addColumn<QSize>("screenSize");
        for (const QSize size : kScreens)
            QTest::newRow(qPrintable(QStringLiteral("%1x%2").arg(size.width()).arg(size.height()))) << size;
    }

    void fitsTheScreenAndNothingOverprints() {
        QFETCH(QSize, screenSize);
        QScreen* screen = screenOfSize(screenSize);
        MainWindow window(nullptr, false);
        window.setScreen(screen);
        window.setGeometry(QRect(screen->geometry().topLeft() + QPoint(40, 40), QSize(1100, 650)));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QFont normalFont = QApplication::font();
        window.openDemo();
        window.showView(MainWindow::Learn);
        QVERIFY(settle(window));

        window.setPresentationMode(true);
        QVERIFY(window.presenting());
        QCOMPARE(window.presentationArea(), screen->geometry());
        // The type grows with the screen: a quarter larger at 1280×720, more on larger screens.
        const double scale = QApplication::font().pointSizeF() / normalFont.pointSizeF();
        QVERIFY2(qAbs(scale - PlotBase::scaleForScreen(screenSize)) < 0.05,
                 qPrintable(QString::number(scale)));
        QVERIFY(scale >= 1.2);

        const QString shots = qEnvironmentVariable("QUANTSCOPE_PRESENT_SHOTS");
        QStringList problems;
        const auto check = [&](const QString& where) {
            QApplication::processEvents();
            QVERIFY(settle(window));
            QApplication::processEvents();
            QVERIFY2(!window.browserDock()->isVisible(), qPrintable(where));
            // The window is on its screen and no larger: nothing in it asks for more room.
            QVERIFY2(screen->geometry().contains(window.frameGeometry()),
                     qPrintable(QStringLiteral("%1: window %2,%3 %4x%5 on screen %6x%7")
                                    .arg(where)
                                    .arg(window.frameGeometry().x())
                                    .arg(window.frameGeometry().y())
                                    .arg(window.frameGeometry().width())
                                    .arg(window.frameGeometry().height())
                                    .arg(screenSize.width())
                                    .arg(screenSize.height())));
            const QSize needed = window.minimumSizeHint();
            QVERIFY2(
                needed.width() <= screenSize.width() && needed.height() <= screenSize.height(),
                qPrintable(
                    QStringLiteral("%1 needs %2x%3").arg(where).arg(needed.width()).arg(needed.height())));
            problems += plotProblems(window, where);
            problems += fitProblems(window, where);
            if (!shots.isEmpty())
                window.grab().save(QDir(shots).filePath(QStringLiteral("present-%1x%2-%3.png")
                                                            .arg(screenSize.width())
                                                            .arg(screenSize.height())
                                                            .arg(where)));
        };
        for (const auto& [view, name] : {std::pair{MainWindow::Distribution, QStringLiteral("distribution")},
                                         std::pair{MainWindow::Error, QStringLiteral("error")},
                                         std::pair{MainWindow::Compare, QStringLiteral("compare")},
                                         std::pair{MainWindow::Model, QStringLiteral("model")}}) {
            window.showView(view);
            check(name);
        }
        window.showView(MainWindow::Learn);
        for (int page = 0; page < LearnView::kPageCount; ++page) {
            window.learnView()->showPage(static_cast<LessonPreset::Page>(page));
            check(QStringLiteral("learn%1").arg(page + 1));
        }
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));

        // Leaving presentation mode gives the panels and the type back.
        window.setPresentationMode(false);
        QVERIFY(!window.presenting());
        QCOMPARE(QApplication::font().pointSizeF(), normalFont.pointSizeF());
        QVERIFY(QTest::qWaitFor([&] { return window.browserDock()->isVisible(); }, 5000));
        QVERIFY(!(window.windowState() & Qt::WindowFullScreen));
    }

    void pageKeysTurnTheLearnPages() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        window.showView(MainWindow::Learn);
        LearnView* learn = window.learnView();
        learn->showPage(LessonPreset::Mapping);
        for (int page = 1; page < LearnView::kPageCount; ++page) {
            QTest::keyClick(&window, Qt::Key_PageDown);
            QCOMPARE(static_cast<int>(learn->currentPage()), page);
        }
        QTest::keyClick(&window, Qt::Key_PageDown); // the last page stays
        QCOMPARE(static_cast<int>(learn->currentPage()), LearnView::kPageCount - 1);
        QTest::keyClick(&window, Qt::Key_PageUp);
        QCOMPARE(static_cast<int>(learn->currentPage()), LearnView::kPageCount - 2);
        // In another view the keys belong to that view.
        window.showView(MainWindow::Distribution);
        QTest::keyClick(&window, Qt::Key_PageUp);
        QCOMPARE(static_cast<int>(learn->currentPage()), LearnView::kPageCount - 2);
        // F5 toggles presentation mode and its side panels.
        QTest::keyClick(&window, Qt::Key_F5);
        QVERIFY(window.presenting());
        QVERIFY(!window.browserDock()->isVisible());
        QTest::keyClick(&window, Qt::Key_F5);
        QVERIFY(!window.presenting());
    }
};

int main(int argc, char* argv[]) {
    // Three screens side by side, read by the offscreen platform from a configuration file.
    const QString config = QDir::temp().filePath(
        QStringLiteral("quantscope-screens-%1.json").arg(QCoreApplication::applicationPid()));
    {
        QFile file(config);
        if (!file.open(QIODevice::WriteOnly))
            return 1;
        QString screens;
        int x = 0;
        for (const QSize size : kScreens) {
            screens += QStringLiteral(
                           "%1{\"name\": \"screen%2\", \"x\": %3, \"y\": 0, \"width\": %4, \"height\": %5, "
                           "\"logicalDpi\": 96, \"logicalBaseDpi\": 96, \"dpr\": 1}")
                           .arg(screens.isEmpty() ? QString() : QStringLiteral(","))
                           .arg(x)
                           .arg(x)
                           .arg(size.width())
                           .arg(size.height());
            x += size.width();
        }
        file.write(QStringLiteral("{\"screens\": [%1]}").arg(screens).toUtf8());
    }
    qputenv("QT_QPA_PLATFORM", QByteArray("offscreen:configfile=") + QFile::encodeName(config));
    QApplication app(argc, argv);
    QApplication::setAttribute(Qt::AA_Use96Dpi, true);
    TestPresentation test;
    const int result = QTest::qExec(&test, argc, argv);
    QFile::remove(config);
    return result;
}

#include "tst_presentation.moc"
