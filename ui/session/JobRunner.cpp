#include "session/JobRunner.h"

#include "session/MainThreadCall.h"
#include "session/ThreadHandOff.h"

#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QRunnable>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <exception>

namespace quantscope::ui {

// QT_LOGGING_RULES="quantscope.jobs.debug=true" traces every job.
Q_LOGGING_CATEGORY(lcJobs, "quantscope.jobs", QtWarningMsg)

struct JobRunner::Job {
    int id = 0;
    QString channel;
    QString label;
    std::atomic<bool> cancelRequested{false};
    std::atomic<int> lastPermille{-1};
};

JobRunner::JobRunner(QObject* parent) : QObject(parent) {
    m_pool.setMaxThreadCount(std::max(1, QThread::idealThreadCount()));
}

JobRunner::~JobRunner() {
    cancelAll();
    m_pool.waitForDone();
}

JobHandle* JobRunner::startJob(const QString& channel, const QString& label, Work work) {
    const int id = m_nextId++;
    auto job = std::make_shared<Job>();
    job->id = id;
    job->channel = channel;
    job->label = label;
    auto* handle = new JobHandle(id, this);
    m_handles.insert(id, handle);
    if (!channel.isEmpty()) {
        // The older job on this channel is stale now: stop it early; its result will be dropped.
        if (const auto older = m_jobs.constFind(m_latestOnChannel.value(channel, 0)); older != m_jobs.cend())
            (*older)->cancelRequested = true;
        m_latestOnChannel.insert(channel, id);
    }
    m_jobs.insert(id, job);
    qCDebug(lcJobs) << "start" << id << channel << label;
    emit started(id, label);

    QPointer<JobRunner> self(this);
    // The token is a static: the worker must acquire before it reads anything of the closure,
    // and the closure must exist before the release.
    static const char startedJobs = 0;
    std::function<void()> run = [self, job, work = std::move(work)] {
        acquireFromOtherThread(&startedJobs);
        const ProgressCallback progressCallback = [self, job](Stage, double fraction) {
            if (job->cancelRequested)
                return false;
            // Throttle: at most one queued update per 0.1 % of progress.
            const int permille = static_cast<int>(fraction * 1000.0);
            if (permille != job->lastPermille.exchange(permille) && self) {
                postToMainThread([self, job, fraction] {
                    if (self)
                        self->reportProgress(job->id, fraction);
                });
            }
            return true;
        };
        QVariant result;
        QString error;
        bool wasCancelled = false;
        try {
            // Loaders and model construction, which take no progress callback, poll this.
            const CancellationScope cancellation(job->cancelRequested);
            if (job->cancelRequested)
                throw Cancelled();
            result = work(progressCallback);
        } catch (const Cancelled&) {
            wasCancelled = true;
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        } catch (...) {
            error = QStringLiteral("unexpected error");
        }
        // Moved, not copied: a shared copy left here would be freed on this thread after the
        // main thread read it, ordered only by Qt's reference count.
        if (self)
            postToMainThread([self, job, result = std::move(result), error = std::move(error), wasCancelled] {
                if (self)
                    self->complete(job, result, error, wasCancelled);
            });
    };
    releaseToOtherThread(&startedJobs);
    m_pool.start(std::move(run));
    return handle;
}

void JobRunner::cancel(int id) {
    if (const auto it = m_jobs.constFind(id); it != m_jobs.cend())
        (*it)->cancelRequested = true;
}

void JobRunner::cancelAll() {
    for (const auto& job : std::as_const(m_jobs))
        job->cancelRequested = true;
}

QString JobRunner::label(int id) const {
    const auto it = m_jobs.constFind(id);
    return it == m_jobs.cend() ? QString() : (*it)->label;
}

JobHandle* JobRunner::handle(int id) const {
    return m_handles.value(id);
}

int JobRunner::liveHandleCount() const {
    return static_cast<int>(findChildren<JobHandle*>(Qt::FindDirectChildrenOnly).size());
}

bool JobRunner::waitForDone(int msecs) {
    return m_pool.waitForDone(msecs);
}

void JobRunner::reportProgress(int id, double fraction) {
    if (!m_jobs.contains(id))
        return;
    emit progress(id, fraction);
    if (JobHandle* handle = m_handles.value(id))
        emit handle->progress(fraction);
}

void JobRunner::complete(const std::shared_ptr<Job>& job, const QVariant& result, const QString& error,
                         bool wasCancelled) {
    m_jobs.remove(job->id);
    qCDebug(lcJobs) << "done" << job->id << job->label << (wasCancelled ? "cancelled" : "") << error;
    const bool stale = !job->channel.isEmpty() && m_latestOnChannel.value(job->channel) != job->id;
    if (!stale && !job->channel.isEmpty())
        m_latestOnChannel.remove(job->channel);
    // The handle's receivers hear first: they are the job's own caller.
    JobHandle* handle = m_handles.take(job->id);
    if (stale) {
        if (handle)
            emit handle->dropped();
        emit dropped(job->id);
    } else if (wasCancelled) {
        if (handle)
            emit handle->cancelled();
        emit cancelled(job->id);
    } else if (!error.isEmpty()) {
        if (handle)
            emit handle->failed(error);
        emit failed(job->id, error);
    } else {
        if (handle)
            emit handle->finished(result);
        emit finished(job->id, result);
    }
    if (handle) {
        emit handle->ended();
        // Later: a receiver may still be on the stack of the signal that got here.
        handle->deleteLater();
    }
    if (m_jobs.isEmpty())
        emit idle();
}

} // namespace quantscope::ui
