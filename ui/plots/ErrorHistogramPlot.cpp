#include "plots/ErrorHistogramPlot.h"

#include "quantscope/analysis/TensorResult.h"

#include <algorithm>

namespace quantscope::ui {

ErrorHistogramPlot::ErrorHistogramPlot(QWidget* parent)
    : PlotBase(parent), m_graph(addGraph()), m_message(new QCPItemText(this)) {
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0,
                             m_title = new QCPTextElement(this, tr("Error histogram: x − dequantized(x)")));
    xAxis->setLabel(tr("error  x − dequantized(x)"));
    yAxis->setLabel(tr("count"));
    m_graph->setLineStyle(QCPGraph::lsStepCenter);
    m_message->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_message->position->setCoords(0.5, 0.5);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    applyStyle();
}

void ErrorHistogramPlot::applyStyle() {
    PlotBase::applyStyle();
    if (!m_graph)
        return;
    QColor colour = accentColour(5);
    m_graph->setPen(QPen(colour, 1.2 * lineScale()));
    colour.setAlpha(110);
    m_graph->setBrush(colour);
    m_message->setColor(textColour());
    m_message->setFont(textFont());
    m_title->setTextColor(textColour());
    m_title->setFont(textFont(1.15, true));
}

void ErrorHistogramPlot::setResult(std::shared_ptr<const TensorResult> result, const QString& message) {
    m_result = std::move(result);
    m_graph->data()->clear();
    m_message->setText(message);
    m_message->setVisible(!message.isEmpty() || !m_result);
    if (m_result && !m_result->errorCounts.empty()) {
        const auto bins = static_cast<int>(m_result->errorCounts.size());
        const double width = (m_result->errorMax - m_result->errorMin) / bins;
        QVector<double> keys;
        QVector<double> values;
        double top = 1.0;
        for (int b = 0; b < bins; ++b) {
            keys.append(m_result->errorMin + (b + 0.5) * width);
            values.append(m_result->errorCounts[static_cast<std::size_t>(b)]);
            top = std::max(top, values.back());
        }
        m_graph->setData(keys, values, true);
        xAxis->setRange(m_result->errorMin, m_result->errorMax);
        yAxis->setRange(0, top * 1.1);
    }
    replot();
}

QString ErrorHistogramPlot::dataAsText() const {
    QString text = QStringLiteral("error_bin_center\tcount\n");
    for (auto it = m_graph->data()->constBegin(); it != m_graph->data()->constEnd(); ++it)
        text += QString::number(it->key, 'g', 8) + QLatin1Char('\t') + QString::number(it->value, 'f', 0) +
                QLatin1Char('\n');
    return text;
}

} // namespace quantscope::ui
