#include "plots/BlockStatsPlot.h"

#include "quantscope/analysis/TensorResult.h"
#include "widgets/MetricText.h"

#include <cmath>

namespace quantscope::ui {

BlockStatsPlot::BlockStatsPlot(QWidget* parent) : PlotBase(parent), m_sqnrRect(new QCPAxisRect(this)) {
    plotLayout()->addElement(1, 0, m_sqnrRect);
    auto* group = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    m_sqnrRect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    m_min = new QCPBars(xAxis, yAxis);
    m_max = new QCPBars(xAxis, yAxis);
    m_sqnr = new QCPBars(m_sqnrRect->axis(QCPAxis::atBottom), m_sqnrRect->axis(QCPAxis::atLeft));
    m_min->setName(tr("min"));
    m_max->setName(tr("max"));
    yAxis->setLabel(tr("range"));
    m_sqnrRect->axis(QCPAxis::atLeft)->setLabel(tr("SQNR (dB)"));
    m_sqnrRect->axis(QCPAxis::atBottom)->setLabel(tr("block (channel / group)"));
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0,
                             m_title = new QCPTextElement(this, tr("Per channel / group: range and SQNR")));
    m_message = new QCPItemText(this);
    m_message->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_message->position->setCoords(0.5, 0.5);
    applyStyle();
}

void BlockStatsPlot::applyStyle() {
    PlotBase::applyStyle();
    if (!m_sqnr)
        return;
    for (QCPAxis* axis : m_sqnrRect->axes())
        styleAxis(axis);
    m_sqnrRect->setBackground(palette().color(QPalette::Base));
    m_min->setPen(Qt::NoPen);
    m_min->setBrush(accentColour(4));
    m_max->setPen(Qt::NoPen);
    m_max->setBrush(accentColour(0));
    m_sqnr->setPen(Qt::NoPen);
    m_sqnr->setBrush(accentColour(2));
    m_message->setColor(textColour());
    m_message->setFont(textFont());
    m_title->setTextColor(textColour());
    m_title->setFont(textFont(1.15, true));
}

int BlockStatsPlot::blockCount() const {
    return m_result ? static_cast<int>(m_result->analysis.params.blockCount()) : 0;
}

void BlockStatsPlot::setResult(std::shared_ptr<const TensorResult> result) {
    m_result = std::move(result);
    m_min->data()->clear();
    m_max->data()->clear();
    m_sqnr->data()->clear();
    const int blocks = blockCount();
    if (!m_result) {
        m_message->setText(tr("Waiting for the exact result…"));
    } else if (blocks <= 1) {
        m_message->setText(tr("Per-tensor: one range for the whole tensor.\nChoose per channel or per group "
                              "to compare blocks."));
    } else {
        m_message->setText({});
        const auto& params = m_result->analysis.params;
        QVector<double> keys;
        QVector<double> mins;
        QVector<double> maxs;
        QVector<double> sqnrs;
        double lo = 0;
        double hi = 0;
        double sqnrTop = 1;
        int undefined = 0;
        for (int b = 0; b < blocks; ++b) {
            keys.append(b);
            mins.append(params.min[static_cast<std::size_t>(b)]);
            maxs.append(params.max[static_cast<std::size_t>(b)]);
            lo = std::min(lo, mins.back());
            hi = std::max(hi, maxs.back());
            double db = 0.0;
            if (static_cast<std::size_t>(b) < m_result->analysis.blockMetrics.size()) {
                db = m_result->analysis.blockMetrics[static_cast<std::size_t>(b)].sqnrDb;
                if (!std::isfinite(db)) {
                    ++undefined;
                    db = 0.0;
                }
            }
            sqnrs.append(db);
            sqnrTop = std::max(sqnrTop, db);
        }
        const double barWidth = blocks > 400 ? 1.0 : 0.8;
        for (QCPBars* bars : {m_min, m_max, m_sqnr})
            bars->setWidth(barWidth);
        m_min->setData(keys, mins, true);
        m_max->setData(keys, maxs, true);
        m_sqnr->setData(keys, sqnrs, true);
        xAxis->setRange(-0.5, blocks - 0.5);
        const double pad = (hi - lo) * 0.05 + 1e-12;
        yAxis->setRange(lo - pad, hi + pad);
        m_sqnrRect->axis(QCPAxis::atBottom)->setRange(-0.5, blocks - 0.5);
        m_sqnrRect->axis(QCPAxis::atLeft)->setRange(0, sqnrTop * 1.1);
        if (undefined > 0)
            m_message->setText(tr("%1 block(s) without an SQNR (exact or zero signal)").arg(undefined));
        m_message->position->setCoords(0.5, undefined > 0 ? 0.08 : 0.5);
    }
    replot();
}

QString BlockStatsPlot::dataAsText() const {
    QString text = QStringLiteral("block\tmin\tmax\tscale\tzero_point\tsqnr_db\n");
    if (!m_result)
        return text;
    const auto& params = m_result->analysis.params;
    for (std::size_t b = 0; b < params.blockCount(); ++b) {
        QString sqnr;
        if (b < m_result->analysis.blockMetrics.size())
            sqnr = MetricText::sqnr(m_result->analysis.blockMetrics[b]).remove(QStringLiteral(" dB"));
        text += QStringLiteral("%1\t%2\t%3\t%4\t%5\t%6\n")
                    .arg(b)
                    .arg(params.min[b], 0, 'g', 9)
                    .arg(params.max[b], 0, 'g', 9)
                    .arg(params.scale[b], 0, 'g', 9)
                    .arg(params.zeroPoint[b])
                    .arg(sqnr);
    }
    return text;
}

} // namespace quantscope::ui
