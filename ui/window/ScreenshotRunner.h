#pragma once

#include <QObject>
#include <QSize>
#include <QString>
#include <QTimer>

namespace quantscope::ui {

class MainWindow;

// Headless rendering for docs and tests: waits until the window's view has everything it needs
// (the file open, the selected tensor's histogram, exact result and calibration markers, no job
// running), then renders the window to a PNG and reports an exit code.
class ScreenshotRunner : public QObject {
    Q_OBJECT
public:
    ScreenshotRunner(MainWindow* window, QString outputPath, QObject* parent = nullptr);

    // Gives up after `idleTimeoutMs` in which no job ran and the view was still not ready. A job
    // at work restarts that wait: a large model's comparison may take minutes, and is no hang.
    void start(int idleTimeoutMs = 120000);
    bool isReady() const;

signals:
    // 0 when the PNG was written, 1 with a message otherwise.
    void done(int exitCode, const QString& message);

private:
    void poll();

    MainWindow* m_window;
    QString m_output;
    QTimer m_poll;
    QTimer m_timeout;
    int m_idleTimeoutMs = 120000;
    int m_settledPolls = 0;
    bool m_finished = false;
};

} // namespace quantscope::ui
