#pragma once

#include "quantscope/Progress.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QVariant>

#include <functional>
#include <memory>

namespace quantscope::ui {

// Runs long work on worker threads so the GUI thread never blocks (as hotspot's job tracker).
// Every job gets an id. Jobs share a "channel" when a newer one supersedes an older one (the
// analysis of the selected tensor, say): starting a job cancels the older ones on its channel and
// their results are dropped, never delivered over the newer one. Results and progress arrive on
// the GUI thread through queued calls; cancel() makes the core's progress callback return false.
class JobRunner : public QObject {
    Q_OBJECT
public:
    using Work = std::function<QVariant(const ProgressCallback& progress)>;

    explicit JobRunner(QObject* parent = nullptr);
    ~JobRunner() override;

    // Starts `work` on the pool and returns its id (ids start at 1 and only grow).
    int start(const QString& channel, const QString& label, Work work);
    void cancel(int id);
    void cancelAll();

    bool isRunning(int id) const { return m_jobs.contains(id); }
    int runningCount() const { return static_cast<int>(m_jobs.size()); }
    QString label(int id) const;
    // Blocks until every worker is done (used on shutdown and by tests, never on user actions).
    void waitForDone();

signals:
    void started(int id, const QString& label);
    void progress(int id, double fraction);
    void finished(int id, const QVariant& result);
    void failed(int id, const QString& message);
    void cancelled(int id);
    // The job finished after a newer job on its channel had started: its result was thrown away.
    void dropped(int id);
    void idle();

private:
    struct Job;
    void complete(const std::shared_ptr<Job>& job, const QVariant& result, const QString& error,
                  bool wasCancelled);
    void reportProgress(int id, double fraction);

    QThreadPool m_pool;
    QHash<int, std::shared_ptr<Job>> m_jobs;
    QHash<QString, int> m_latestOnChannel;
    int m_nextId = 1;
};

} // namespace quantscope::ui
