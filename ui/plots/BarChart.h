#pragma once

#include "plots/PlotBase.h"

namespace quantscope::ui {

// Labelled bars, one set or two side by side: accuracy per mode, SQNR per layer...
class BarChart : public PlotBase {
    Q_OBJECT
public:
    explicit BarChart(QWidget* parent = nullptr);

    // `second` may be empty; its bars sit beside the first ones.
    void setData(const QString& title, const QStringList& labels, const QString& firstName,
                 const QVector<double>& first, const QString& secondName = {},
                 const QVector<double>& second = {}, const QString& valueLabel = {});
    QString dataAsText() const override;
    void applyStyle() override;

private:
    QCPBars* m_first;
    QCPBars* m_second;
    QCPTextElement* m_title;
    QStringList m_labels;
};

} // namespace quantscope::ui
