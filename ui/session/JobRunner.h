#pragma once

#include "quantscope/Progress.h"
#include "session/JobHandle.h"

#include <QHash>
#include <QObject>
#include <QPointer>
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
// the GUI thread through queued calls; cancel() makes the core's progress callback return false
// and the loaders' cancellation checks throw. Each job has its own JobHandle carrying its signals:
// connect to the handle, not to the runner's signals filtered by id, and nothing outlives the job.
class JobRunner : public QObject {
    Q_OBJECT
public:
    using Work = std::function<QVariant(const ProgressCallback& progress)>;

    explicit JobRunner(QObject* parent = nullptr);
    ~JobRunner() override;

    // Starts `work` on the pool and returns its handle, which lives until the job has ended (ids
    // start at 1 and only grow).
    JobHandle* startJob(const QString& channel, const QString& label, Work work);
    // The same, for callers that follow the job through the runner's signals.
    int start(const QString& channel, const QString& label, Work work) {
        return startJob(channel, label, std::move(work))->id();
    }
    void cancel(int id);
    void cancelAll();

    bool isRunning(int id) const { return m_jobs.contains(id); }
    int runningCount() const { return static_cast<int>(m_jobs.size()); }
    QString label(int id) const;
    // The handle of a job that has not ended yet, else null.
    JobHandle* handle(int id) const;
    // Handles of jobs that have not ended yet (a test checks none are left behind).
    int liveHandleCount() const;
    // Blocks until every worker is done, or at most `msecs` when not negative; true when all are
    // done (used on shutdown and by tests, never on user actions).
    bool waitForDone(int msecs = -1);

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
    // GUI thread only (the jobs' data is shared with the workers, the handles are not).
    QHash<int, QPointer<JobHandle>> m_handles;
    QHash<QString, int> m_latestOnChannel;
    int m_nextId = 1;
};

} // namespace quantscope::ui
