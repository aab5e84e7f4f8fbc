#pragma once

#include <QColor>
#include <QList>
#include <QRect>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <utility>

namespace quantscope::ui {

class ModelMapGrid;

// The colour scale of a model map: the worst value, the gradient, the best value, and a swatch for
// every other colour the map draws (tensors still being analysed, all-zero tensors, tensors a
// plan leaves in float).
class ModelMapLegend : public QWidget {
    Q_OBJECT
public:
    explicit ModelMapLegend(ModelMapGrid* grid, QWidget* parent = nullptr);

    // "12.3 dB" / "0.52 %": the ends of the scale as written, empty until one tensor is known.
    QString worstText() const;
    QString bestText() const;

    struct Swatch {
        QColor colour;
        QString label;
    };
    // The colours beside the scale that the map draws now, in the order shown.
    QList<Swatch> swatches() const;
    // The labels of the swatches the last paint had room for, and where each was drawn.
    QStringList paintedSwatches() const;
    QRect paintedSwatchRect(const QString& label) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString valueText(double value) const;

    ModelMapGrid* m_grid;
    QList<std::pair<QString, QRect>> m_painted;
};

} // namespace quantscope::ui
