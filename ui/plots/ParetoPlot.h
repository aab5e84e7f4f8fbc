#pragma once

#include "plots/PlotBase.h"

#include <QList>
#include <QRectF>
#include <QString>
#include <QVector>

#include <optional>
#include <vector>

namespace quantscope::ui {

// Size against error for a whole model: one point per candidate format used for every tensor
// (x bits per weight with the scales, y the SQNR averaged with each tensor's size as weight),
// the Pareto front through the points no other beats on both, the mixed-precision plan as a
// point of its own and the budget as a dashed line. Each point is named by a label placed beside
// it where it overprints no text, no point and stays inside the plot; a label with no free place
// is left out (the data copy still names every point).
class ParetoPlot : public PlotBase {
    Q_OBJECT
public:
    struct Point {
        QString name;
        double bitsPerWeight = 0.0;
        double sqnrDb = 0.0;
    };

    explicit ParetoPlot(QWidget* parent = nullptr);

    // `message` replaces the plot while there are no points ("analysing 3 of 20 tensors").
    void setPoints(const std::vector<Point>& uniform, const std::optional<Point>& plan,
                   std::optional<double> budget, const QString& message = {});
    const std::vector<Point>& points() const { return m_points; }
    const std::optional<Point>& planPoint() const { return m_plan; }
    // The indices of the points on the Pareto front, by growing bits per weight.
    QList<int> front() const { return m_front; }
    // Labels as drawn: their texts and boxes (widget pixels), hidden ones left out.
    QStringList visibleLabels() const;
    QVector<QRectF> visibleLabelRects() const;

    // Points no other point beats on both axes (fewer or equal bits and more or equal SQNR,
    // better on one), by growing bits.
    static QList<int> paretoFront(const std::vector<Point>& points);

    QString dataAsText() const override;
    void applyStyle() override;

protected:
    void fitContents() override;
    bool event(QEvent* event) override; // a point's tooltip names it with its figures

private:
    QCPGraph* m_uniformGraph;
    QCPGraph* m_frontGraph;
    QCPGraph* m_planGraph;
    QCPItemStraightLine* m_budgetLine;
    QCPItemText* m_message;
    QCPTextElement* m_title;
    QList<QCPItemText*> m_labels; // one per point, then the plan's
    std::vector<Point> m_points;
    std::optional<Point> m_plan;
    QList<int> m_front;
};

} // namespace quantscope::ui
