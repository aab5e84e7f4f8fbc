#pragma once

#include "plots/QCustomPlotInclude.h"

class QMenu;

namespace quantscope::ui {

// Common ground of every plot: colours from the application palette (so a dark desktop gets a
// dark plot), the presentation mode's larger fonts and lines, saving as PNG / SVG / PDF, and
// copying the plotted data as tab-separated text (also from the context menu).
class PlotBase : public QCustomPlot {
    Q_OBJECT
public:
    explicit PlotBase(QWidget* parent = nullptr);

    // The plotted data as text with a header line, for the clipboard.
    virtual QString dataAsText() const = 0;
    // Writes the plot; the format follows the extension (.png, .svg, .pdf). Returns an error
    // message, empty on success.
    QString saveTo(const QString& path, int width = 0, int height = 0);
    void copyDataToClipboard() const;

    // Presentation mode for teaching: every plot scales its fonts and pens.
    static void setPresentationMode(bool on);
    static bool presentationMode();
    static double lineScale() { return presentationMode() ? 2.0 : 1.0; }

    // Restyles axes and background from the palette; subclasses call it then redraw their items.
    virtual void applyStyle();

    QColor textColour() const;
    QColor accentColour(int index) const; // a fixed qualitative palette that reads on dark and light

protected:
    void contextMenuEvent(QContextMenuEvent* event) override;
    // Actions a plot adds to its context menu for the point under the mouse (pixels).
    virtual void addContextActions(QMenu& menu, QPointF pixel);
    void changeEvent(QEvent* event) override;
    void styleAxis(QCPAxis* axis);
};

} // namespace quantscope::ui
