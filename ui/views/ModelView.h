#pragma once

#include <QWidget>

class QLabel;
class QTableWidget;

namespace quantscope::ui {

class BarChart;
class ModelComparison;

// Per-layer SQNR of the model in static mode: local (only that layer quantized) and cumulative
// (everything up to it quantized), as a table and bars, to find the sensitive layers. A
// double-click on a layer asks for its weight (or, in the input column, the activation it reads)
// to be selected, so a sensitive layer is one step from its settings.
class ModelView : public QWidget {
    Q_OBJECT
public:
    explicit ModelView(ModelComparison* comparison, QWidget* parent = nullptr);

    QTableWidget* table() const { return m_table; }
    enum Column { Layer, Weight, Input, Local, Cumulative, ColumnCount };

signals:
    void tensorRequested(const QString& name, bool activation);

private:
    void refresh();

    ModelComparison* m_comparison;
    QLabel* m_status;
    QTableWidget* m_table;
    BarChart* m_chart;
};

} // namespace quantscope::ui
