#include "plots/LayerSqnrChart.h"

#include "widgets/ElidedPath.h"

#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace quantscope::ui {

LayerSqnrChart::LayerSqnrChart(QWidget* parent)
    : PlotBase(parent), m_local(new QCPBars(yAxis, xAxis)), m_worstBars(new QCPBars(yAxis, xAxis)),
      m_cumulative(new QCPGraph(yAxis, xAxis)), m_highlight(new QCPItemRect(this)),
      m_title(new QCPTextElement(this)) {
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, m_title);
    // Layer 0 at the top, read downwards like the table.
    yAxis->setRangeReversed(true);
    yAxis->grid()->setVisible(false);
    yAxis->setSubTicks(false);
    xAxis->setLabel(tr("SQNR (dB)"));
    m_local->setWidth(0.7);
    m_worstBars->setWidth(0.7);
    m_local->setName(tr("local"));
    m_cumulative->setName(tr("cumulative"));
    m_cumulative->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
    m_highlight->setLayer(QStringLiteral("grid"));
    m_highlight->topLeft->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_highlight->bottomRight->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_highlight->setVisible(false);
    legend->setVisible(true);
    placeLegendBelow(); // inside, it would cover the last rows' bars
    connect(this, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
        if (!axisRect()->rect().contains(event->pos()))
            return;
        const int index = static_cast<int>(std::lround(yAxis->pixelToCoord(event->pos().y())));
        if (index >= 0 && index < layerCount()) {
            setSelectedLayer(index);
            emit layerClicked(index);
        }
    });
    applyStyle();
}

void LayerSqnrChart::applyStyle() {
    PlotBase::applyStyle();
    if (!m_title)
        return;
    m_local->setPen(Qt::NoPen);
    m_local->setBrush(accentColour(0));
    m_worstBars->setPen(Qt::NoPen);
    m_worstBars->setBrush(QColor(0xd6, 0x45, 0x45));
    m_cumulative->setPen(QPen(accentColour(1), 1.5 * lineScale()));
    QColor highlight = palette().color(QPalette::Highlight);
    highlight.setAlpha(70);
    m_highlight->setPen(Qt::NoPen);
    m_highlight->setBrush(highlight);
    m_title->setTextColor(textColour());
    m_title->setFont(textFont(1.15, true));
    layoutRows();
}

QString LayerSqnrChart::elided(const QString& name) const {
    const QFontMetrics metrics(yAxis->tickLabelFont());
    return elidePath(name, metrics, metrics.averageCharWidth() * 28);
}

double LayerSqnrChart::rowPitch() const {
    // 1.5 label heights: labels never touch, bars stay thick enough to compare.
    return 1.5 * QFontMetricsF(yAxis->tickLabelFont()).height();
}

void LayerSqnrChart::setLayers(const QString& title, const std::vector<Layer>& layers) {
    m_layers = layers;
    m_title->setText(title);
    const int count = layerCount();
    QVector<double> keys;
    QVector<double> local;
    QVector<double> cumulativeKeys;
    QVector<double> cumulative;
    m_labels.clear();
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    std::vector<int> known;
    for (int i = 0; i < count; ++i) {
        const Layer& layer = m_layers[static_cast<std::size_t>(i)];
        m_labels << elided(layer.name);
        ticker->addTick(i, m_labels.back());
        if (layer.local) {
            keys << i;
            local << *layer.local;
            known.push_back(i);
        }
        if (layer.cumulative) {
            cumulativeKeys << i;
            cumulative << *layer.cumulative;
        }
    }
    yAxis->setTicker(ticker);
    // The worst layers by local SQNR.
    std::sort(known.begin(), known.end(), [this](int a, int b) {
        return *m_layers[static_cast<std::size_t>(a)].local < *m_layers[static_cast<std::size_t>(b)].local;
    });
    const int worstCount = std::clamp(count / 10, 1, 5);
    m_worst.clear();
    QVector<double> worstKeys;
    QVector<double> worstValues;
    for (int k = 0; k < worstCount && k < static_cast<int>(known.size()); ++k) {
        const int i = known[static_cast<std::size_t>(k)];
        m_worst << i;
        worstKeys << i;
        worstValues << *m_layers[static_cast<std::size_t>(i)].local;
    }
    std::sort(m_worst.begin(), m_worst.end());
    m_local->setData(keys, local);
    m_worstBars->setData(worstKeys, worstValues);
    m_worstBars->setName(tr("worst %n", nullptr, static_cast<int>(m_worst.size())));
    m_cumulative->setData(cumulativeKeys, cumulative);
    double low = 0.0;
    double high = 1.0;
    for (const QVector<double>* values : {&local, &cumulative})
        for (double v : *values) {
            low = std::min(low, v);
            high = std::max(high, v);
        }
    xAxis->setRange(low < 0 ? low * 1.1 : 0.0, high * 1.08);
    if (m_selected >= count)
        m_selected = -1;
    m_first = std::clamp(m_first, 0, std::max(0, count - 1));
    layoutRows();
}

void LayerSqnrChart::layoutRows() {
    if (!m_title)
        return;
    // The axis rectangle's height is known once the layout ran: lay out, then fit the rows.
    replot(QCustomPlot::rpImmediateRefresh);
    const int count = layerCount();
    m_visible = std::max(1, static_cast<int>(std::floor(axisRect()->height() / rowPitch())));
    m_first = std::clamp(m_first, 0, std::max(0, count - m_visible));
    yAxis->setRange(m_first - 0.5, m_first + m_visible - 0.5);
    if (m_selected >= 0) {
        m_highlight->topLeft->setCoords(0.0, m_selected - 0.5);
        m_highlight->bottomRight->setCoords(1.0, m_selected + 0.5);
    }
    m_highlight->setVisible(m_selected >= 0);
    replot();
    emit viewChanged();
}

void LayerSqnrChart::setFirstVisible(int first) {
    first = std::clamp(first, 0, std::max(0, layerCount() - m_visible));
    if (first == m_first)
        return;
    m_first = first;
    layoutRows();
}

void LayerSqnrChart::setSelectedLayer(int index) {
    m_selected = index >= 0 && index < layerCount() ? index : -1;
    if (m_selected >= 0 && (m_selected < m_first || m_selected >= m_first + m_visible))
        m_first = m_selected - m_visible / 2;
    layoutRows();
}

QStringList LayerSqnrChart::visibleLabels() const {
    QStringList labels;
    for (int i = m_first; i < std::min(layerCount(), m_first + m_visible); ++i)
        labels << m_labels[i];
    return labels;
}

QVector<QRectF> LayerSqnrChart::visibleLabelRects() const {
    // Tick labels are right-aligned at the axis, centred on their row.
    const QFontMetricsF metrics(yAxis->tickLabelFont());
    const double right = axisRect()->left() - yAxis->tickLengthOut() - yAxis->tickLabelPadding();
    QVector<QRectF> rects;
    for (int i = m_first; i < std::min(layerCount(), m_first + m_visible); ++i) {
        const double y = yAxis->coordToPixel(i);
        const double width = metrics.horizontalAdvance(m_labels[i]);
        rects << QRectF(right - width, y - metrics.height() / 2.0, width, metrics.height());
    }
    return rects;
}

void LayerSqnrChart::resizeEvent(QResizeEvent* event) {
    PlotBase::resizeEvent(event);
    layoutRows();
}

void LayerSqnrChart::wheelEvent(QWheelEvent* event) {
    const int notches = event->angleDelta().y() / 120;
    if (notches != 0)
        setFirstVisible(m_first - 3 * notches);
    event->accept();
}

QString LayerSqnrChart::dataAsText() const {
    QString text = QStringLiteral("layer\tlocal_sqnr_db\tcumulative_sqnr_db\n");
    const auto number = [](const std::optional<double>& v) {
        return v ? QString::number(*v, 'g', 8) : QString();
    };
    for (const Layer& layer : m_layers)
        text += layer.name + QLatin1Char('\t') + number(layer.local) + QLatin1Char('\t') +
                number(layer.cumulative) + QLatin1Char('\n');
    return text;
}

} // namespace quantscope::ui
