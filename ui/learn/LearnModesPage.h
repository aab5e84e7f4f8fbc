#pragma once

#include <QWidget>

class QLabel;

namespace quantscope::ui {

class BarChart;
class ModelComparison;

// Lesson 4, static against dynamic quantization: what each mode quantizes, and when its ranges
// are decided (offline on calibration samples, per batch at run time, never), beside the
// accuracy, latency and throughput the core measured for the demo model in each mode (the
// evaluation the Compare view runs on the job runner; its progress shows here too).
class LearnModesPage : public QWidget {
    Q_OBJECT
public:
    explicit LearnModesPage(ModelComparison* comparison, QWidget* parent = nullptr);

    QString text() const;

protected:
    // The tables are rich text sized from the application font: rebuilt when it changes.
    void changeEvent(QEvent* event) override;

private:
    void refresh();

    ModelComparison* m_comparison;
    QLabel* m_table;
    QLabel* m_status;
    BarChart* m_accuracy;
    BarChart* m_speed;
};

} // namespace quantscope::ui
