#pragma once

#include <QWidget>

namespace quantscope::ui {

class ModelMapGrid;

// The colour scale of a model map: the worst value, the gradient, the best value, and the colours
// of tensors still being analysed and of all-zero tensors.
class ModelMapLegend : public QWidget {
    Q_OBJECT
public:
    explicit ModelMapLegend(ModelMapGrid* grid, QWidget* parent = nullptr);

    // "12.3 dB" / "0.52 %": the ends of the scale as written, empty until one tensor is known.
    QString worstText() const;
    QString bestText() const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString valueText(double value) const;

    ModelMapGrid* m_grid;
};

} // namespace quantscope::ui
