#include "widgets/JobProgressWidget.h"

#include "session/JobRunner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QStyle>
#include <QToolButton>

namespace quantscope::ui {

JobProgressWidget::JobProgressWidget(JobRunner* jobs, QWidget* parent)
    : QWidget(parent), m_jobs(jobs), m_label(new QLabel(this)), m_bar(new QProgressBar(this)),
      m_cancel(new QToolButton(this)) {
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_bar->setMaximumWidth(160);
    m_bar->setMaximumHeight(m_label->fontMetrics().height());
    m_cancel->setIcon(style()->standardIcon(QStyle::SP_DialogCancelButton));
    m_cancel->setToolTip(tr("Cancel the running work (Esc)"));
    m_cancel->setAutoRaise(true);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);
    hide();

    connect(m_cancel, &QToolButton::clicked, jobs, &JobRunner::cancelAll);
    connect(jobs, &JobRunner::started, this, [this](int id, const QString& label) {
        m_shownJob = id;
        m_label->setText(label);
        m_bar->setValue(0);
        show();
    });
    connect(jobs, &JobRunner::progress, this, [this](int id, double fraction) {
        if (id == m_shownJob)
            m_bar->setValue(static_cast<int>(fraction * 1000.0));
    });
    connect(jobs, &JobRunner::idle, this, &QWidget::hide);
}

} // namespace quantscope::ui
