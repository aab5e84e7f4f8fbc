#include "plots/ParetoPlot.h"

#include "plots/PlotTextBoxes.h"

#include <QHelpEvent>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace quantscope::ui {

ParetoPlot::ParetoPlot(QWidget* parent)
    : PlotBase(parent), m_uniformGraph(addGraph()), m_frontGraph(addGraph()), m_planGraph(addGraph()),
      m_budgetLine(new QCPItemStraightLine(this)), m_message(new QCPItemText(this)),
      m_title(new QCPTextElement(this)) {
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, m_title);
    m_title->setText(tr("Whole model: size vs error"));
    xAxis->setLabel(tr("bits per weight"));
    yAxis->setLabel(tr("weighted SQNR (dB)"));
    m_uniformGraph->setName(tr("one format"));
    m_uniformGraph->setLineStyle(QCPGraph::lsNone);
    m_frontGraph->setName(tr("Pareto front"));
    m_frontGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssNone));
    m_planGraph->setName(tr("plan"));
    m_planGraph->setLineStyle(QCPGraph::lsNone);
    m_budgetLine->setVisible(false);
    m_budgetLine->setSelectable(false);
    m_message->setPositionAlignment(Qt::AlignCenter);
    m_message->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_message->position->setCoords(0.5, 0.5);
    m_message->setVisible(false);
    legend->setVisible(true);
    placeLegendBelow();
    applyStyle();
    setPoints({}, std::nullopt, std::nullopt);
}

void ParetoPlot::applyStyle() {
    PlotBase::applyStyle();
    if (!m_planGraph)
        return;
    const double line = lineScale();
    const QColor text = textColour();
    m_uniformGraph->setPen(QPen(accentColour(0), 1.5 * line));
    m_uniformGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, accentColour(0), 8 * line));
    m_frontGraph->setPen(QPen(accentColour(0), 1.5 * line, Qt::SolidLine));
    m_planGraph->setPen(QPen(accentColour(1), 2 * line));
    m_planGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(accentColour(1), 2 * line),
                                                 accentColour(1), 12 * line));
    QColor dashed = text;
    dashed.setAlpha(140);
    m_budgetLine->setPen(QPen(dashed, 1.2 * line, Qt::DashLine));
    m_title->setTextColor(text);
    m_title->setFont(textFont(1.15, true));
    m_message->setColor(text);
    m_message->setFont(textFont());
    for (QCPItemText* label : std::as_const(m_labels)) {
        label->setColor(text);
        label->setFont(textFont(0.95));
    }
}

QList<int> ParetoPlot::paretoFront(const std::vector<Point>& points) {
    std::vector<int> order(points.size());
    std::iota(order.begin(), order.end(), 0);
    // By bits, and at equal bits the better first: a point is on the front when it beats the
    // SQNR of every cheaper (or as cheap) point before it.
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        const Point& p = points[static_cast<std::size_t>(a)];
        const Point& q = points[static_cast<std::size_t>(b)];
        return p.bitsPerWeight != q.bitsPerWeight ? p.bitsPerWeight < q.bitsPerWeight : p.sqnrDb > q.sqnrDb;
    });
    QList<int> front;
    double best = -INFINITY;
    for (int index : order)
        if (points[static_cast<std::size_t>(index)].sqnrDb > best) {
            front.append(index);
            best = points[static_cast<std::size_t>(index)].sqnrDb;
        }
    return front;
}

void ParetoPlot::setPoints(const std::vector<Point>& uniform, const std::optional<Point>& plan,
                           std::optional<double> budget, const QString& message) {
    m_points = uniform;
    m_plan = plan;
    m_front = paretoFront(uniform);
    QVector<double> x;
    QVector<double> y;
    for (const Point& p : uniform) {
        x.append(p.bitsPerWeight);
        y.append(p.sqnrDb);
    }
    m_uniformGraph->setData(x, y);
    QVector<double> fx;
    QVector<double> fy;
    for (int index : std::as_const(m_front)) {
        fx.append(uniform[static_cast<std::size_t>(index)].bitsPerWeight);
        fy.append(uniform[static_cast<std::size_t>(index)].sqnrDb);
    }
    m_frontGraph->setData(fx, fy, true);
    m_planGraph->setData(plan ? QVector<double>{plan->bitsPerWeight} : QVector<double>{},
                         plan ? QVector<double>{plan->sqnrDb} : QVector<double>{});

    for (QCPItemText* label : std::as_const(m_labels))
        removeItem(label);
    m_labels.clear();
    std::vector<Point> labelled = uniform;
    if (plan)
        labelled.push_back(*plan);
    for (const Point& p : labelled) {
        auto* label = new QCPItemText(this);
        label->setText(p.name);
        label->position->setType(QCPItemPosition::ptAbsolute);
        label->setClipToAxisRect(false);
        label->setSelectable(false);
        m_labels.append(label);
    }

    // Axes with room for the labels: half a bit and a few dB beyond the points.
    double xLow = budget.value_or(INFINITY);
    double xHigh = budget.value_or(-INFINITY);
    double yLow = INFINITY;
    double yHigh = -INFINITY;
    for (const Point& p : labelled) {
        xLow = std::min(xLow, p.bitsPerWeight);
        xHigh = std::max(xHigh, p.bitsPerWeight);
        yLow = std::min(yLow, p.sqnrDb);
        yHigh = std::max(yHigh, p.sqnrDb);
    }
    const bool empty = labelled.empty();
    if (empty) {
        xAxis->setRange(0, 16);
        yAxis->setRange(0, 60);
    } else {
        const double xPad = std::max(0.6, 0.12 * (xHigh - xLow));
        const double yPad = std::max(2.0, 0.12 * (yHigh - yLow));
        xAxis->setRange(std::max(0.0, xLow - xPad), xHigh + xPad);
        yAxis->setRange(yLow - yPad, yHigh + yPad);
    }
    m_budgetLine->setVisible(budget.has_value() && !empty);
    if (budget) {
        m_budgetLine->point1->setCoords(*budget, 0);
        m_budgetLine->point2->setCoords(*budget, 1);
    }
    m_message->setText(message);
    m_message->setVisible(empty && !message.isEmpty());
    if (plan)
        m_planGraph->addToLegend();
    else
        m_planGraph->removeFromLegend();
    applyStyle();
    replot();
}

void ParetoPlot::fitContents() {
    // Each label beside its point where it covers no other text, no point and stays in the plot:
    // right, left, above, below, then the corners. The plan's label goes first (it matters most).
    QVector<PlotTextBoxes::Box> kept;
    for (QCPItemText* label : std::as_const(m_labels))
        label->setVisible(false);
    kept = PlotTextBoxes::collect(this);
    std::vector<QPointF> pixels;
    for (const Point& p : m_points)
        pixels.emplace_back(xAxis->coordToPixel(p.bitsPerWeight), yAxis->coordToPixel(p.sqnrDb));
    if (m_plan)
        pixels.emplace_back(xAxis->coordToPixel(m_plan->bitsPerWeight), yAxis->coordToPixel(m_plan->sqnrDb));
    const double dot = 7.0 * lineScale();
    for (const QPointF& pixel : pixels)
        kept.append({QStringLiteral("point"), QRectF(pixel.x() - dot, pixel.y() - dot, 2 * dot, 2 * dot)});
    const QRectF area = axisRect()->rect();
    struct Place {
        double dx;
        double dy;
        Qt::Alignment alignment;
    };
    const double gap = dot + 2.0;
    const Place places[] = {{gap, 0, Qt::AlignLeft | Qt::AlignVCenter},
                            {-gap, 0, Qt::AlignRight | Qt::AlignVCenter},
                            {0, -gap, Qt::AlignHCenter | Qt::AlignBottom},
                            {0, gap, Qt::AlignHCenter | Qt::AlignTop},
                            {gap * 0.7, -gap * 0.7, Qt::AlignLeft | Qt::AlignBottom},
                            {gap * 0.7, gap * 0.7, Qt::AlignLeft | Qt::AlignTop},
                            {-gap * 0.7, -gap * 0.7, Qt::AlignRight | Qt::AlignBottom},
                            {-gap * 0.7, gap * 0.7, Qt::AlignRight | Qt::AlignTop}};
    QList<int> order;
    if (m_plan)
        order.append(static_cast<int>(m_labels.size()) - 1);
    for (int i = 0; i < static_cast<int>(m_points.size()); ++i)
        order.append(i);
    for (int index : std::as_const(order)) {
        QCPItemText* label = m_labels[index];
        const QPointF pixel = pixels[static_cast<std::size_t>(index)];
        label->setVisible(true);
        bool placed = false;
        for (const Place& place : places) {
            label->position->setCoords(pixel.x() + place.dx, pixel.y() + place.dy);
            label->setPositionAlignment(place.alignment);
            const QVector<PlotTextBoxes::Box> mine = PlotTextBoxes::itemBox(label);
            if (mine.isEmpty())
                continue;
            const QRectF box = mine.front().rect;
            bool clear = area.contains(box);
            for (const auto& other : std::as_const(kept))
                clear = clear && !box.intersects(other.rect);
            if (clear) {
                kept += mine;
                placed = true;
                break;
            }
        }
        label->setVisible(placed);
    }
}

bool ParetoPlot::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip)
        return PlotBase::event(event);
    const QPointF at = static_cast<QHelpEvent*>(event)->pos();
    std::vector<Point> all = m_points;
    if (m_plan)
        all.push_back(*m_plan);
    const Point* nearest = nullptr;
    double best = 10.0 * lineScale(); // pixels
    for (const Point& p : all) {
        const double distance =
            std::hypot(xAxis->coordToPixel(p.bitsPerWeight) - at.x(), yAxis->coordToPixel(p.sqnrDb) - at.y());
        if (distance <= best) {
            best = distance;
            nearest = &p;
        }
    }
    if (nearest)
        QToolTip::showText(static_cast<QHelpEvent*>(event)->globalPos(),
                           tr("%1: %2 bits per weight, weighted SQNR %3 dB")
                               .arg(nearest->name)
                               .arg(nearest->bitsPerWeight, 0, 'f', 3)
                               .arg(nearest->sqnrDb, 0, 'f', 2),
                           this);
    else
        QToolTip::hideText();
    return true;
}

QStringList ParetoPlot::visibleLabels() const {
    QStringList texts;
    for (QCPItemText* label : m_labels)
        if (label->visible())
            texts.append(label->text());
    return texts;
}

QVector<QRectF> ParetoPlot::visibleLabelRects() const {
    QVector<QRectF> rects;
    for (QCPItemText* label : m_labels)
        for (const auto& box : PlotTextBoxes::itemBox(label))
            rects.append(box.rect);
    return rects;
}

QString ParetoPlot::dataAsText() const {
    QString text = QStringLiteral("format\tbits_per_weight\tweighted_sqnr_db\tpareto_front\n");
    for (int i = 0; i < static_cast<int>(m_points.size()); ++i) {
        const Point& p = m_points[static_cast<std::size_t>(i)];
        text += QStringLiteral("%1\t%2\t%3\t%4\n")
                    .arg(p.name)
                    .arg(p.bitsPerWeight, 0, 'g', 8)
                    .arg(p.sqnrDb, 0, 'g', 8)
                    .arg(m_front.contains(i) ? QStringLiteral("yes") : QStringLiteral("no"));
    }
    if (m_plan)
        text += QStringLiteral("%1\t%2\t%3\t-\n")
                    .arg(m_plan->name)
                    .arg(m_plan->bitsPerWeight, 0, 'g', 8)
                    .arg(m_plan->sqnrDb, 0, 'g', 8);
    return text;
}

} // namespace quantscope::ui
