#include "plots/PlotBase.h"

#include "plots/PlotTextBoxes.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSvgGenerator>

#include <algorithm>
#include <functional>

namespace quantscope::ui {
namespace {

bool g_presentation = false;
double g_scale = 1.0;

const char* const kOptional = "quantscope.optional";
const char* const kFullText = "quantscope.fullText";
const char* const kShownText = "quantscope.shownText";

} // namespace

QString PlotBase::wrapText(const QString& text, const QFont& font, double width) {
    const QFontMetricsF metrics(font);
    if (metrics.horizontalAdvance(text) <= width)
        return text;
    QStringList lines;
    QString line;
    for (const QString& word : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        const QString longer = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
        if (!line.isEmpty() && metrics.horizontalAdvance(longer) > width) {
            lines.append(line);
            line = word;
        } else {
            line = longer;
        }
    }
    lines.append(line);
    return lines.join(QLatin1Char('\n'));
}

namespace {

// Neighbouring tick labels closer than half a character: they read as one number.
bool ticksTouch(QCPAxis* axis) {
    const QVector<PlotTextBoxes::Box> boxes = PlotTextBoxes::tickLabels(axis);
    const double gap = 0.5 * QFontMetricsF(axis->tickLabelFont()).averageCharWidth();
    for (int i = 1; i < boxes.size(); ++i) {
        const QRectF a = boxes[i - 1].rect.adjusted(-gap / 2, -gap / 2, gap / 2, gap / 2);
        if (a.intersects(boxes[i].rect.adjusted(-gap / 2, -gap / 2, gap / 2, gap / 2)))
            return true;
    }
    return false;
}

} // namespace

PlotBase::PlotBase(QWidget* parent) : QCustomPlot(parent) {
    setAntialiasedElements(QCP::aeAll);
    setNoAntialiasingOnDrag(true);
    setMinimumSize(200, 150);
    applyStyle();
}

void PlotBase::setPresentationMode(bool on, double scale) {
    g_presentation = on;
    g_scale = on ? std::max(1.0, scale) : 1.0;
    const auto widgets = QApplication::allWidgets();
    for (QWidget* widget : widgets)
        if (auto* plot = qobject_cast<PlotBase*>(widget)) {
            plot->applyStyle();
            plot->replot();
        }
}

bool PlotBase::presentationMode() {
    return g_presentation;
}

double PlotBase::presentationScale() {
    return g_scale;
}

double PlotBase::lineScale() {
    // Lines grow a little faster than type: thin lines vanish first on a projector.
    return g_presentation ? std::max(1.5, 1.2 * g_scale) : 1.0;
}

double PlotBase::scaleForScreen(QSize screen) {
    if (screen.isEmpty())
        return 1.25;
    const double fit = std::min(screen.width() / 1280.0, screen.height() / 720.0);
    return std::clamp(1.25 * fit, 1.0, 4.0);
}

QFont PlotBase::textFont(double factor, bool bold) {
    QFont font = QApplication::font();
    font.setPointSizeF(font.pointSizeF() * factor);
    font.setBold(bold);
    return font;
}

void PlotBase::markOptional(QCPItemText* text) {
    text->setProperty(kOptional, true);
}

void PlotBase::placeLegendBelow() {
    if (m_legendBelow || !legend)
        return;
    for (int i = 0; i < axisRect()->insetLayout()->elementCount(); ++i)
        if (axisRect()->insetLayout()->elementAt(i) == legend) {
            axisRect()->insetLayout()->take(legend);
            axisRect()->insetLayout()->simplify();
            break;
        }
    const int row = plotLayout()->rowCount();
    plotLayout()->addElement(row, 0, legend);
    plotLayout()->setRowStretchFactor(row, 0.001);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setBorderPen(Qt::NoPen);
    legend->setMargins(QMargins(6, 2, 6, 2));
    m_legendBelow = true;
}

void PlotBase::updateLayout() {
    QCustomPlot::updateLayout();
    wrapTitles();
    fitLegendColumns();
    fitContents();
    QCustomPlot::updateLayout();
    for (QCPAxisRect* rect : axisRects())
        for (QCPAxis* axis : rect->axes())
            thinTicks(axis);
    fitContents();
    dropOverprintingLabels();
}

void PlotBase::wrapTitles() {
    bool changed = false;
    for (QCPLayoutElement* element : plotLayout()->elements(true)) {
        auto* title = qobject_cast<QCPTextElement*>(element);
        if (!title)
            continue;
        // The text as the plot set it (not as wrapped here last time).
        if (title->text() != title->property(kShownText).toString())
            title->setProperty(kFullText, title->text());
        const QString full = title->property(kFullText).toString();
        const QString shown = width() < 60 ? full : wrapText(full, title->font(), width() - 12.0);
        title->setProperty(kShownText, shown);
        if (shown != title->text()) {
            title->setText(shown);
            changed = true;
        }
    }
    if (changed)
        QCustomPlot::updateLayout();
}

void PlotBase::fitLegendColumns() {
    if (!m_legendBelow || !legend->visible() || legend->itemCount() == 0)
        return;
    // As many columns as the widest items allow side by side.
    QVector<int> widths;
    for (int i = 0; i < legend->itemCount(); ++i)
        if (QCPAbstractLegendItem* item = legend->item(i)) // a wrapped grid has empty cells
            widths.append(item->minimumOuterSizeHint().width() + legend->columnSpacing());
    if (widths.isEmpty())
        return;
    std::sort(widths.begin(), widths.end(), std::greater<>());
    const int available = width() - legend->margins().left() - legend->margins().right() - 12;
    int columns = 0;
    int used = 0;
    for (int w : std::as_const(widths)) {
        if (columns > 0 && used + w > available)
            break;
        used += w;
        ++columns;
    }
    columns = std::max(1, columns);
    if (legend->wrap() != columns) {
        legend->setWrap(columns);
        // setWrap alone lays out only items added later: a chart that keeps its legend items
        // (LayerSqnrChart) would keep one squeezed row.
        legend->setFillOrder(legend->fillOrder(), true);
        QCustomPlot::updateLayout();
    }
}

void PlotBase::thinTicks(QCPAxis* axis) {
    if (!axis->visible() || !axis->tickLabels())
        return;
    QSharedPointer<QCPAxisTicker> ticker = axis->ticker();
    // Start from the count the plot asked for (a larger plot gets its ticks back); a new ticker
    // brings its own.
    AskedTicks& asked = m_askedTicks[axis];
    if (asked.ticker.toStrongRef() != ticker)
        asked = {ticker.toWeakRef(), ticker->tickCount()};
    const bool textTicks = !ticker.dynamicCast<QCPAxisTickerText>().isNull();
    if (!textTicks && ticker->tickCount() != asked.count) {
        ticker->setTickCount(asked.count);
        QCustomPlot::updateLayout();
    }
    for (int attempt = 0; attempt < 12 && ticksTouch(axis); ++attempt) {
        if (textTicks) {
            // Named ticks cannot be thinned: turn them on a horizontal axis, once.
            if (axis->orientation() != Qt::Horizontal || axis->tickLabelRotation() != 0.0)
                return;
            axis->setTickLabelRotation(90.0);
        } else {
            if (ticker->tickCount() <= 2)
                return; // two labels at least: a scale needs them
            if (auto fixed = ticker.dynamicCast<QCPAxisTickerFixed>())
                fixed->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
            ticker->setTickCount(ticker->tickCount() - 1);
        }
        QCustomPlot::updateLayout();
    }
}

void PlotBase::dropOverprintingLabels() {
    QVector<QCPItemText*> optional;
    for (int i = 0; i < itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(item(i)); text && text->property(kOptional).toBool()) {
            optional.append(text);
            text->setVisible(false);
        }
    if (optional.isEmpty())
        return;
    QVector<PlotTextBoxes::Box> kept = PlotTextBoxes::collect(this);
    for (QCPItemText* text : std::as_const(optional)) {
        text->setVisible(true);
        const QVector<PlotTextBoxes::Box> mine = PlotTextBoxes::itemBox(text);
        bool clear = true;
        for (const auto& box : mine)
            for (const auto& other : std::as_const(kept))
                if (box.rect.intersects(other.rect))
                    clear = false;
        if (clear)
            kept += mine;
        else
            text->setVisible(false);
    }
}

QColor PlotBase::textColour() const {
    return palette().color(QPalette::WindowText);
}

QColor PlotBase::accentColour(int index) const {
    // Okabe–Ito colours: distinguishable for colour-blind readers, on light and dark backgrounds.
    static const QColor colours[] = {QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00),
                                     QColor(0x00, 0x9e, 0x73), QColor(0xcc, 0x79, 0xa7),
                                     QColor(0x56, 0xb4, 0xe9), QColor(0xd5, 0x5e, 0x00),
                                     QColor(0xf0, 0xe4, 0x42)};
    const QColor colour = colours[static_cast<unsigned>(index) % std::size(colours)];
    // The yellow fades into a light background: darken it there.
    if (colour == colours[6] && palette().color(QPalette::Base).lightness() > 128)
        return colour.darker(165);
    return colour;
}

void PlotBase::styleAxis(QCPAxis* axis) {
    const QColor text = textColour();
    QColor grid = text;
    grid.setAlpha(40);
    const QFont font = textFont();
    QFont labelFont = font;
    labelFont.setBold(presentationMode());
    axis->setBasePen(QPen(text, lineScale()));
    axis->setTickPen(QPen(text, lineScale()));
    axis->setSubTickPen(QPen(text, lineScale()));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->setTickLabelFont(font);
    axis->setLabelFont(labelFont);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    axis->grid()->setZeroLinePen(QPen(grid, 1));
}

void PlotBase::applyStyle() {
    setBackground(palette().color(QPalette::Base));
    for (QCPAxisRect* rect : axisRects()) {
        rect->setBackground(palette().color(QPalette::Base));
        for (QCPAxis* axis : rect->axes())
            styleAxis(axis);
    }
    if (legend) {
        legend->setBrush(palette().color(QPalette::Base));
        legend->setTextColor(textColour());
        legend->setBorderPen(QPen(textColour().darker(150)));
        legend->setFont(textFont(0.95));
    }
}

void PlotBase::changeEvent(QEvent* event) {
    // A new palette, or a new application font (presentation mode): restyle with it.
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        applyStyle();
        replot();
    }
    QCustomPlot::changeEvent(event);
}

QString PlotBase::saveTo(const QString& path, int width, int height) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == QLatin1String("png")) {
        ok = savePng(path, width, height, 2.0);
    } else if (suffix == QLatin1String("pdf")) {
        ok = savePdf(path, width, height);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator generator;
        generator.setFileName(path);
        const int w = width > 0 ? width : this->width();
        const int h = height > 0 ? height : this->height();
        generator.setSize(QSize(w, h));
        generator.setViewBox(QRect(0, 0, w, h));
        generator.setTitle(QStringLiteral("Quantscope plot"));
        QCPPainter painter;
        ok = painter.begin(&generator);
        if (ok) {
            toPainter(&painter, w, h);
            painter.end();
        }
    } else {
        return tr("%1: unknown image type; use .png, .svg or .pdf").arg(path);
    }
    return ok ? QString() : tr("%1: could not write the file").arg(path);
}

void PlotBase::copyDataToClipboard() const {
    QApplication::clipboard()->setText(dataAsText());
}

void PlotBase::addContextActions(QMenu&, QPointF) {}

void PlotBase::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    addContextActions(menu, event->pos());
    if (!menu.isEmpty())
        menu.addSeparator();
    menu.addAction(tr("Save plot as…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save plot"), QString(), tr("PNG image (*.png);;SVG drawing (*.svg);;PDF (*.pdf)"));
        if (path.isEmpty())
            return;
        if (const QString error = saveTo(path); !error.isEmpty())
            QMessageBox::warning(this, tr("Save plot"), error);
    });
    menu.addAction(tr("Copy data as text"), this, &PlotBase::copyDataToClipboard);
    menu.addAction(tr("Reset zoom"), this, [this] {
        rescaleAxes();
        replot();
    });
    menu.exec(event->globalPos());
}

} // namespace quantscope::ui
