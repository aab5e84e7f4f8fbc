// The normal window at 1280×720 with both side panels open (the tensor browser and the settings)
// leaves the views some 550 px: the Compare table's headers still fit their columns, every legend
// item of the Compare and Model charts lies whole inside its plot and clear of the others, and the
// Model view's layer names keep their last two path components (`conv1/Conv`) in the table and
// the chart. The model is the small ResNet of tests/data/real_models; the Compare legend needs
// two series, so it is checked on the demo, whose samples have labels.
#include "ui/UiTestUtils.h"

#include "plots/BarChart.h"
#include "plots/LayerSqnrChart.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "views/CompareView.h"
#include "views/ModelView.h"
#include "widgets/ElidedPath.h"
#include "widgets/MetricText.h"
#include "widgets/SettingsPanel.h"
#include "window/MainWindow.h"

#include <QApplication>
#include <QDockWidget>
#include <QHeaderView>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

const QString kModel = QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/resnet_op13_dyn.onnx");
const QString kImages = QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/images.npy");

bool complete(MainWindow& window) {
    // A hang guard, not a performance limit.
    return QTest::qWaitFor(
        [&] {
            const auto& report = window.comparison()->report();
            return !window.comparison()->isBusy() && report && report->stage == CompareStage::Layers &&
                   window.jobs()->runningCount() == 0;
        },
        120000);
}

void openNarrow(MainWindow& window) {
    window.resize(1280, 720);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
}

void checkBothPanelsOpen(MainWindow& window) {
    QVERIFY(window.browserDock()->isVisible());
    QVERIFY(window.settingsPanel()->isVisible());
    QVERIFY2(window.views()->width() < 760, qPrintable(QString::number(window.views()->width())));
}

// The last two components of a layer's path: "/layer1/layer1.0/conv1/Conv" → "conv1/Conv".
QString tail(const QString& name) {
    const QStringList parts = name.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    return parts.size() < 2 ? name : parts[parts.size() - 2] + QLatin1Char('/') + parts.back();
}

// Legend items that stick out of their plot, are squeezed below their text's width, or overlap.
QStringList legendProblems(QCustomPlot* plot, const QString& where) {
    QStringList found;
    if (!plot->legend || !plot->legend->visible())
        return found;
    QList<QRect> boxes;
    for (int i = 0; i < plot->legend->itemCount(); ++i) {
        QCPAbstractLegendItem* item = plot->legend->item(i);
        if (!item)
            continue;
        const QRect box = item->outerRect();
        const QString name = QStringLiteral("%1: legend item %2 (%3,%4 %5x%6)")
                                 .arg(where)
                                 .arg(i)
                                 .arg(box.x())
                                 .arg(box.y())
                                 .arg(box.width())
                                 .arg(box.height());
        if (!plot->rect().contains(box))
            found << name + QStringLiteral(" is outside the plot");
        const QSize needed = item->minimumOuterSizeHint();
        if (box.width() < needed.width() || box.height() < needed.height())
            found << name + QStringLiteral(" is cut: needs %1x%2").arg(needed.width()).arg(needed.height());
        for (const QRect& other : std::as_const(boxes))
            if (other.intersects(box))
                found << name + QStringLiteral(" overlaps another");
        boxes << box;
    }
    return found;
}

} // namespace

class TestNarrowWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void pathsKeepTheirTail() {
        const QFontMetrics metrics(QApplication::font());
        const QString name = QStringLiteral("/layer2/layer2.0/downsample/downsample.0/Conv");
        const QString tail = QStringLiteral("/downsample.0/Conv");
        const QString ellipsis(QChar(0x2026));
        // Room enough: unchanged.
        QCOMPARE(elidePath(name, metrics, metrics.horizontalAdvance(name)), name);
        // The head's middle goes first: the start and the tail stay.
        const int some = metrics.horizontalAdvance(QStringLiteral("/layer2/") + ellipsis + tail);
        const QString middle = elidePath(name, metrics, some + 2);
        QVERIFY2(middle.startsWith(QStringLiteral("/l")) && middle.endsWith(tail) &&
                     middle.contains(ellipsis),
                 qPrintable(middle));
        QVERIFY(metrics.horizontalAdvance(middle) <= some + 2);
        // Then the front: "…downsample.0/Conv" style, the tail whole.
        const int little = metrics.horizontalAdvance(ellipsis + tail) + 1;
        const QString front = elidePath(name, metrics, little);
        QVERIFY2(front.endsWith(tail) && front.startsWith(ellipsis), qPrintable(front));
        QVERIFY(metrics.horizontalAdvance(front) <= little);
        // A tail too long for the room loses its own start, never its end.
        const QString cut = elidePath(name, metrics, metrics.horizontalAdvance(QStringLiteral("0/Conv")) + 8);
        QVERIFY2(cut.endsWith(QStringLiteral("Conv")) && cut.startsWith(ellipsis), qPrintable(cut));
        // A name without a path is elided in the middle as before.
        const QString plain = QStringLiteral("model.layers.0.self_attn.q_proj.weight");
        QCOMPARE(elidePath(plain, metrics, 80), metrics.elidedText(plain, Qt::ElideMiddle, 80));
    }

    void compareHeadersFit() {
        MainWindow window(nullptr, false);
        openNarrow(window);
        window.openModel(kModel, kImages);
        QVERIFY(complete(window));
        window.showView(MainWindow::Compare);
        QTest::qWait(50);
        checkBothPanelsOpen(window);
        auto* compare = window.findChild<CompareView*>();
        QVERIFY(compare && compare->isVisible());
        QHeaderView* header = compare->table()->horizontalHeader();
        QVERIFY(compare->table()->viewport()->width() < 600);
        const QFontMetrics metrics(header->font());
        const int margin = 2 * header->style()->pixelMetric(QStyle::PM_HeaderMargin, nullptr, header);
        QStringList problems;
        for (int column = 0; column < header->count(); ++column) {
            const QString text = compare->table()->horizontalHeaderItem(column)->text();
            const QSize needed = metrics.size(0, text);
            if (needed.width() + margin > header->sectionSize(column) || needed.height() > header->height())
                problems << QStringLiteral("header \"%1\" needs %2x%3 px, has %4x%5")
                                .arg(text)
                                .arg(needed.width() + margin)
                                .arg(needed.height())
                                .arg(header->sectionSize(column))
                                .arg(header->height());
            // A shortened header keeps its full meaning in the tooltip.
            if (column > 0 && compare->table()->horizontalHeaderItem(column)->toolTip().isEmpty())
                problems << QStringLiteral("header \"%1\" has no tooltip").arg(text);
            // The cells below it are not elided either.
            for (int row = 0; row < compare->table()->rowCount(); ++row) {
                const QString cell = compare->table()->item(row, column)->text();
                if (metrics.horizontalAdvance(cell) + margin > header->sectionSize(column))
                    problems << QStringLiteral("cell \"%1\" is cut").arg(cell);
            }
        }
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        // Every column is on screen: no horizontal scrolling.
        QCOMPARE(header->length() <= compare->table()->viewport()->width(), true);
    }

    // Narrower than its columns, the mode table scrolls sideways and still shows every mode.
    void compareRowsStayVisibleWhenScrolling() {
        MainWindow window(nullptr, false);
        openNarrow(window);
        window.openModel(kModel, kImages);
        QVERIFY(complete(window));
        window.showView(MainWindow::Compare);
        window.resize(900, 720);
        QTest::qWait(50);
        auto* compare = window.findChild<CompareView*>();
        QTableWidget* table = compare->table();
        QVERIFY(table->horizontalHeader()->length() > table->viewport()->width());
        QCOMPARE(table->rowCount(), 4);
        int rows = 0;
        for (int row = 0; row < table->rowCount(); ++row)
            rows += table->rowHeight(row);
        QVERIFY2(
            table->viewport()->height() >= rows,
            qPrintable(QStringLiteral("%1 px for %2 px of rows").arg(table->viewport()->height()).arg(rows)));
    }

    // Latency and throughput keep three significant digits at every magnitude.
    void measuredFigures() {
        QCOMPARE(MetricText::measured(302.927), QStringLiteral("303"));
        QCOMPARE(MetricText::measured(12.54), QStringLiteral("12.5"));
        QCOMPARE(MetricText::measured(6.04), QStringLiteral("6.04"));
        QCOMPARE(MetricText::measured(2.5), QStringLiteral("2.50"));
        QCOMPARE(MetricText::measured(0.154573), QStringLiteral("0.155"));
        QCOMPARE(MetricText::measured(0.00012), QStringLiteral("0.0001"));
        QCOMPARE(MetricText::measured(1234.6), QStringLiteral("1235"));
        QCOMPARE(MetricText::measured(0.0), QStringLiteral("0"));
    }

    void compareLegendsFit() {
        MainWindow window(nullptr, false);
        openNarrow(window);
        window.openDemo();
        QVERIFY(complete(window));
        window.showView(MainWindow::Compare);
        QTest::qWait(50);
        checkBothPanelsOpen(window);
        auto* compare = window.findChild<CompareView*>();
        QStringList problems;
        int legends = 0;
        for (BarChart* chart : compare->findChildren<BarChart*>()) {
            QVERIFY(chart->isVisible());
            chart->replot(QCustomPlot::rpImmediateRefresh);
            legends += chart->legend->visible();
            problems += legendProblems(chart, QStringLiteral("compare"));
        }
        QVERIFY(legends >= 1); // accuracy and agreement
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }

    void modelLegendAndLayerNames() {
        MainWindow window(nullptr, false);
        openNarrow(window);
        window.openModel(kModel, kImages);
        QVERIFY(complete(window));
        window.showView(MainWindow::Model);
        QTest::qWait(50);
        checkBothPanelsOpen(window);
        auto* model = window.findChild<ModelView*>();
        QVERIFY(model && model->isVisible());
        LayerSqnrChart* chart = model->chart();
        chart->replot(QCustomPlot::rpImmediateRefresh);
        QVERIFY(chart->legend->visible());
        const QStringList problems = legendProblems(chart, QStringLiteral("model"));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));

        // The table: what is drawn of each name keeps its tail.
        QTableWidget* table = model->table();
        QVERIFY(table->rowCount() >= 10);
        const QFontMetrics metrics(table->font());
        const int width = table->columnWidth(ModelView::Layer) -
                          2 * (table->style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, table) + 1);
        for (int row = 0; row < table->rowCount(); ++row) {
            const QString name = table->item(row, ModelView::Layer)->text();
            QVERIFY2(metrics.horizontalAdvance(tail(name)) < width,
                     qPrintable(QStringLiteral("%1 in %2 px").arg(name).arg(width)));
            const QString shown = model->displayedLayerName(row);
            QVERIFY2(shown.endsWith(tail(name)), qPrintable(shown));
            QVERIFY2(metrics.horizontalAdvance(shown) <= width, qPrintable(shown));
        }
        // Every column is on screen.
        QVERIFY(table->horizontalHeader()->length() <= table->viewport()->width());
        // The chart's labels too.
        const QStringList labels = chart->visibleLabels();
        QVERIFY(labels.size() >= 5);
        for (int i = 0; i < labels.size(); ++i) {
            const QString name =
                table->item(model->rowOfLayer(chart->firstVisible() + i), ModelView::Layer)->text();
            QVERIFY2(labels[i].endsWith(tail(name)), qPrintable(labels[i] + QStringLiteral(" for ") + name));
        }
        // The bars keep at least half the chart's width beside the labels.
        QVERIFY2(chart->axisRect()->width() * 2 >= chart->width(),
                 qPrintable(QStringLiteral("%1 of %2").arg(chart->axisRect()->width()).arg(chart->width())));
    }
};

QTEST_MAIN(TestNarrowWindow)

#include "tst_narrowwindow.moc"
