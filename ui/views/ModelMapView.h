#pragma once

#include <QWidget>

class QComboBox;
class QLabel;

namespace quantscope::ui {

class ModelMapGrid;
class ModelMapLegend;
class Session;

// The whole-model map: every weight of the open file in a grid of blocks × roles, coloured by the
// metric chosen above it (SQNR or clipped share), with the scale beside the choice and how many
// tensors are analysed so far. A click on a cell selects that tensor in the session.
class ModelMapView : public QWidget {
    Q_OBJECT
public:
    explicit ModelMapView(Session* session, QWidget* parent = nullptr);

    ModelMapGrid* grid() const { return m_grid; }
    ModelMapLegend* legend() const { return m_legend; }
    QComboBox* metricBox() const { return m_metric; }
    // Every mapped tensor has its metric for its current settings.
    bool isComplete() const;

private:
    void updateStatus();

    ModelMapGrid* m_grid;
    ModelMapLegend* m_legend;
    QComboBox* m_metric;
    QLabel* m_status;
};

} // namespace quantscope::ui
