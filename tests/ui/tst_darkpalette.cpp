// The dark palette (View ▸ Dark palette, --palette dark) keeps every text readable: the tensor
// table's rows (plain, alternate and the coloured SQNR cells), the plots' ticks, labels and legends,
// and the Learn pages' rich text. Readable means a WCAG contrast ratio of at least 4.5:1 between
// the text and its background, measured on the rendered pixels where a colour alone could lie.
#include "ui/UiTestUtils.h"

#include "learn/LearnModesPage.h"
#include "learn/LearnView.h"
#include "plots/PlotBase.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "widgets/TensorBrowser.h"
#include "widgets/TensorTableModel.h"
#include "window/DarkPalette.h"
#include "window/MainWindow.h"

#include <QAbstractProxyModel>
#include <QApplication>
#include <QItemSelectionModel>
#include <QLabel>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>

#include <cmath>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

// Relative luminance of an sRGB colour (WCAG 2).
double luminance(const QColor& colour) {
    const auto channel = [](double c) {
        return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) +
           0.0722 * channel(colour.blueF());
}

double contrast(const QColor& a, const QColor& b) {
    const double la = luminance(a);
    const double lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// The strongest contrast of any pixel of `image` against `background`: the text's own colour
// where glyphs are drawn (anti-aliased edges only lower it).
double strongestContrast(const QImage& image, const QColor& background) {
    double best = 1.0;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            best = std::max(best, contrast(QColor(image.pixel(x, y)), background));
    return best;
}

QString describe(const QColor& colour) {
    return colour.name();
}

} // namespace

class TestDarkPalette : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(QFileInfo::exists(test::demoWeights()));
        qputenv("QUANTSCOPE_DEMO_DIR", QFileInfo(test::demoWeights()).path().toLocal8Bit());
    }

    void textStaysReadable() {
        MainWindow window(nullptr, false);
        window.resize(1500, 950);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.openDemo();
        Session* session = window.session();
        // A hang guard, not a performance limit: the browser fills in every tensor's SQNR.
        QTableView* table = window.tensorBrowser()->view();
        const auto settled = [&] {
            if (!session->hasTensors() || table->model()->rowCount() < 4)
                return false;
            for (int row = 0; row < 4; ++row)
                if (!table->model()->index(row, TensorTableModel::Sqnr).data(Qt::BackgroundRole).isValid())
                    return false;
            return true;
        };
        QVERIFY(QTest::qWaitFor(settled, 120000));
        const QColor lightBase = QApplication::palette().color(QPalette::Base);

        window.setDarkPalette(true);
        QVERIFY(window.darkPalette());
        const QPalette palette = QApplication::palette();
        QVERIFY(DarkPalette::isDark(palette));
        QVERIFY(palette.color(QPalette::Base).lightness() < 80);
        QVERIFY(lightBase != palette.color(QPalette::Base));
        QApplication::processEvents();

        // The tensor table: alternate rows differ visibly, and every row's text reads on its own
        // background, the coloured SQNR cells included.
        QVERIFY(table->alternatingRowColors());
        QVERIFY(table->model()->rowCount() >= 4);
        const QPalette tablePalette = table->palette();
        const QColor base = tablePalette.color(QPalette::Base);
        const QColor alternate = tablePalette.color(QPalette::AlternateBase);
        QVERIFY2(contrast(base, alternate) >= 1.15,
                 qPrintable(describe(base) + QStringLiteral(" vs ") + describe(alternate)));
        // Unselected, so each row shows its own background rather than the selection's.
        table->selectionModel()->clearSelection();
        table->selectionModel()->setCurrentIndex(QModelIndex(), QItemSelectionModel::NoUpdate);
        QApplication::processEvents();
        const QImage shown = table->viewport()->grab().toImage();
        const auto pixelOfRow = [&](int row) {
            const QRect cell = table->visualRect(table->model()->index(row, TensorTableModel::Name));
            return QColor(shown.pixel(cell.right() - 1, cell.top() + 1));
        };
        QVERIFY2(contrast(pixelOfRow(0), pixelOfRow(1)) >= 1.15,
                 qPrintable(describe(pixelOfRow(0)) + QStringLiteral(" vs ") + describe(pixelOfRow(1))));
        for (int row = 0; row < 4; ++row)
            for (int column : {int(TensorTableModel::Name), int(TensorTableModel::Sqnr)}) {
                const QModelIndex index = table->model()->index(row, column);
                const QVariant fill = index.data(Qt::BackgroundRole);
                const QColor background =
                    fill.isValid() ? fill.value<QColor>() : (row % 2 ? alternate : base);
                const QVariant ink = index.data(Qt::ForegroundRole);
                const QColor text = ink.isValid() ? ink.value<QColor>() : tablePalette.color(QPalette::Text);
                QVERIFY2(contrast(text, background) >= 4.5,
                         qPrintable(QStringLiteral("row %1 column %2: %3 on %4")
                                        .arg(row)
                                        .arg(column)
                                        .arg(describe(text), describe(background))));
                // And as drawn: some pixel of the cell is the text's colour.
                const QImage cell = shown.copy(table->visualRect(index));
                QVERIFY2(strongestContrast(cell, background) >= 4.5,
                         qPrintable(QStringLiteral("row %1 column %2 as drawn").arg(row).arg(column)));
            }

        // Every plot of every view: ticks, axis labels and legend text on the plot's background.
        int axesChecked = 0;
        for (const MainWindow::View view :
             {MainWindow::Distribution, MainWindow::Error, MainWindow::Compare, MainWindow::Model}) {
            window.showView(view);
            // The model's views draw once the comparison has run.
            QVERIFY(QTest::qWaitFor(
                [&] { return !window.comparison()->isBusy() && window.comparison()->report(); }, 120000));
            QApplication::processEvents();
            for (PlotBase* plot : window.findChildren<PlotBase*>()) {
                if (!plot->isVisible())
                    continue;
                const QColor background = plot->axisRect()->backgroundBrush().color();
                QVERIFY2(background.lightness() < 80, qPrintable(describe(background)));
                for (QCPAxis* axis : plot->axisRect()->axes()) {
                    if (!axis->visible())
                        continue;
                    ++axesChecked;
                    QVERIFY2(contrast(axis->tickLabelColor(), background) >= 4.5,
                             qPrintable(QStringLiteral("%1: ticks %2 on %3")
                                            .arg(QString::fromLatin1(plot->metaObject()->className()),
                                                 describe(axis->tickLabelColor()), describe(background))));
                    QVERIFY(contrast(axis->labelColor(), background) >= 4.5);
                }
                if (plot->legend && plot->legend->visible())
                    QVERIFY(contrast(plot->legend->textColor(), plot->legend->brush().color()) >= 4.5);
            }
        }
        QVERIFY(axesChecked >= 4);

        // The Learn pages' rich text: no dark text left on the dark background.
        window.showView(MainWindow::Learn);
        LearnView* learn = window.learnView();
        QVERIFY(QTest::qWaitFor([&] { return learn->isSettled(); }, 120000));
        int labelsChecked = 0;
        for (const LessonPreset::Page page : {LessonPreset::Mapping, LessonPreset::Modes}) {
            learn->showPage(page);
            QApplication::processEvents();
            for (QLabel* label : learn->findChildren<QLabel*>()) {
                if (!label->isVisible() || label->text().length() < 200 ||
                    label->textFormat() != Qt::RichText)
                    continue;
                ++labelsChecked;
                const QColor background = label->palette().color(label->backgroundRole());
                QVERIFY2(background.lightness() < 100, qPrintable(describe(background)));
                const QImage image = label->grab().toImage();
                QVERIFY2(strongestContrast(image, background) >= 4.5, qPrintable(label->text().left(80)));
                // No glyph is darker than the background: black text would be.
                int darker = 0;
                for (int y = 0; y < image.height(); ++y)
                    for (int x = 0; x < image.width(); ++x)
                        if (luminance(QColor(image.pixel(x, y))) < luminance(background) * 0.6)
                            ++darker;
                QVERIFY2(darker < image.width() * image.height() / 200, qPrintable(label->text().left(80)));
            }
        }
        QVERIFY(labelsChecked >= 3);

        // And back: the palette the app started with.
        window.setDarkPalette(false);
        QCOMPARE(QApplication::palette().color(QPalette::Base), lightBase);
    }
};

QTEST_MAIN(TestDarkPalette)
#include "tst_darkpalette.moc"
