#pragma once

#include "plots/PlotBase.h"

#include "quantscope/quant/QParams.h"

#include <optional>
#include <vector>

namespace quantscope::ui {

class AnalysisController;
class Session;

// Histogram of the selected tensor's values with the clipping range as two draggable lines,
// the clipped tails shaded and counted, the quantization grid when its levels are few enough to
// see, and labelled markers where the other calibration methods would clip. Dragging a line is
// manual calibration: the preview follows live and the drop is one undoable change.
class DistributionPlot : public PlotBase {
    Q_OBJECT
public:
    static constexpr int kDisplayBins = 240;
    static constexpr int kMaxGridLevels = 64;

    DistributionPlot(Session* session, AnalysisController* controller, QWidget* parent = nullptr);

    void setLogScale(bool on);
    bool logScale() const { return m_log; }
    QString dataAsText() const override;
    void applyStyle() override;

    // What is drawn now (for tests and the copied text).
    int gridLevelCount() const { return static_cast<int>(m_gridLines.size()); }
    int markerCount() const { return static_cast<int>(m_markerItems.size()); }
    std::optional<Range> clipLines() const;
    QString clippedText() const;

    // Moves a clipping line as a drag would (pixel-free, for keyboard use and tests).
    void dragClipTo(bool upper, double x, bool finished);

signals:
    // "Walk this value through quantization" was chosen on the value x.
    void valueWalkRequested(double x);

protected:
    void addContextActions(QMenu& menu, QPointF pixel) override;
    void fitContents() override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void rebuild();        // new tensor or histogram: bins and axis ranges
    void updateOverlays(); // clip lines, tails, grid, markers, text
    void updateMarkers();
    bool draggable() const;
    void setClipText(const QString& text);
    void placeHeader(const QRect& area); // title and clip text, never overprinting

    Session* m_session;
    AnalysisController* m_controller;
    QCPGraph* m_histogram;
    QCPItemStraightLine* m_lowLine;
    QCPItemStraightLine* m_highLine;
    QCPItemRect* m_lowTail;
    QCPItemRect* m_highTail;
    QCPItemText* m_clipText;
    QCPItemText* m_title;
    QString m_clipFull; // the clip text before eliding to the plot's width
    std::vector<QCPItemStraightLine*> m_gridLines;
    std::vector<QCPAbstractItem*> m_markerItems;
    std::vector<double> m_binCenters;
    std::vector<double> m_binCounts;
    bool m_log = false;
    int m_dragging = 0; // 0 none, 1 low line, 2 high line
    Range m_dragRange;
};

} // namespace quantscope::ui
