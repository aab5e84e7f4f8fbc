#pragma once

#include "plots/PlotBase.h"

#include <QStringList>
#include <QVector>

namespace quantscope::ui {

// A titled plot for the lessons, rebuilt from scratch on every update: lines with markers and
// point labels, vertical markers, and stacked bars with text ticks. Copies every series as text.
class LearnPlot : public PlotBase {
    Q_OBJECT
public:
    explicit LearnPlot(QWidget* parent = nullptr);

    void reset(const QString& title, const QString& xLabel, const QString& yLabel);
    // A series on the left axis (or the right one when `rightAxis`), with optional labels at its points.
    QCPGraph* addLine(const QString& name, const QVector<double>& x, const QVector<double>& y,
                      const QColor& colour, Qt::PenStyle style = Qt::SolidLine, bool markers = true,
                      bool rightAxis = false, const QStringList& pointLabels = {});
    // Bars stacked on the previous addStackedBars call's bars; keys are 0, 1, 2... named by `ticks`.
    QCPBars* addStackedBars(const QString& name, const QStringList& ticks, const QVector<double>& values,
                            const QColor& colour);
    // A dashed vertical line at x, named in the label row `labelRow` (rows counted from the top).
    void addVerticalMarker(double x, const QString& text, const QColor& colour, int labelRow);
    void setRightAxis(const QString& label, double lower, double upper, bool logarithmic = false);
    void finish(bool reversedX = false);

    QString title() const { return m_title->text(); }
    QString dataAsText() const override;
    void applyStyle() override;

protected:
    void fitContents() override;

private:
    struct MarkerLabel {
        QCPItemText* label;
        int row;
    };

    QCPTextElement* m_title;
    QVector<MarkerLabel> m_markerLabels;
    QCPBars* m_lastBars = nullptr;
    QStringList m_ticks;
};

} // namespace quantscope::ui
