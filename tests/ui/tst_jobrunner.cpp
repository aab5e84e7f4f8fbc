// The job runner: progress arrives on the GUI thread, cancel stops work through the core's
// progress callback, and a result that a newer job on the same channel superseded is dropped.
#include "session/AllCores.h"
#include "session/JobRunner.h"

#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"

#include <QSemaphore>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <atomic>

using namespace quantscope;
using namespace quantscope::ui;

class TestJobRunner : public QObject {
    Q_OBJECT
private slots:
    void resultAndProgressArriveOnGuiThread() {
        JobRunner runner;
        QSignalSpy progress(&runner, &JobRunner::progress);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy idle(&runner, &JobRunner::idle);
        Qt::HANDLE workerThread = nullptr;
        const int id =
            runner.start(QStringLiteral("a"), QStringLiteral("sum"), [&](const ProgressCallback& report) {
                workerThread = QThread::currentThreadId();
                long long sum = 0;
                for (int i = 1; i <= 100; ++i) {
                    sum += i;
                    reportProgress(report, Stage::Statistics, i / 100.0);
                }
                return QVariant(sum);
            });
        QVERIFY(runner.isRunning(id));
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished[0][0].toInt(), id);
        QCOMPARE(finished[0][1].toLongLong(), 5050LL);
        QVERIFY(workerThread != QThread::currentThreadId());
        // Progress is throttled but reaches the end, in order, for this job.
        QVERIFY(progress.size() >= 2);
        double last = -1.0;
        for (const auto& args : progress) {
            QCOMPARE(args[0].toInt(), id);
            QVERIFY(args[1].toDouble() >= last);
            last = args[1].toDouble();
        }
        QCOMPARE(last, 1.0);
        QCOMPARE(idle.size(), 1);
        QVERIFY(!runner.isRunning(id));
    }

    void cancelStopsWorkThroughProgressCallback() {
        JobRunner runner;
        QSignalSpy cancelled(&runner, &JobRunner::cancelled);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSemaphore running;
        std::atomic<int> iterations{0};
        const int id =
            runner.start(QString(), QStringLiteral("endless"), [&](const ProgressCallback& report) {
                running.release();
                for (;;) {
                    ++iterations;
                    reportProgress(report, Stage::Statistics, 0.5); // throws Cancelled once cancelled
                    QThread::usleep(100);
                }
                return QVariant();
            });
        QVERIFY(running.tryAcquire(1, 10000));
        runner.cancel(id);
        QVERIFY(cancelled.wait(10000));
        QCOMPARE(cancelled[0][0].toInt(), id);
        QCOMPARE(finished.size(), 0);
        const int stoppedAt = iterations;
        QTest::qWait(50);
        QCOMPARE(iterations.load(), stoppedAt);
    }

    void workOnEveryCoreStopsWithTheJob() {
        // A job that fans out (every tensor's metrics on every core) stops on all its threads: the
        // loaders on the extra threads poll the same flag as the job's own thread.
        JobRunner runner;
        QSignalSpy cancelled(&runner, &JobRunner::cancelled);
        QSemaphore running;
        std::atomic<int> threadsStopped{0};
        const int id = runner.start(QString(), QStringLiteral("fan-out"), [&](const ProgressCallback&) {
            std::atomic<bool> anyCancelled{false};
            runOnAllCores(4, [&] {
                running.release();
                try {
                    // Bounded, so that a thread that never hears of the cancel fails the test
                    // rather than hanging it.
                    for (int slice = 0; slice < 50000; ++slice) {
                        throwIfCancelled(); // what a loader does between slices
                        QThread::usleep(100);
                    }
                } catch (const Cancelled&) {
                    ++threadsStopped;
                    anyCancelled = true;
                }
            });
            if (anyCancelled)
                throw Cancelled();
            return QVariant();
        });
        const int threads = static_cast<int>(std::min(4u, std::max(1u, std::thread::hardware_concurrency())));
        QVERIFY(running.tryAcquire(threads, 10000));
        runner.cancel(id);
        QVERIFY(cancelled.wait(10000));
        QCOMPARE(threadsStopped.load(), threads);
    }

    void staleResultIsDropped() {
        JobRunner runner;
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy dropped(&runner, &JobRunner::dropped);
        QSemaphore started;
        QSemaphore release;
        // The old job ignores cancellation (it never asks), so it really does finish late.
        const int old =
            runner.start(QStringLiteral("tensor"), QStringLiteral("old"), [&](const ProgressCallback&) {
                started.release();
                release.acquire();
                return QVariant(QStringLiteral("old result"));
            });
        QVERIFY(started.tryAcquire(1, 10000));
        const int newer =
            runner.start(QStringLiteral("tensor"), QStringLiteral("new"),
                         [](const ProgressCallback&) { return QVariant(QStringLiteral("new result")); });
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished[0][0].toInt(), newer);
        QCOMPARE(finished[0][1].toString(), QStringLiteral("new result"));
        QCOMPARE(dropped.size(), 0);
        release.release();
        QTRY_COMPARE_WITH_TIMEOUT(dropped.size(), 1, 10000);
        QCOMPARE(dropped[0][0].toInt(), old);
        QCOMPARE(finished.size(), 1); // the old result never reached anyone
    }

    void staleJobThatHadNotStartedNeverRuns() {
        JobRunner runner;
        runner.waitForDone();
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy dropped(&runner, &JobRunner::dropped);
        QSemaphore gate;
        std::atomic<int> ran{0};
        // Fill the pool so the next two jobs queue; the first of them goes stale before it starts.
        const int threads = QThread::idealThreadCount();
        for (int i = 0; i < threads; ++i)
            runner.start(QString(), QStringLiteral("blocker"), [&](const ProgressCallback&) {
                gate.acquire();
                return QVariant();
            });
        const int old =
            runner.start(QStringLiteral("x"), QStringLiteral("old"), [&](const ProgressCallback&) {
                ++ran;
                return QVariant(1);
            });
        const int newer = runner.start(QStringLiteral("x"), QStringLiteral("new"),
                                       [](const ProgressCallback&) { return QVariant(2); });
        gate.release(threads);
        QTRY_COMPARE_WITH_TIMEOUT(dropped.size(), 1, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), threads + 1, 10000);
        QCOMPARE(dropped[0][0].toInt(), old);
        QCOMPARE(ran.load(), 0);
        QVERIFY(std::any_of(finished.begin(), finished.end(),
                            [newer](const QList<QVariant>& args) { return args[0].toInt() == newer; }));
    }

    void otherChannelsAreIndependent() {
        JobRunner runner;
        QSignalSpy finished(&runner, &JobRunner::finished);
        runner.start(QStringLiteral("a"), QStringLiteral("a"),
                     [](const ProgressCallback&) { return QVariant(1); });
        runner.start(QStringLiteral("b"), QStringLiteral("b"),
                     [](const ProgressCallback&) { return QVariant(2); });
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 10000);
    }

    void failureCarriesTheCoreMessage() {
        JobRunner runner;
        QSignalSpy failed(&runner, &JobRunner::failed);
        const int id =
            runner.start(QString(), QStringLiteral("bad"), [](const ProgressCallback&) -> QVariant {
                throw Error("model.safetensors", "header length 99999 is past the end of the 12-byte file");
            });
        QVERIFY(failed.wait(10000));
        QCOMPARE(failed[0][0].toInt(), id);
        QCOMPARE(
            failed[0][1].toString(),
            QStringLiteral("model.safetensors: header length 99999 is past the end of the 12-byte file"));
    }
};

QTEST_GUILESS_MAIN(TestJobRunner)
#include "tst_jobrunner.moc"
