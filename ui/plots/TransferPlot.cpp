#include "plots/TransferPlot.h"

#include "quantscope/analysis/TensorResult.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ui {

TransferPlot::TransferPlot(QWidget* parent)
    : PlotBase(parent), m_identity(addGraph()), m_staircase(addGraph()) {
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, m_title = new QCPTextElement(this, tr("Transfer: x → dequantized(x)")));
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
    m_title->setTextColor(textColour());
    m_title->setFont(textFont(1.15, true));
}

void TransferPlot::gridStaircase(const TensorResult& result, QVector<double>& xs, QVector<double>& ys) {
    // With one integer grid, the true staircase: every level's step from the grid itself, over the
    // whole data range (a sample of the data shows tails with steps many levels wide).
    const QParams& params = result.analysis.params;
    const QuantSpec& spec = result.analysis.spec;
    if (params.blockCount() != 1 || !spec.format.isInteger() || xs.isEmpty())
        return;
    const double scale = params.scale.front();
    const int zero = params.zeroPoint.front();
    const int qmin = spec.qmin();
    const int qmax = spec.qmax();
    if (!(scale > 0.0) || qmax - qmin > 70000)
        return;
    const double lo = std::min(xs.front(), (qmin - zero) * scale);
    const double hi = std::max(xs.back(), (qmax - zero) * scale);
    const auto level = [&](double x) {
        return std::clamp(static_cast<int>(std::nearbyint(x / scale)) + zero, qmin, qmax);
    };
    xs = {lo};
    ys = {(level(lo) - zero) * scale};
    // The step from q to q + 1 is halfway between their values.
    for (int q = level(lo); q < level(hi); ++q) {
        xs.append((q - zero + 0.5) * scale);
        ys.append((q + 1 - zero) * scale);
    }
    xs.append(hi);
    ys.append((level(hi) - zero) * scale);
}

void TransferPlot::setResult(std::shared_ptr<const TensorResult> result) {
    m_result = std::move(result);
    m_identity->data()->clear();
    m_staircase->data()->clear();
    if (m_result && !m_result->transferX.empty()) {
        QVector<double> xs(m_result->transferX.begin(), m_result->transferX.end());
        QVector<double> ys(m_result->transferY.begin(), m_result->transferY.end());
        gridStaircase(*m_result, xs, ys);
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
