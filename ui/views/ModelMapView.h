#pragma once

#include "plots/ParetoPlot.h"

#include <QWidget>

#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QToolButton;

namespace quantscope::ui {

class CandidateAnalysis;
class JobRunner;
class ModelMapGrid;
class ModelMapLegend;
class Session;

// The whole-model map: every weight of the open file in a grid of blocks × roles, coloured by the
// metric chosen above it (SQNR or clipped share), with the scale beside the choice and how many
// tensors are analysed so far. A click on a cell selects that tensor in the session.
// Beside it, the candidate formats: while the view is shown every weight is analysed in each of
// them in the background (stoppable), the map can show any one of them or the mixed-precision
// plan under the budget, the Pareto chart puts each format (and the plan) at its bits per weight
// and weighted SQNR, and the plan exports as the command line writes it.
class ModelMapView : public QWidget {
    Q_OBJECT
public:
    ModelMapView(Session* session, JobRunner* jobs, QWidget* parent = nullptr);

    ModelMapGrid* grid() const { return m_grid; }
    ModelMapLegend* legend() const { return m_legend; }
    QComboBox* metricBox() const { return m_metric; }
    // What the cells show: index 0 the tensors' own settings, then one per candidate, then the plan.
    QComboBox* sourceBox() const { return m_source; }
    QLineEdit* candidatesEdit() const { return m_candidatesEdit; }
    QDoubleSpinBox* budgetBox() const { return m_budget; }
    CandidateAnalysis* candidates() const { return m_candidates; }
    ParetoPlot* paretoPlot() const { return m_pareto; }
    // Every mapped tensor has its metric for its current settings.
    bool isComplete() const;
    // Shows the plan on the map (the last entry of sourceBox).
    void showPlan();

protected:
    void showEvent(QShowEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void updateStatus();
    void updateSources();
    void updatePareto();
    void applyCandidates();
    void startIfShown();
    void exportPlan(const QString& kind);

    Session* m_session;
    CandidateAnalysis* m_candidates;
    ModelMapGrid* m_grid;
    ModelMapLegend* m_legend;
    QComboBox* m_metric;
    QComboBox* m_source;
    QLabel* m_status;
    QLineEdit* m_candidatesEdit;
    QDoubleSpinBox* m_budget;
    QPushButton* m_run;
    QToolButton* m_export;
    QLabel* m_planText;
    ParetoPlot* m_pareto;
    QSplitter* m_splitter;
    bool m_splitterSized = false;
    QString m_exportMessage; // the last plan export: running, or where it was written
};

} // namespace quantscope::ui
