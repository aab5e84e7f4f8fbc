#include "widgets/ModelMapLegend.h"

#include "widgets/ModelMapGrid.h"

#include <QLinearGradient>
#include <QPainter>

#include <algorithm>

namespace quantscope::ui {

ModelMapLegend::ModelMapLegend(ModelMapGrid* grid, QWidget* parent) : QWidget(parent), m_grid(grid) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    connect(grid, &ModelMapGrid::scaleChanged, this, qOverload<>(&QWidget::update));
}

QString ModelMapLegend::valueText(double value) const {
    return m_grid->metric() == ModelMapGrid::Metric::Sqnr ? QString::number(value, 'f', 1) + tr(" dB")
                                                          : QString::number(value, 'f', 2) + tr(" %");
}

QString ModelMapLegend::worstText() const {
    const auto range = m_grid->scaleRange();
    return range ? valueText(range->first) : QString();
}

QString ModelMapLegend::bestText() const {
    const auto range = m_grid->scaleRange();
    return range ? valueText(range->second) : QString();
}

QList<ModelMapLegend::Swatch> ModelMapLegend::swatches() const {
    QList<Swatch> list{{ModelMapGrid::pendingColour(), tr("being analysed")}};
    if (m_grid->metric() == ModelMapGrid::Metric::Sqnr)
        list.append({ModelMapGrid::zeroSignalColour(), tr("zero")});
    if (m_grid->showsFloatCells())
        list.append({m_grid->floatColour(), tr("float")});
    return list;
}

QStringList ModelMapLegend::paintedSwatches() const {
    QStringList labels;
    for (const auto& [label, rect] : m_painted)
        labels.append(label);
    return labels;
}

QRect ModelMapLegend::paintedSwatchRect(const QString& label) const {
    for (const auto& [name, rect] : m_painted)
        if (name == label)
            return rect;
    return {};
}

QSize ModelMapLegend::sizeHint() const {
    return {520, fontMetrics().height() + 10};
}

QSize ModelMapLegend::minimumSizeHint() const {
    return {260, fontMetrics().height() + 10};
}

void ModelMapLegend::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    const QFontMetrics fm = fontMetrics();
    const int h = height();
    const int swatch = fm.height() - 2;
    int x = 0;
    const auto text = [&](const QString& s) {
        painter.setPen(palette().color(QPalette::WindowText));
        painter.drawText(QRect(x, 0, fm.horizontalAdvance(s) + 2, h), Qt::AlignVCenter, s);
        x += fm.horizontalAdvance(s) + 6;
    };
    const QString worst = worstText();
    text(worst.isEmpty() ? tr("worst") : tr("worst %1").arg(worst));
    // The gradient takes what the labels leave, within reason.
    const QString best = bestText().isEmpty() ? tr("best") : tr("%1 best").arg(bestText());
    const QList<Swatch> boxes = swatches();
    int tail = fm.horizontalAdvance(best) + 24;
    for (const Swatch& s : boxes)
        tail += swatch + 12 + fm.horizontalAdvance(s.label) + 6;
    const int barWidth = std::clamp(width() - x - tail, 60, 260);
    QLinearGradient gradient(x, 0, x + barWidth, 0);
    for (int i = 0; i <= 8; ++i)
        gradient.setColorAt(i / 8.0, ModelMapGrid::scaleColour(i / 8.0));
    const QRect bar(x, (h - swatch) / 2, barWidth, swatch);
    painter.fillRect(bar, gradient);
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawRect(bar.adjusted(0, 0, -1, -1));
    x += barWidth + 6;
    text(best);
    x += 12;
    m_painted.clear();
    for (const Swatch& s : boxes) {
        if (x + swatch + 4 + fm.horizontalAdvance(s.label) > width())
            break; // no room: the swatch is left out rather than cut
        const QRect r(x, (h - swatch) / 2, swatch, swatch);
        painter.fillRect(r, s.colour);
        painter.setPen(s.colour.darker(125));
        painter.drawRect(r.adjusted(0, 0, -1, -1));
        x += swatch + 4;
        text(s.label);
        x += 8;
        m_painted.append({s.label, r});
    }
}

} // namespace quantscope::ui
