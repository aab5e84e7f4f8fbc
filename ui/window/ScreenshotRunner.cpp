#include "window/ScreenshotRunner.h"

#include "learn/LearnView.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "views/ConventionsPanel.h"
#include "window/MainWindow.h"

#include <QPixmap>
#include <QTabWidget>

namespace quantscope::ui {

ScreenshotRunner::ScreenshotRunner(MainWindow* window, QString outputPath, QObject* parent)
    : QObject(parent), m_window(window), m_output(std::move(outputPath)) {
    m_poll.setInterval(50);
    connect(&m_poll, &QTimer::timeout, this, &ScreenshotRunner::poll);
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        if (m_finished)
            return;
        m_finished = true;
        m_poll.stop();
        emit done(1, tr("timed out waiting for the view to be computed"));
    });
    connect(window, &MainWindow::errorShown, this, [this](const QString& message) {
        if (m_finished)
            return;
        m_finished = true;
        m_poll.stop();
        emit done(1, message);
    });
}

void ScreenshotRunner::start(int idleTimeoutMs) {
    m_idleTimeoutMs = idleTimeoutMs;
    m_timeout.start(idleTimeoutMs);
    m_poll.start();
}

bool ScreenshotRunner::isReady() const {
    const Session* session = m_window->session();
    const int row = session->currentRow();
    const ModelComparison* comparison = m_window->comparison();
    const bool modelDone = !comparison->setup() || (!comparison->isBusy() && comparison->report());
    const Preview& preview = m_window->controller()->preview();
    return session->hasTensors() && row >= 0 && (preview.valid || preview.chosenPerBlock) &&
           session->result(row) && m_window->controller()->markersCurrent() &&
           !m_window->controller()->analysisScheduled() && modelDone &&
           m_window->jobs()->runningCount() == 0 &&
           // The Learn view sits in a scroll area: it is the current tab when it is visible.
           (!m_window->learnView()->isVisible() || m_window->learnView()->isSettled()) &&
           (m_window->views()->currentWidget() != m_window->conventionsPanel() ||
            m_window->conventionsPanel()->shownRow() == row);
}

void ScreenshotRunner::poll() {
    if (m_finished)
        return;
    if (const QString error = m_window->comparison()->lastError();
        !error.isEmpty() && !m_window->comparison()->isBusy()) {
        m_finished = true;
        m_poll.stop();
        emit done(1, tr("model evaluation failed: %1").arg(error));
        return;
    }
    if (m_window->jobs()->runningCount() > 0)
        m_timeout.start(m_idleTimeoutMs); // still computing: the wait starts again
    // Two quiet polls in a row: the last results have been drawn.
    m_settledPolls = isReady() ? m_settledPolls + 1 : 0;
    if (m_settledPolls < 2)
        return;
    m_finished = true;
    m_poll.stop();
    const QPixmap image = m_window->grab();
    if (image.isNull() || !image.save(m_output, "PNG"))
        emit done(1, tr("%1: could not write the screenshot").arg(m_output));
    else
        emit done(0, {});
}

} // namespace quantscope::ui
