#pragma once

#include "plots/PlotBase.h"

#include <QList>
#include <QRectF>
#include <QVector>

#include <optional>
#include <vector>

namespace quantscope::ui {

// Per-layer SQNR as horizontal bars, one row per layer from the top, readable from 5 to 500
// layers: rows keep a pitch of 1.5 label heights and the chart shows as many as fit, scrolling
// (wheel, or the scroll bar a view puts beside it) through the rest. Local SQNR is a bar,
// cumulative SQNR a line with dots; the worst layers' bars are red. Long layer names are elided in
// the middle. A click selects a layer; the selected one is highlighted and kept in view.
class LayerSqnrChart : public PlotBase {
    Q_OBJECT
public:
    struct Layer {
        QString name;
        std::optional<double> local; // dB; none when not a number ("exact", "zero signal")
        std::optional<double> cumulative;
    };

    explicit LayerSqnrChart(QWidget* parent = nullptr);

    void setLayers(const QString& title, const std::vector<Layer>& layers);
    int layerCount() const { return static_cast<int>(m_layers.size()); }
    // The rows on screen: [firstVisible, firstVisible + visibleCount).
    int firstVisible() const { return m_first; }
    int visibleCount() const { return m_visible; }
    void setFirstVisible(int first);
    void setSelectedLayer(int index); // -1 for none; scrolls it into view
    int selectedLayer() const { return m_selected; }
    // The layers with the lowest local SQNR (up to a tenth of them, at least one, at most five).
    QList<int> worstLayers() const { return m_worst; }
    // Where each visible layer's label is drawn (widget pixels), in row order.
    QVector<QRectF> visibleLabelRects() const;
    QStringList visibleLabels() const;

    QString dataAsText() const override;
    void applyStyle() override;

signals:
    void layerClicked(int index);
    void viewChanged();

protected:
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;

private:
    void layoutRows();
    double rowPitch() const;
    QString elided(const QString& name) const;

    QCPBars* m_local;
    QCPBars* m_worstBars;
    QCPGraph* m_cumulative;
    QCPItemRect* m_highlight;
    QCPTextElement* m_title;
    std::vector<Layer> m_layers;
    QStringList m_labels;
    QList<int> m_worst;
    int m_first = 0;
    int m_visible = 1;
    int m_selected = -1;
};

} // namespace quantscope::ui
