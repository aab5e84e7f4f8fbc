#include "learn/LearnPlot.h"

#include <QApplication>

namespace quantscope::ui {

LearnPlot::LearnPlot(QWidget* parent) : PlotBase(parent), m_title(new QCPTextElement(this)) {
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, m_title);
    legend->setVisible(true);
    placeLegendBelow();
    setMinimumHeight(220);
    applyStyle();
}

void LearnPlot::applyStyle() {
    PlotBase::applyStyle();
    m_title->setTextColor(textColour());
    m_title->setFont(textFont(1.15, true));
    // Room for a title, a legend row and tick labels around a readable plot, at any type size.
    setMinimumHeight(static_cast<int>(10 * QFontMetricsF(textFont()).height()));
}

void LearnPlot::reset(const QString& title, const QString& xLabel, const QString& yLabel) {
    clearGraphs();
    clearItems();
    clearPlottables();
    m_lastBars = nullptr;
    m_ticks.clear();
    m_markerLabels.clear();
    m_title->setText(title);
    xAxis->setLabel(xLabel);
    yAxis->setLabel(yLabel);
    xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    xAxis->setRangeReversed(false);
    yAxis2->setVisible(false);
    yAxis2->setScaleType(QCPAxis::stLinear);
    yAxis2->setTicker(QSharedPointer<QCPAxisTicker>::create());
}

QCPGraph* LearnPlot::addLine(const QString& name, const QVector<double>& x, const QVector<double>& y,
                             const QColor& colour, Qt::PenStyle style, bool markers, bool rightAxis,
                             const QStringList& pointLabels) {
    QCPGraph* graph = addGraph(xAxis, rightAxis ? yAxis2 : yAxis);
    graph->setName(name);
    graph->setPen(QPen(colour, (style == Qt::SolidLine ? 2.5 : 1.8) * lineScale(), style));
    if (markers)
        graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, 8 * lineScale()));
    graph->setData(x, y, true);
    const QFont font = textFont(0.9);
    for (int i = 0; i < pointLabels.size() && i < x.size(); ++i) {
        auto* text = new QCPItemText(this);
        text->position->setAxes(xAxis, rightAxis ? yAxis2 : yAxis);
        text->position->setCoords(x[i], y[i]);
        // Alternately above and below the point, so neighbouring labels do not overlap.
        text->setPositionAlignment(Qt::AlignLeft | (i % 2 == 0 ? Qt::AlignBottom : Qt::AlignTop));
        text->setPadding(QMargins(5, 3, 0, 3));
        text->setText(pointLabels[i]);
        text->setColor(colour.darker(130));
        text->setFont(font);
        text->setSelectable(false);
        markOptional(text); // left out where it would overprint a neighbour
    }
    return graph;
}

QCPBars* LearnPlot::addStackedBars(const QString& name, const QStringList& ticks,
                                   const QVector<double>& values, const QColor& colour) {
    auto* bars = new QCPBars(xAxis, yAxis);
    bars->setName(name);
    bars->setPen(Qt::NoPen);
    bars->setBrush(colour);
    bars->setWidth(0.6);
    QVector<double> keys;
    for (int i = 0; i < values.size(); ++i)
        keys.append(i);
    bars->setData(keys, values, true);
    if (m_lastBars)
        bars->moveAbove(m_lastBars);
    m_lastBars = bars;
    m_ticks = ticks;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int i = 0; i < ticks.size(); ++i)
        ticker->addTick(i, ticks[i]);
    xAxis->setTicker(ticker);
    return bars;
}

void LearnPlot::addVerticalMarker(double x, const QString& text, const QColor& colour, int labelRow) {
    auto* line = new QCPItemStraightLine(this);
    line->point1->setCoords(x, 0);
    line->point2->setCoords(x, 1);
    line->setPen(QPen(colour, 2.2 * lineScale(), Qt::DashLine));
    line->setSelectable(false);
    auto* label = new QCPItemText(this);
    label->position->setTypeX(QCPItemPosition::ptPlotCoords);
    label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(x, 0.1); // the row is placed in pixels by fitContents
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    label->setPadding(QMargins(4, 1, 4, 1));
    label->setText(text);
    label->setColor(colour.darker(140));
    QColor background = palette().color(QPalette::Base);
    background.setAlpha(215);
    label->setBrush(background);
    label->setFont(textFont(0.95, true));
    label->setSelectable(false);
    m_markerLabels.append({label, labelRow});
}

void LearnPlot::fitContents() {
    // Marker labels one text line apart, whatever the type size, and turned to the left of their
    // line where they would run past the right edge.
    const QRect area = axisRect()->rect();
    if (area.height() <= 0)
        return;
    for (const MarkerLabel& marker : std::as_const(m_markerLabels)) {
        QCPItemText* label = marker.label;
        const QFontMetricsF metrics(label->font());
        const double pitch = 1.2 * (metrics.height() + 2);
        label->position->setCoords(label->position->coords().x(),
                                   (4.0 + (marker.row + 0.5) * pitch) / area.height());
        const double x = xAxis->coordToPixel(label->position->coords().x());
        const double wide = metrics.horizontalAdvance(label->text()) + 10;
        label->setPositionAlignment((x + wide > area.right() ? Qt::AlignRight : Qt::AlignLeft) |
                                    Qt::AlignVCenter);
    }
}

void LearnPlot::setRightAxis(const QString& label, double lower, double upper, bool logarithmic) {
    yAxis2->setVisible(true);
    yAxis2->setLabel(label);
    if (logarithmic) {
        yAxis2->setScaleType(QCPAxis::stLogarithmic);
        yAxis2->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    }
    yAxis2->setRange(lower, upper);
    styleAxis(yAxis2);
}

void LearnPlot::finish(bool reversedX) {
    const bool hasBars = m_lastBars != nullptr;
    for (int i = 0; i < graphCount(); ++i)
        graph(i)->rescaleAxes(i > 0 || hasBars ? true : false);
    if (hasBars) {
        xAxis->setRange(-0.6, m_ticks.size() - 0.4);
        bool found = false;
        const QCPRange values = m_lastBars->getValueRange(found, QCP::sdBoth);
        yAxis->setRange(0.0, found && values.upper > 0 ? values.upper * 1.15 : 1.0);
    } else {
        const QCPRange x = xAxis->range();
        const QCPRange y = yAxis->range();
        xAxis->setRange(x.lower - 0.05 * x.size(), x.upper + 0.12 * x.size());
        yAxis->setRange(y.lower - 0.08 * y.size(), y.upper + 0.12 * y.size());
    }
    xAxis->setRangeReversed(reversedX);
    replot();
}

QString LearnPlot::dataAsText() const {
    QString text;
    for (int i = 0; i < plottableCount(); ++i) {
        QCPAbstractPlottable* p =
            const_cast<LearnPlot*>(this)->plottable(i); // QCustomPlot has no const accessor
        text += QStringLiteral("# %1\nx\ty\n").arg(p->name());
        if (auto* g = qobject_cast<QCPGraph*>(p))
            for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
                text += QStringLiteral("%1\t%2\n").arg(it->key, 0, 'g', 8).arg(it->value, 0, 'g', 8);
        if (auto* b = qobject_cast<QCPBars*>(p))
            for (auto it = b->data()->constBegin(); it != b->data()->constEnd(); ++it)
                text += QStringLiteral("%1\t%2\n")
                            .arg(m_ticks.value(static_cast<int>(it->key)))
                            .arg(it->value, 0, 'g', 8);
    }
    return text;
}

} // namespace quantscope::ui
