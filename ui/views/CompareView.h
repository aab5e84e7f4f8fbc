#pragma once

#include <QWidget>

class QLabel;
class QTableWidget;

namespace quantscope::ui {

class BarChart;
class ModelComparison;

// fp32 against static, dynamic and weight-only quantization of the loaded model on its samples:
// accuracy, agreement with fp32, output SQNR, latency, throughput and size as a table and bar
// charts, with the SIMD path and thread count; per mode, its own settings and which op types run
// quantized and which stay fp32. Shows how far a refresh has come (the first samples, all of
// them, the timing). Says what is missing when no model is loaded.
class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(ModelComparison* comparison, QWidget* parent = nullptr);

    QString statusText() const;
    // The per-mode lines: settings, quantized and fp32 op types.
    QString modesText() const;

    QTableWidget* table() const { return m_table; }

protected:
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void refresh();
    void fitColumns();

    ModelComparison* m_comparison;
    QLabel* m_status;
    QLabel* m_modes;
    QTableWidget* m_table;
    BarChart* m_accuracy;
    BarChart* m_speed;
};

} // namespace quantscope::ui
