#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace quantscope::ui {

class JobRunner;

// Status-bar progress of the running jobs: the label and progress of the newest one and a cancel
// button that stops them all. Hidden while nothing runs; never modal.
class JobProgressWidget : public QWidget {
    Q_OBJECT
public:
    explicit JobProgressWidget(JobRunner* jobs, QWidget* parent = nullptr);

    QToolButton* cancelButton() const { return m_cancel; }

private:
    JobRunner* m_jobs;
    QLabel* m_label;
    QProgressBar* m_bar;
    QToolButton* m_cancel;
    int m_shownJob = 0;
};

} // namespace quantscope::ui
