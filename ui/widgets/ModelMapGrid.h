#pragma once

#include <QAbstractScrollArea>
#include <QColor>
#include <QList>
#include <QRect>
#include <QString>
#include <QStringList>

#include "session/CandidateAnalysis.h"

#include "quantscope/metrics/ErrorMetrics.h"

#include <optional>
#include <utility>
#include <vector>

namespace quantscope::ui {

class Session;

// The whole model as a grid: a row per block (layer), a column per tensor role present (q, k, v, o,
// gate, up, down, norms…), and below them the tensors outside the blocks (embeddings, final norm,
// head, and every name no scheme explains) in rows of their own. Each cell is coloured by the
// tensor's SQNR or clipped fraction on a scale from the model's worst tensor to its best, fills in
// as the session's background analysis delivers, tells the tensor's details on hover, and a click
// makes the tensor the session's current one. Instead of the tensors' own settings the cells can
// show one candidate format of a CandidateAnalysis, or the format its plan chose for each tensor
// (named in the cell); 1-D tensors, which a plan leaves in float, then read "float". The column header and
// the layer labels stay in place while the cells scroll.
class ModelMapGrid : public QAbstractScrollArea {
    Q_OBJECT
public:
    enum class Metric { Sqnr, Clipped };
    // Whose results the cells show: the session's (each tensor's own settings), one candidate
    // format's, or the plan's choice per tensor.
    enum class Source { Settings, Candidate, Plan };

    explicit ModelMapGrid(Session* session, QWidget* parent = nullptr);

    void setMetric(Metric metric);
    Metric metric() const { return m_metric; }
    void setCandidateAnalysis(const CandidateAnalysis* candidates);
    void setSource(Source source, int candidate = -1);
    Source source() const { return m_source; }
    int sourceCandidate() const { return m_candidate; }
    // The metrics a cell shows, from its source; none while unknown (or for a float tensor).
    std::optional<ErrorMetrics> cellMetrics(int tensorRow) const;
    // The text drawn in a cell at its current width (empty when nothing fits).
    QString shownText(int tensorRow) const;

    // The layout, for the view and for tests.
    int layerRowCount() const { return static_cast<int>(m_layers.size()); }
    int layerAt(int layerRow) const { return m_layers[static_cast<std::size_t>(layerRow)]; }
    QStringList columns() const { return m_columns; }
    // The session row in a cell, -1 when that block has no tensor of that role.
    int tensorAt(int layerRow, int column) const;
    // Tensors outside the blocks, in file order.
    const QList<int>& otherTensors() const { return m_others; }
    // Where a tensor is drawn, in viewport coordinates (scrolled as shown); empty when not mapped.
    QRect cellRect(int tensorRow) const;
    int tensorAtPoint(const QPoint& viewportPoint) const;
    // Scrolls so that a tensor's cell is visible.
    void ensureVisible(int tensorRow);
    // Tensors with their metric known for their current settings, and all mapped tensors.
    int knownCount() const;
    int mappedCount() const { return static_cast<int>(m_position.size()); }

    // The colour scale: the range of the metric over the model (worst first, in dB or percent),
    // nullopt until one tensor is known; and the colour at a point of it (0 worst, 1 best).
    std::optional<std::pair<double, double>> scaleRange() const;
    static QColor scaleColour(double fraction);
    static QColor pendingColour();
    static QColor zeroSignalColour(); // SQNR of an all-zero tensor is not a number
    QColor floatColour() const;       // a tensor the candidates' source leaves in float (the palette's base)
    // Whether some cell shows a tensor left in float (the candidates' or the plan's source).
    bool showsFloatCells() const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    // The scale or the known count changed (the legend follows).
    void scaleChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    bool viewportEvent(QEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    struct Place {
        int gridRow = -1; // a layer row, then the "other" rows
        int column = -1;
    };
    void rebuild();
    void updateGeometry();
    void metricsChanged();
    // The value drawn for a tensor and where it sits on the scale (0 worst, 1 best).
    std::optional<double> value(int tensorRow) const;
    std::optional<double> fraction(int tensorRow) const;
    QColor cellColour(int tensorRow) const;
    bool isFloatCell(int tensorRow) const; // a plan leaves this tensor in float
    const CandidateAnalysis::Outcome* sourceOutcome(int tensorRow) const;
    QString cellText(int tensorRow, int width) const;
    QString toolTip(int tensorRow) const;
    int gridRowCount() const;
    int otherColumnCount() const;
    int otherSpan() const; // columns a tensor outside the blocks takes
    int othersPerLine() const;
    QRect gridRect(int gridRow, int column) const; // viewport coordinates

    Session* m_session;
    const CandidateAnalysis* m_candidates = nullptr;
    Source m_source = Source::Settings;
    int m_candidate = -1;
    Metric m_metric = Metric::Sqnr;
    QStringList m_columns;
    std::vector<int> m_layers;
    std::vector<std::vector<int>> m_cells; // [layer row][column] → session row or -1
    QList<int> m_others;
    std::vector<Place> m_position; // by session row; gridRow -1 for rows not mapped
    mutable std::optional<std::optional<std::pair<double, double>>> m_range; // cached scale
    int m_gutter = 0;
    int m_header = 0;
    int m_rowHeight = 20;
    int m_columnWidth = 60;
    bool m_openingSelection = false;
};

} // namespace quantscope::ui
