#include "learn/LearnNumberLine.h"

#include "quantscope/analysis/FineHistogram.h"

#include <QApplication>
#include <QMouseEvent>

#include <algorithm>
#include <cmath>

namespace quantscope::ui {
namespace {

constexpr double kSymmetricLane = -0.55;
constexpr double kAffineLane = -1.45;
constexpr double kTickHalf = 0.16;

QString number(double v) {
    return QString::number(v, 'g', 5);
}

} // namespace

LearnNumberLine::LearnNumberLine(bool zoomed, QWidget* parent) : PlotBase(parent), m_zoomed(zoomed) {
    yAxis->setVisible(false);
    // The zoomed line has no histogram: only the lanes and x.
    yAxis->setRange(kAffineLane - (zoomed ? 0.65 : 0.75), zoomed ? 0.05 : 1.15);
    xAxis->setLabel(zoomed ? tr("value (zoomed in around x: single levels)") : tr("value (click to pick x)"));
    setCursor(Qt::CrossCursor);
    applyStyle();
}

void LearnNumberLine::applyStyle() {
    PlotBase::applyStyle();
    // The lanes, their captions and integers and the axis need some 9 lines of text (8 zoomed):
    // the height follows the type size, so presentation mode's larger type never overprints.
    setMinimumHeight(static_cast<int>((m_zoomed ? 8 : 9) * QFontMetricsF(textFont()).height()));
    xAxis->grid()->setVisible(false);
    if (m_symmetric)
        redraw();
}

void LearnNumberLine::setSteps(const LearnMappingSteps& symmetric, const LearnMappingSteps& affine,
                               std::shared_ptr<const FineHistogram> histogram) {
    m_symmetric = symmetric;
    m_affine = affine;
    m_histogram = std::move(histogram);
    redraw();
}

void LearnNumberLine::clearSteps() {
    m_symmetric.reset();
    m_affine.reset();
    clearGraphs();
    clearItems();
    replot();
}

QCPItemText* LearnNumberLine::label(double x, double y, const QString& text, const QColor& colour,
                                    Qt::Alignment alignment, double sizeFactor) {
    auto* item = new QCPItemText(this);
    item->position->setCoords(x, y);
    item->setPositionAlignment(alignment);
    item->setText(text);
    item->setColor(colour);
    item->setFont(textFont(sizeFactor));
    item->setClipToAxisRect(true);
    item->setSelectable(false);
    return item;
}

void LearnNumberLine::drawHistogram(double from, double to) {
    if (!m_histogram || m_histogram->isEmpty())
        return;
    const int bins = m_zoomed ? 60 : 240;
    const std::vector<double> counts = m_histogram->rebin(from, to, bins);
    double largest = 0.0;
    for (double c : counts)
        largest = std::max(largest, std::log1p(c));
    if (largest <= 0.0)
        return;
    QVector<double> keys(bins);
    QVector<double> values(bins);
    const double width = (to - from) / bins;
    for (int i = 0; i < bins; ++i) {
        keys[i] = from + (i + 0.5) * width;
        values[i] = std::log1p(counts[static_cast<std::size_t>(i)]) / largest;
    }
    QCPGraph* graph = addGraph();
    graph->setName(tr("histogram (log counts)"));
    graph->setLineStyle(QCPGraph::lsStepCenter);
    QColor fill = textColour();
    fill.setAlpha(70);
    graph->setPen(QPen(textColour(), lineScale()));
    graph->setBrush(fill);
    graph->setData(keys, values, true);
    markOptional(label(from + (to - from) * 0.005, 1.08, tr("the tensor's values (histogram, log counts)"),
                       textColour(), Qt::AlignLeft | Qt::AlignTop, 0.95));
}

void LearnNumberLine::drawLane(const LearnMappingSteps& s, double y, const QColor& colour,
                               const QString& name) {
    const double from = xAxis->range().lower;
    const double to = xAxis->range().upper;
    // The representable interval [(qmin - Z)·S, (qmax - Z)·S], light.
    auto* band = new QCPItemRect(this);
    QColor light = colour;
    light.setAlpha(45);
    band->setPen(Qt::NoPen);
    band->setBrush(light);
    band->topLeft->setCoords(s.gridLow, y + kTickHalf);
    band->bottomRight->setCoords(s.gridHigh, y - kTickHalf);
    // The wasted part: levels outside the tensor's range, hatched red.
    const QColor waste(0xcc, 0x22, 0x22, 120);
    const auto wasted = [&](double lo, double hi) {
        if (hi <= lo)
            return;
        auto* rect = new QCPItemRect(this);
        rect->setPen(Qt::NoPen);
        rect->setBrush(QBrush(waste, Qt::BDiagPattern));
        rect->topLeft->setCoords(lo, y + kTickHalf * 1.6);
        rect->bottomRight->setCoords(hi, y - kTickHalf * 1.6);
    };
    // The cells of the levels no value reaches (as LearnMappingSteps counts them).
    const double half = 0.5 * s.scale;
    const double lowestUseful = std::max<double>(static_cast<double>(s.qmin),
                                                 std::ceil((s.range.min - half) / s.scale) + s.zeroPoint);
    const double highestUseful = std::min<double>(static_cast<double>(s.qmax),
                                                  std::floor((s.range.max + half) / s.scale) + s.zeroPoint);
    wasted(s.gridLow - half, (lowestUseful - s.zeroPoint) * s.scale - half);
    wasted((highestUseful - s.zeroPoint) * s.scale + half, s.gridHigh + half);

    // The grid: one tick per visible level.
    const double firstLevel =
        std::max<double>(static_cast<double>(s.qmin), std::ceil(from / s.scale) + s.zeroPoint);
    const double lastLevel =
        std::min<double>(static_cast<double>(s.qmax), std::floor(to / s.scale) + s.zeroPoint);
    const double visible = lastLevel - firstLevel + 1;
    QCPGraph* ticks = addGraph();
    ticks->setName(name + tr(" levels"));
    ticks->setLineStyle(QCPGraph::lsNone);
    const double spacing = std::abs(xAxis->coordToPixel(s.scale) - xAxis->coordToPixel(0.0));
    if (visible > 0 && visible <= kMaxTicks) {
        // Each level a vertical segment; NaN between segments breaks the line.
        QVector<double> keys;
        QVector<double> values;
        for (double q = firstLevel; q <= lastLevel; q += 1.0) {
            const double at = (q - s.zeroPoint) * s.scale;
            keys << at << at << at;
            values << y - kTickHalf << y + kTickHalf << std::nan("");
        }
        ticks->setLineStyle(QCPGraph::lsLine);
        ticks->setPen(QPen(colour, spacing > 6 ? 2.0 * lineScale() : 1.0));
        ticks->setData(keys, values, true);
        // Integers under the ticks when there is room for them.
        const double widest = QFontMetricsF(textFont(0.85)).horizontalAdvance(QStringLiteral("−32768"));
        if (spacing > std::min(widest, 4.0 * QFontMetricsF(textFont(0.85)).averageCharWidth()) + 6)
            for (double q = firstLevel; q <= lastLevel; q += 1.0)
                markOptional(label((q - s.zeroPoint) * s.scale, y - kTickHalf - 0.02,
                                   QString::number(static_cast<qint64>(q)), colour,
                                   Qt::AlignHCenter | Qt::AlignTop, 0.85));
    } else if (visible > kMaxTicks) {
        auto* dense = new QCPItemRect(this);
        dense->setPen(Qt::NoPen);
        QColor c = colour;
        c.setAlpha(150);
        dense->setBrush(c);
        dense->topLeft->setCoords(std::max(from, s.gridLow), y + kTickHalf);
        dense->bottomRight->setCoords(std::min(to, s.gridHigh), y - kTickHalf);
    }
    // Text in the lane's colour: darker on a light background, lighter on a dark one.
    const bool dark = palette().color(QPalette::Base).lightness() < 128;
    const QColor ink = dark ? colour.lighter(140) : colour.darker(130);
    // Zero's level Z, emphasised.
    if (0.0 >= from && 0.0 <= to) {
        auto* zero = new QCPItemLine(this);
        zero->start->setCoords(0.0, y - kTickHalf * 1.9);
        zero->end->setCoords(0.0, y + kTickHalf * 1.9);
        zero->setPen(QPen(colour.darker(130), 3.5 * lineScale()));
        // Below the lane: the lane's caption sits above it.
        // Left out where a short plot has no room for it (the tables above give Z too).
        markOptional(label(0.0, y - kTickHalf * 2.0, tr("Z = %1 ↔ 0.0").arg(s.zeroPoint), ink,
                           Qt::AlignHCenter | Qt::AlignTop, 0.95));
    }
    // Where x lands: x̂ as a ring on the lane.
    QCPGraph* landed = addGraph();
    landed->setLineStyle(QCPGraph::lsNone);
    landed->setScatterStyle(QCPScatterStyle(
        QCPScatterStyle::ssCircle, QPen(colour.darker(140), 3 * lineScale()), Qt::white, 15 * lineScale()));
    landed->setData({static_cast<double>(s.dequantized)}, {y}, true);
    landed->setName(name + tr(" x̂"));
    // The lane's caption on the left; zoomed (a narrower plot beside the whole line), x_q only.
    const QString clipped = s.clipped ? tr(" (clipped)") : QString();
    const QString caption =
        m_zoomed ? QStringLiteral("%1  x_q = %2%3").arg(name).arg(s.quantized).arg(clipped)
                 : QStringLiteral("%1  S = %2, Z = %3, x_q = %4%5%6")
                       .arg(name, number(s.scale))
                       .arg(s.zeroPoint)
                       .arg(s.quantized)
                       .arg(clipped,
                            s.wastedLevels > 0 ? tr(", %1 levels unused").arg(s.wastedLevels) : QString());
    auto* text = label(from + (to - from) * 0.005, y + kTickHalf * 1.15, caption, ink,
                       Qt::AlignLeft | Qt::AlignBottom, 1.0);
    QFont bold = text->font();
    bold.setBold(true);
    text->setFont(bold);
    QColor background = palette().color(QPalette::Base);
    background.setAlpha(200);
    text->setBrush(background);
}

void LearnNumberLine::redraw() {
    clearGraphs();
    clearItems();
    if (!m_symmetric || !m_affine) {
        replot();
        return;
    }
    const LearnMappingSteps& sym = *m_symmetric;
    const LearnMappingSteps& aff = *m_affine;
    const double x = sym.x;
    double lo = 0.0;
    double hi = 0.0;
    if (m_zoomed) {
        const double step = std::max(sym.scale, aff.scale);
        lo = x - 4.5 * step;
        hi = x + 4.5 * step;
    } else {
        lo = std::min({static_cast<double>(sym.range.min), sym.gridLow, aff.gridLow, x, 0.0});
        hi = std::max({static_cast<double>(sym.range.max), sym.gridHigh, aff.gridHigh, x, 0.0});
        const double pad = (hi - lo) * 0.03 + 1e-12;
        lo -= pad;
        hi += pad;
    }
    xAxis->setRange(lo, hi);
    if (!m_zoomed)
        drawHistogram(lo, hi);

    // The tensor's range as dotted lines across everything.
    const QColor text = textColour();
    for (double bound : {static_cast<double>(sym.range.min), static_cast<double>(sym.range.max)}) {
        if (bound < lo || bound > hi)
            continue;
        auto* line = new QCPItemLine(this);
        line->start->setCoords(bound, kAffineLane - 0.3);
        line->end->setCoords(bound, m_zoomed ? 0.0 : 1.0);
        line->setPen(QPen(text, 1.2 * lineScale(), Qt::DotLine));
        markOptional(
            label(bound, 0.02,
                  bound == sym.range.min ? tr("min %1").arg(number(bound)) : tr("max %1").arg(number(bound)),
                  text, (bound == sym.range.min ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignBottom, 0.9));
    }
    drawLane(sym, kSymmetricLane, accentColour(0), tr("symmetric"));
    drawLane(aff, kAffineLane, accentColour(5), tr("affine"));

    // x: a line through all lanes and a dot on the axis of values.
    const QColor xColour = accentColour(2).darker(115);
    auto* xLine = new QCPItemLine(this);
    xLine->start->setCoords(x, kAffineLane - 0.3);
    // Zoomed, the lanes' captions and the S brackets fill the top: x is named at the bottom.
    const double top = m_zoomed ? -0.02 : 0.95;
    xLine->end->setCoords(x, top);
    xLine->setPen(QPen(xColour, 2.0 * lineScale(), Qt::DashLine));
    auto* xText =
        m_zoomed ? label(x, kAffineLane - kTickHalf * 1.3, tr("x = %1").arg(number(x)), xColour,
                         Qt::AlignLeft | Qt::AlignTop, 1.1)
                 : label(x, top, tr("x = %1").arg(number(x)), xColour, Qt::AlignHCenter | Qt::AlignTop, 1.1);
    QColor background = palette().color(QPalette::Base);
    background.setAlpha(220);
    xText->setBrush(background);
    // S as a bracket between two neighbouring levels in the zoomed view.
    if (m_zoomed) {
        for (const auto& [steps, y] : {std::pair{&sym, kSymmetricLane}, std::pair{&aff, kAffineLane}}) {
            const double q = static_cast<double>(steps->quantized);
            const double left = (q - steps->zeroPoint) * steps->scale;
            const double right = left + steps->scale;
            if (right > hi)
                continue;
            auto* bracket = new QCPItemLine(this);
            bracket->start->setCoords(left, y + kTickHalf * 1.3);
            bracket->end->setCoords(right, y + kTickHalf * 1.3);
            bracket->setHead(QCPLineEnding::esBar);
            bracket->setTail(QCPLineEnding::esBar);
            bracket->setPen(QPen(text, 1.5 * lineScale()));
            markOptional(label((left + right) / 2, y + kTickHalf * 1.4, QStringLiteral("S"), text,
                               Qt::AlignHCenter | Qt::AlignBottom, 1.0));
        }
    }
    replot();
}

QString LearnNumberLine::dataAsText() const {
    if (!m_symmetric || !m_affine)
        return {};
    QString text = QStringLiteral("scheme\tx\tscale\tzero_point\tq\tdequantized\terror\n");
    for (const LearnMappingSteps* s : {&*m_symmetric, &*m_affine})
        text += QStringLiteral("%1\t%2\t%3\t%4\t%5\t%6\t%7\n")
                    .arg(QString::fromLatin1(schemeName(s->spec.scheme)))
                    .arg(static_cast<double>(s->x), 0, 'g', 9)
                    .arg(static_cast<double>(s->scale), 0, 'g', 9)
                    .arg(s->zeroPoint)
                    .arg(s->quantized)
                    .arg(static_cast<double>(s->dequantized), 0, 'g', 9)
                    .arg(s->error, 0, 'g', 9);
    return text;
}

void LearnNumberLine::resizeEvent(QResizeEvent* event) {
    PlotBase::resizeEvent(event);
    // Tick sizes and the integer labels depend on the pixel spacing of the levels.
    if (m_symmetric)
        redraw();
}

void LearnNumberLine::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton && m_symmetric && axisRect()->rect().contains(event->pos())) {
        emit valuePicked(xAxis->pixelToCoord(event->position().x()));
        event->accept();
        return;
    }
    PlotBase::mousePressEvent(event);
}

} // namespace quantscope::ui
