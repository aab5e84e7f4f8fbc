// Per-job handles: each job's signals live on its own object, deleted once the job has ended, so
// finished or superseded jobs leave nothing connected. A thousand settings changes (a slider
// dragged back and forth) leave as many connections, live handles and about as much memory as ten.
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/Error.h"
#include "quantscope/quant/QuantSpec.h"

#include <QCoreApplication>
#include <QEvent>
#include <QFile>
#include <QPointer>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

// A runner that can count who listens to it (QObject::receivers is protected).
class CountingRunner : public JobRunner {
public:
    int listeners() const {
        return receivers(SIGNAL(finished(int, QVariant))) + receivers(SIGNAL(failed(int, QString))) +
               receivers(SIGNAL(cancelled(int))) + receivers(SIGNAL(dropped(int))) +
               receivers(SIGNAL(progress(int, double)));
    }
};

// Resident memory in bytes (the second field of /proc/self/statm, in pages).
qint64 residentBytes() {
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> fields = statm.readAll().split(' ');
    return fields.size() > 1 ? fields[1].toLongLong() * sysconf(_SC_PAGESIZE) : -1;
}

// Lets every queued result arrive and every ended job's handle be deleted; false when a job is
// still running or a handle outlives its job.
bool settle(JobRunner& runner) {
    if (!QTest::qWaitFor([&] { return runner.runningCount() == 0; }, 60000))
        return false;
    return QTest::qWaitFor(
        [&] {
            QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
            return runner.liveHandleCount() == 0;
        },
        10000);
}

} // namespace

class TestJobHandles : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

private slots:
    void handleCarriesItsJobsOutcomeAndThenGoes() {
        JobRunner runner;
        JobHandle* handle = runner.startJob(QStringLiteral("a"), QStringLiteral("answer"),
                                            [](const ProgressCallback& progress) {
                                                reportProgress(progress, Stage::Results, 1.0);
                                                return QVariant(42);
                                            });
        QPointer<JobHandle> watched(handle);
        QCOMPARE(runner.handle(handle->id()), handle);
        QCOMPARE(runner.liveHandleCount(), 1);
        QSignalSpy finished(handle, &JobHandle::finished);
        QSignalSpy ended(handle, &JobHandle::ended);
        QSignalSpy progress(handle, &JobHandle::progress);
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished[0][0].toInt(), 42);
        QCOMPARE(ended.size(), 1);
        QCOMPARE(progress.size(), 1);
        QCOMPARE(progress[0][0].toDouble(), 1.0);
        QVERIFY(settle(runner));
        QVERIFY(watched.isNull());
        QCOMPARE(runner.liveHandleCount(), 0);
    }

    void supersededJobsHandleSaysDroppedNotFinished() {
        JobRunner runner;
        QSemaphore started;
        QSemaphore release;
        JobHandle* old =
            runner.startJob(QStringLiteral("tensor"), QStringLiteral("old"), [&](const ProgressCallback&) {
                started.release();
                release.acquire();
                return QVariant(1);
            });
        QSignalSpy oldFinished(old, &JobHandle::finished);
        QSignalSpy oldDropped(old, &JobHandle::dropped);
        QVERIFY(started.tryAcquire(1, 10000));
        JobHandle* newer = runner.startJob(QStringLiteral("tensor"), QStringLiteral("new"),
                                           [](const ProgressCallback&) { return QVariant(2); });
        QSignalSpy newFinished(newer, &JobHandle::finished);
        QVERIFY(newFinished.wait(10000));
        QCOMPARE(newFinished[0][0].toInt(), 2);
        release.release();
        QTRY_COMPARE_WITH_TIMEOUT(oldDropped.size(), 1, 10000);
        QCOMPARE(oldFinished.size(), 0);
        QVERIFY(settle(runner));
        QCOMPARE(runner.liveHandleCount(), 0);
    }

    void cancelledJobsHandleSaysCancelled() {
        JobRunner runner;
        QSemaphore running;
        JobHandle* handle =
            runner.startJob(QString(), QStringLiteral("endless"), [&](const ProgressCallback& progress) {
                running.release();
                for (;;) {
                    reportProgress(progress, Stage::Statistics, 0.5);
                    QThread::usleep(100);
                }
                return QVariant();
            });
        QSignalSpy cancelled(handle, &JobHandle::cancelled);
        QSignalSpy failed(handle, &JobHandle::failed);
        QVERIFY(running.tryAcquire(1, 10000));
        runner.cancel(handle->id());
        QVERIFY(cancelled.wait(10000));
        QCOMPARE(failed.size(), 0);
        QVERIFY(settle(runner));
        QCOMPARE(runner.liveHandleCount(), 0);
    }

    void thousandSettingChangesLeaveNothingConnected() {
        QVERIFY(m_dir.isValid());
        const QString path = m_dir.filePath(QStringLiteral("w.safetensors"));
        QVERIFY(writeSafetensors(path, {{"w", {64, 64}, gaussianWithOutliers(64 * 64, 0.05f, 7)},
                                        {"b", {64}, gaussianWithOutliers(64, 0.1f, 8)}}));
        CountingRunner runner;
        Session session;
        AnalysisController controller(&session, &runner);
        QSignalSpy opened(&controller, &AnalysisController::fileOpened);
        controller.openFile(path);
        QVERIFY(opened.wait(20000));
        QVERIFY(QTest::qWaitFor([&] { return session.result(session.currentRow()) != nullptr; }, 20000));

        // A slider dragged between 2 and 8 bits: each step starts the exact analysis and the
        // calibration markers, superseding the step before.
        const auto drag = [&](int steps) {
            for (int i = 0; i < steps; ++i) {
                QuantSpec spec = session.settings(0).spec;
                spec.format = QuantFormat::integer(2 + i % 7, true);
                session.changeSpec({0}, spec, QStringLiteral("bits"));
                QCoreApplication::processEvents();
            }
        };
        drag(10);
        QVERIFY(settle(runner));
        const int listenersAfterTen = runner.listeners();
        const int handlesAfterTen = runner.liveHandleCount();
        const qint64 memoryAfterTen = residentBytes();
        QVERIFY(memoryAfterTen > 0);

        drag(1000);
        QVERIFY(settle(runner));
        QCOMPARE(runner.listeners(), listenersAfterTen);
        QCOMPARE(runner.liveHandleCount(), handlesAfterTen);
        QCOMPARE(handlesAfterTen, 0);
        // A thousand undo commands and results come and go; leaked per-job state would pile up.
        const qint64 growth = residentBytes() - memoryAfterTen;
        QVERIFY2(growth < 64 << 20, qPrintable(QStringLiteral("grew by %1 bytes").arg(growth)));
        // The last setting's exact result is the one shown.
        QVERIFY(QTest::qWaitFor([&] { return session.result(0) != nullptr; }, 20000));
        QVERIFY(session.result(0)->settings.spec.format == session.settings(0).spec.format);
    }
};

QTEST_MAIN(TestJobHandles)
#include "tst_jobhandles.moc"
