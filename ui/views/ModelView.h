#pragma once

#include <QString>
#include <QWidget>

class QLabel;
class QScrollBar;
class QSplitter;
class QTableWidget;

namespace quantscope::ui {

class LayerSqnrChart;
class ModelComparison;
struct ModeExecution;

// Per-layer SQNR of the model in static mode: local (only that layer quantized) and cumulative
// (everything up to it quantized), to find the sensitive layers. A sortable table and a chart of
// horizontal bars side by side, both as tall as the view (in a narrow view the chart goes under
// the table); the chart scrolls through models of hundreds of layers and marks the worst ones.
// Layer names keep their last two path components when elided. Selecting a layer in either selects it in the
// other. A double-click on a layer asks for its weight (or, in the input column, the activation
// it reads) to be selected, so a sensitive layer is one step from its settings. A column says
// whether static mode runs each layer on integers (int8) or falls back to fp32, and the header
// counts the integer ops of the whole graph and names the op types that fall back.
class ModelView : public QWidget {
    Q_OBJECT
public:
    explicit ModelView(ModelComparison* comparison, QWidget* parent = nullptr);

    QTableWidget* table() const { return m_table; }
    LayerSqnrChart* chart() const { return m_chart; }
    enum Column { Layer, Weight, Input, RunsIn, Local, Cumulative, ColumnCount };
    // The layer (in model order) shown in a table row, whatever the sort.
    int layerOfRow(int row) const;
    int rowOfLayer(int layer) const;
    // A layer's name as its table cell draws it (elided to the column, its path's tail kept).
    QString displayedLayerName(int row) const;

signals:
    void tensorRequested(const QString& name, bool activation);

protected:
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void refresh();
    const ModeExecution* staticExecution() const; // null before a static run
    QString integerSummary() const;               // "N of M ops run on integers; fp32: …"
    void arrange();                               // the chart beside the table, or below it in a narrow view
    void fitSplit();                              // stacked: the table as tall as its rows, at most half
    void fitColumns();
    int columnContentWidth(int column) const; // its header's and cells' width, with a margin
    void syncScrollBar();

    ModelComparison* m_comparison;
    QLabel* m_status;
    QTableWidget* m_table;
    LayerSqnrChart* m_chart;
    QScrollBar* m_scroll;
    QSplitter* m_split = nullptr;
    bool m_splitPending = true; // fit the split when next shown
    bool m_syncing = false;
};

} // namespace quantscope::ui
