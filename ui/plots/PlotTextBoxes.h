#pragma once

#include "plots/QCustomPlotInclude.h"

#include <QRectF>
#include <QString>
#include <QVector>

namespace quantscope::ui {

// Where a plot's text lands, in widget pixels: tick labels, axis titles, plot titles, legends and
// text items. QCustomPlot places these itself; this recomputes their boxes from the layout it last
// made, so a plot can thin its ticks until nothing overprints and tests can check that it did.
class PlotTextBoxes {
public:
    struct Box {
        QString what; // "x tick 0.5", "title …", "legend", "text …": names the box in a failure
        QRectF rect;
    };

    // Every visible text box of `plot`, from its last layout (call after a replot).
    static QVector<Box> collect(QCustomPlot* plot);
    // The tick labels of one axis, in tick order.
    static QVector<Box> tickLabels(QCPAxis* axis);
    // The box of one text item (none when hidden, empty or clipped away).
    static QVector<Box> itemBox(QCPItemText* text);
    // Pairs of boxes that overlap by more than `tolerance` pixels each way, as readable lines.
    static QStringList overlaps(const QVector<Box>& boxes, double tolerance = 1.0);
    // Data points and bars inside a legend drawn over the axis rect, as readable lines.
    static QStringList legendOverData(QCustomPlot* plot);
    // Titles wider than the plot (drawn past its edges).
    static QStringList titlesTooWide(QCustomPlot* plot);
    // All of the above for one plot, each line prefixed with `name`.
    static QStringList problems(QCustomPlot* plot, const QString& name);
};

} // namespace quantscope::ui
