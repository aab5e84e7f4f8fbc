#pragma once

#include "quantscope/interop/ToolchainRules.h"

#include <QString>
#include <QWidget>

#include <vector>

class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QTableWidget;

namespace quantscope::ui {

class JobRunner;
class Session;

// Where the toolchains differ: for the selected tensor and its settings, the parameters PyTorch,
// ONNX Runtime, TensorRT, AIMET (TF, TF-enhanced), TFLite and llama.cpp (Q8_0 / Q4_0) would compute
// (the core's compareToolchains, as `quantscope-cli conventions`), beside Quantscope's own: scale,
// zero point, qmin / qmax, rounding rule, the integer of a chosen value and the SQNR on this tensor.
// Cells that differ from Quantscope's parameters are highlighted; each row's tooltip cites the
// toolchain's source file and function. Follows the selection and the settings live; the work
// runs on the job runner, and only while the panel is visible.
class ConventionsPanel : public QWidget {
    Q_OBJECT
public:
    enum Column { Toolchain, Scale, ZeroPoint, Qmin, Qmax, Rounding, ChosenInteger, Sqnr, Rule, ColumnCount };

    ConventionsPanel(Session* session, JobRunner* jobs, QWidget* parent = nullptr);

    QTableWidget* table() const { return m_table; }
    QDoubleSpinBox* valueBox() const { return m_value; }
    QSpinBox* blockBox() const { return m_block; }
    // The comparison shown (row 0 of the table is Quantscope's own, the others these in order).
    const std::vector<ToolchainResult>& results() const { return m_results; }
    // The row the results belong to, or -1.
    int shownRow() const { return m_shownRow; }

signals:
    // A new comparison is in the table (tests wait for it).
    void updated();

protected:
    void showEvent(QShowEvent* event) override;

private:
    struct Comparison;
    void refresh();
    void showComparison(const Comparison& comparison);

    Session* m_session;
    JobRunner* m_jobs;
    QLabel* m_title;
    QLabel* m_message;
    QDoubleSpinBox* m_value;
    QSpinBox* m_block;
    QTableWidget* m_table;
    std::vector<ToolchainResult> m_results;
    int m_job = 0;
    int m_shownRow = -1;
    bool m_dirty = true;
};

} // namespace quantscope::ui
