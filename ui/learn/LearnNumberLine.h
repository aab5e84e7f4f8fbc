#pragma once

#include "learn/LearnMappingSteps.h"
#include "plots/PlotBase.h"

#include <memory>
#include <optional>

namespace quantscope::ui {

class FineHistogram;

// The number line of the mapping lesson: the tensor's histogram on top, and one lane per scheme
// (symmetric above, affine below) with its integer grid, the representable range, zero's level
// Z, the levels no value can use, and the picked value x with where it lands (x̂). The whole
// range, or zoomed in around x so single levels and their integers can be read. A click picks
// the value under the mouse.
class LearnNumberLine : public PlotBase {
    Q_OBJECT
public:
    explicit LearnNumberLine(bool zoomed, QWidget* parent = nullptr);

    void setSteps(const LearnMappingSteps& symmetric, const LearnMappingSteps& affine,
                  std::shared_ptr<const FineHistogram> histogram);
    void clearSteps();
    QString dataAsText() const override;
    void applyStyle() override;

    // Levels drawn as ticks at most; a denser grid is drawn as a band.
    static constexpr int kMaxTicks = 700;

signals:
    void valuePicked(double x);

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void redraw();
    void drawLane(const LearnMappingSteps& steps, double y, const QColor& colour, const QString& name);
    void drawHistogram(double from, double to);
    QCPItemText* label(double x, double y, const QString& text, const QColor& colour, Qt::Alignment alignment,
                       double sizeFactor = 1.0);

    bool m_zoomed;
    std::optional<LearnMappingSteps> m_symmetric;
    std::optional<LearnMappingSteps> m_affine;
    std::shared_ptr<const FineHistogram> m_histogram;
};

} // namespace quantscope::ui
