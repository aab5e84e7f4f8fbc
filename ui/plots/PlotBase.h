#pragma once

#include "plots/QCustomPlotInclude.h"

#include <QHash>

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

    // Presentation mode for teaching: the window scales the application font by `scale` (see
    // scaleForScreen); every plot's text follows that font and its pens scale with it.
    static void setPresentationMode(bool on, double scale = 1.5);
    static bool presentationMode();
    static double presentationScale();
    static double lineScale();
    // How much larger type and lines are on a screen of this size: 1.25 at 1280×720, growing with
    // the screen (1.9 at 1920×1080, 3.75 at 3840×2160), never below 1.
    static double scaleForScreen(QSize screen);
    // The application font times `factor`: every text of a plot derives from it, so one change
    // of the application font (presentation mode) scales all of them together.
    static QFont textFont(double factor = 1.0, bool bold = false);

    // Restyles axes and background from the palette; subclasses call it then redraw their items.
    virtual void applyStyle();

    QColor textColour() const;
    QColor accentColour(int index) const; // a fixed qualitative palette that reads on dark and light

protected:
    // Every layout pass also fits the text to the plot's size: fewer ticks when labels would
    // touch, turned text ticks, titles wrapped to the width, a legend below the plot in as many
    // columns as fit, and optional labels (marked with markOptional) dropped where they would
    // overprint others.
    void updateLayout() override;
    // Subclasses place size-dependent text here (called during layout, before the overlap checks).
    virtual void fitContents() {}
    // Moves the legend out of the axis rect into a row under the plot: it never covers the data.
    void placeLegendBelow();
    // Greedy word wrap of `text` to `width` pixels (a word longer than the width stays whole).
    static QString wrapText(const QString& text, const QFont& font, double width);
    // A label that may be left out where it would overprint another text.
    static void markOptional(QCPItemText* text);
    void contextMenuEvent(QContextMenuEvent* event) override;
    // Actions a plot adds to its context menu for the point under the mouse (pixels).
    virtual void addContextActions(QMenu& menu, QPointF pixel);
    void changeEvent(QEvent* event) override;
    void styleAxis(QCPAxis* axis);

private:
    void thinTicks(QCPAxis* axis);
    void wrapTitles();
    void fitLegendColumns();
    void dropOverprintingLabels();

    struct AskedTicks {
        QWeakPointer<QCPAxisTicker> ticker;
        int count = 5;
    };
    QHash<const QCPAxis*, AskedTicks> m_askedTicks;
    bool m_legendBelow = false;
};

} // namespace quantscope::ui
