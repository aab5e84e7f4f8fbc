#include "plots/BarChart.h"

#include <algorithm>

namespace quantscope::ui {

BarChart::BarChart(QWidget* parent)
    : PlotBase(parent), m_first(new QCPBars(xAxis, yAxis)), m_second(new QCPBars(xAxis, yAxis)),
      m_title(new QCPTextElement(this)) {
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, m_title);
    legend->setVisible(true);
    placeLegendBelow();
    xAxis->grid()->setVisible(false);
    applyStyle();
}

void BarChart::applyStyle() {
    PlotBase::applyStyle();
    if (!m_second)
        return;
    m_first->setPen(Qt::NoPen);
    m_first->setBrush(accentColour(0));
    m_second->setPen(Qt::NoPen);
    m_second->setBrush(accentColour(1));
    m_title->setTextColor(textColour());
    m_title->setFont(textFont(1.15, true));
}

void BarChart::setData(const QString& title, const QStringList& labels, const QString& firstName,
                       const QVector<double>& first, const QString& secondName, const QVector<double>& second,
                       const QString& valueLabel) {
    m_labels = labels;
    m_title->setText(title);
    const bool two = !second.isEmpty();
    const double width = two ? 0.38 : 0.6;
    QVector<double> keysA;
    QVector<double> keysB;
    for (int i = 0; i < labels.size(); ++i) {
        keysA.append(two ? i - 0.2 : i);
        keysB.append(i + 0.2);
    }
    m_first->setWidth(width);
    m_second->setWidth(width);
    m_first->setName(firstName);
    m_second->setName(secondName);
    m_first->setData(keysA, first, true);
    m_second->setData(two ? keysB : QVector<double>{}, second, true);
    m_second->setVisible(two);
    if (!two)
        m_second->removeFromLegend();
    else
        m_second->addToLegend();
    legend->setVisible(two);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int i = 0; i < labels.size(); ++i)
        ticker->addTick(i, labels[i]);
    xAxis->setTicker(ticker);
    xAxis->setRange(-0.6, labels.size() - 0.4);
    double top = 0.0;
    double bottom = 0.0;
    for (const QVector<double>* values : {&first, &second})
        for (double v : *values) {
            top = std::max(top, v);
            bottom = std::min(bottom, v);
        }
    yAxis->setRange(bottom * 1.1, top > 0 ? top * 1.15 : 1.0);
    yAxis->setLabel(valueLabel);
    replot();
}

QString BarChart::dataAsText() const {
    QString text = QStringLiteral("label\t%1\t%2\n").arg(m_first->name(), m_second->name());
    for (int i = 0; i < m_labels.size(); ++i) {
        const auto a = m_first->data()->at(i);
        text += m_labels[i] + QLatin1Char('\t') +
                (i < m_first->data()->size() ? QString::number(a->value, 'g', 8) : QString());
        if (i < m_second->data()->size())
            text += QLatin1Char('\t') + QString::number(m_second->data()->at(i)->value, 'g', 8);
        text += QLatin1Char('\n');
    }
    return text;
}

} // namespace quantscope::ui
