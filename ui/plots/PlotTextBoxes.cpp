#include "plots/PlotTextBoxes.h"

#include <QFontMetricsF>

#include <algorithm>
#include <cmath>

namespace quantscope::ui {
namespace {

QSizeF textSize(const QFont& font, const QString& text) {
    return QFontMetricsF(font).boundingRect(QRectF(), Qt::AlignCenter | Qt::TextDontClip, text).size();
}

// The bounding box of a text rotated by `degrees` (tick labels may be turned).
QSizeF rotated(QSizeF size, double degrees) {
    const double radians = qDegreesToRadians(degrees);
    const double c = std::abs(std::cos(radians));
    const double s = std::abs(std::sin(radians));
    return {size.width() * c + size.height() * s, size.width() * s + size.height() * c};
}

QString shortText(const QString& text) {
    QString line = text;
    line.replace(QLatin1Char('\n'), QLatin1Char(' '));
    return line.size() > 40 ? line.left(37) + QStringLiteral("...") : line;
}

// A legend drawn with at least one entry (a wrapped legend's grid also holds empty cells).
bool showsLegend(QCustomPlot* plot) {
    if (!plot->legend || !plot->legend->visible())
        return false;
    for (int i = 0; i < plot->legend->itemCount(); ++i)
        if (plot->legend->item(i))
            return true;
    return false;
}

QVector<QCPTextElement*> titles(QCustomPlot* plot) {
    QVector<QCPTextElement*> found;
    for (QCPLayoutElement* element : plot->plotLayout()->elements(true))
        if (auto* title = qobject_cast<QCPTextElement*>(element);
            title && title->visible() && !title->text().isEmpty())
            found.append(title);
    return found;
}

} // namespace

QVector<PlotTextBoxes::Box> PlotTextBoxes::tickLabels(QCPAxis* axis) {
    QVector<Box> boxes;
    if (!axis->visible() || !axis->tickLabels())
        return boxes;
    const QRect area = axis->axisRect()->rect();
    const int distance = axis->offset() + std::max({0, axis->tickLengthOut(), axis->subTickLengthOut()}) +
                         axis->tickLabelPadding();
    const QVector<double> ticks = axis->tickVector();
    const QVector<QString> labels = axis->tickVectorLabels();
    const QCPRange range = axis->range();
    for (int i = 0; i < ticks.size() && i < labels.size(); ++i) {
        if (labels[i].isEmpty() || !range.contains(ticks[i]))
            continue;
        const QSizeF size = rotated(textSize(axis->tickLabelFont(), labels[i]), axis->tickLabelRotation());
        const double at = axis->coordToPixel(ticks[i]);
        QRectF rect(QPointF(), size);
        switch (axis->axisType()) {
        case QCPAxis::atBottom:
            rect.moveCenter({at, area.bottom() + distance + size.height() / 2});
            break;
        case QCPAxis::atTop:
            rect.moveCenter({at, area.top() - distance - size.height() / 2});
            break;
        case QCPAxis::atLeft:
            rect.moveCenter({area.left() - distance - size.width() / 2, at});
            break;
        case QCPAxis::atRight:
            rect.moveCenter({area.right() + distance + size.width() / 2, at});
            break;
        }
        const QString side =
            axis->orientation() == Qt::Horizontal ? QStringLiteral("x") : QStringLiteral("y");
        boxes.append({QStringLiteral("%1 tick \"%2\"").arg(side, shortText(labels[i])), rect});
    }
    return boxes;
}

QVector<PlotTextBoxes::Box> PlotTextBoxes::collect(QCustomPlot* plot) {
    QVector<Box> boxes;
    for (QCPAxisRect* rect : plot->axisRects())
        for (QCPAxis* axis : rect->axes())
            boxes += tickLabels(axis);
    for (QCPTextElement* title : titles(plot)) {
        QRectF box(QPointF(), textSize(title->font(), title->text()));
        box.moveCenter(QRectF(title->rect()).center());
        boxes.append({QStringLiteral("title \"%1\"").arg(shortText(title->text())), box});
    }
    if (showsLegend(plot))
        boxes.append({QStringLiteral("legend"), QRectF(plot->legend->rect())});
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i)))
            boxes += itemBox(text);
    return boxes;
}

QVector<PlotTextBoxes::Box> PlotTextBoxes::itemBox(QCPItemText* text) {
    if (!text->visible() || text->text().isEmpty() || (text->layer() && !text->layer()->visible()))
        return {};
    QPolygonF corners;
    for (QCPItemAnchor* anchor : {text->topLeft, text->topRight, text->bottomRight, text->bottomLeft})
        corners << anchor->pixelPosition();
    QRectF box = corners.boundingRect();
    if (text->clipToAxisRect() && text->clipAxisRect())
        box = box.intersected(QRectF(text->clipAxisRect()->rect()));
    if (box.width() <= 1 || box.height() <= 1)
        return {};
    return {{QStringLiteral("text \"%1\"").arg(shortText(text->text())), box}};
}

QStringList PlotTextBoxes::overlaps(const QVector<Box>& boxes, double tolerance) {
    QStringList found;
    for (int i = 0; i < boxes.size(); ++i)
        for (int j = i + 1; j < boxes.size(); ++j) {
            const QRectF common = boxes[i].rect.intersected(boxes[j].rect);
            if (common.width() > tolerance && common.height() > tolerance)
                found.append(QStringLiteral("%1 overlaps %2 (%3×%4 px)")
                                 .arg(boxes[i].what, boxes[j].what)
                                 .arg(common.width(), 0, 'f', 0)
                                 .arg(common.height(), 0, 'f', 0));
        }
    return found;
}

QStringList PlotTextBoxes::legendOverData(QCustomPlot* plot) {
    QStringList found;
    if (!showsLegend(plot))
        return found;
    const QRectF legend = QRectF(plot->legend->rect()).adjusted(1, 1, -1, -1);
    for (int p = 0; p < plot->plottableCount(); ++p) {
        QCPAbstractPlottable* plottable = plot->plottable(p);
        if (!plottable->visible())
            continue;
        int covered = 0;
        if (auto* graph = qobject_cast<QCPGraph*>(plottable)) {
            const QCPRange keys = graph->keyAxis()->range();
            const QCPRange values = graph->valueAxis()->range();
            for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
                if (keys.contains(it->key) && values.contains(it->value) &&
                    legend.contains(graph->coordsToPixels(it->key, it->value)))
                    ++covered;
        } else if (auto* bars = qobject_cast<QCPBars*>(plottable)) {
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it) {
                const QPointF a = bars->coordsToPixels(it->key - bars->width() / 2, 0.0);
                const QPointF b = bars->coordsToPixels(it->key + bars->width() / 2, it->value);
                if (QRectF(a, b).normalized().intersects(legend))
                    ++covered;
            }
        }
        if (covered > 0)
            found.append(QStringLiteral("the legend covers %1 point(s) of \"%2\"")
                             .arg(covered)
                             .arg(plottable->name()));
    }
    return found;
}

QStringList PlotTextBoxes::titlesTooWide(QCustomPlot* plot) {
    QStringList found;
    for (QCPTextElement* title : titles(plot)) {
        const double width = textSize(title->font(), title->text()).width();
        if (width > plot->width())
            found.append(QStringLiteral("title \"%1\" is %2 px wide in a %3 px plot")
                             .arg(shortText(title->text()))
                             .arg(width, 0, 'f', 0)
                             .arg(plot->width()));
    }
    for (QCPAxisRect* rect : plot->axisRects())
        for (QCPAxis* axis : rect->axes()) {
            if (!axis->visible() || axis->label().isEmpty())
                continue;
            const QSizeF size = textSize(axis->labelFont(), axis->label());
            const double length = axis->orientation() == Qt::Horizontal ? plot->width() : plot->height();
            if (size.width() > length)
                found.append(QStringLiteral("axis label \"%1\" is %2 px long on a %3 px side")
                                 .arg(shortText(axis->label()))
                                 .arg(size.width(), 0, 'f', 0)
                                 .arg(length, 0, 'f', 0));
        }
    return found;
}

QStringList PlotTextBoxes::problems(QCustomPlot* plot, const QString& name) {
    QStringList found = overlaps(collect(plot)) + legendOverData(plot) + titlesTooWide(plot);
    for (QString& line : found)
        line.prepend(name + QStringLiteral(": "));
    return found;
}

} // namespace quantscope::ui
