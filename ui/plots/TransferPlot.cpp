#include "plots/TransferPlot.h"

#include "quantscope/analysis/TensorResult.h"

namespace quantscope::ui {

TransferPlot::TransferPlot(QWidget* parent)
    : PlotBase(parent), m_identity(addGraph()), m_staircase(addGraph()) {
    xAxis->setLabel(tr("x"));
    yAxis->setLabel(tr("dequantized(x)"));
    m_staircase->setLineStyle(QCPGraph::lsStepLeft);
    m_identity->setName(tr("identity"));
    m_staircase->setName(tr("quantized"));
    legend->setVisible(true);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    applyStyle();
}

void TransferPlot::applyStyle() {
    PlotBase::applyStyle();
    if (!m_staircase)
        return;
    QColor identity = textColour();
    identity.setAlpha(120);
    m_identity->setPen(QPen(identity, 1.0 * lineScale(), Qt::DashLine));
    m_staircase->setPen(QPen(accentColour(2), 1.8 * lineScale()));
}

void TransferPlot::setResult(std::shared_ptr<const TensorResult> result) {
    m_result = std::move(result);
    m_identity->data()->clear();
    m_staircase->data()->clear();
    if (m_result && !m_result->transferX.empty()) {
        const QVector<double> xs(m_result->transferX.begin(), m_result->transferX.end());
        const QVector<double> ys(m_result->transferY.begin(), m_result->transferY.end());
        m_staircase->setData(xs, ys, true);
        const double lo = std::min(xs.front(), *std::min_element(ys.begin(), ys.end()));
        const double hi = std::max(xs.back(), *std::max_element(ys.begin(), ys.end()));
        m_identity->setData({lo, hi}, {lo, hi}, true);
        const double pad = (hi - lo) * 0.03 + 1e-12;
        xAxis->setRange(lo - pad, hi + pad);
        yAxis->setRange(lo - pad, hi + pad);
    }
    replot();
}

QString TransferPlot::dataAsText() const {
    QString text = QStringLiteral("x\tx_hat\n");
    if (m_result)
        for (std::size_t i = 0; i < m_result->transferX.size(); ++i)
            text += QString::number(m_result->transferX[i], 'g', 9) + QLatin1Char('\t') +
                    QString::number(m_result->transferY[i], 'g', 9) + QLatin1Char('\n');
    return text;
}

} // namespace quantscope::ui
