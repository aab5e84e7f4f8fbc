// Calls posted from other threads run on the main thread, in the order each thread posted them,
// and the captured values they were posted with (moved in, freed on the main thread) arrive whole.
#include "session/MainThreadCall.h"

#include <QCoreApplication>
#include <QTest>
#include <QThread>

#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace quantscope::ui;

class TestMainThreadCall : public QObject {
    Q_OBJECT
private slots:
    void callsRunOnTheMainThreadInOrder() {
        constexpr int kThreads = 4;
        constexpr int kCallsPerThread = 250;
        const Qt::HANDLE mainThread = QThread::currentThreadId();
        std::vector<std::vector<int>> seen(kThreads);
        int offMainThread = 0;
        int corrupted = 0;
        std::vector<std::thread> posters;
        for (int t = 0; t < kThreads; ++t)
            posters.emplace_back([&, t] {
                for (int i = 0; i < kCallsPerThread; ++i) {
                    auto payload = std::make_unique<std::string>(std::to_string(t * 100000 + i));
                    postToMainThread([&, t, i, payload = std::shared_ptr<std::string>(std::move(payload))] {
                        if (QThread::currentThreadId() != mainThread)
                            ++offMainThread;
                        if (*payload != std::to_string(t * 100000 + i))
                            ++corrupted;
                        seen[t].push_back(i);
                    });
                }
            });
        for (auto& poster : posters)
            poster.join();
        QTRY_COMPARE_WITH_TIMEOUT(
            static_cast<int>(seen[0].size() + seen[1].size() + seen[2].size() + seen[3].size()),
            kThreads * kCallsPerThread, 10000);
        QCOMPARE(offMainThread, 0);
        QCOMPARE(corrupted, 0);
        for (const auto& calls : seen) {
            QCOMPARE(static_cast<int>(calls.size()), kCallsPerThread);
            for (int i = 0; i < kCallsPerThread; ++i)
                QCOMPARE(calls[i], i);
        }
    }

    void callFromTheMainThreadWaitsForTheEventLoop() {
        bool ran = false;
        postToMainThread([&] { ran = true; });
        QVERIFY(!ran); // queued, not called in place
        QCoreApplication::processEvents();
        QVERIFY(ran);
    }
};

QTEST_MAIN(TestMainThreadCall)
#include "tst_mainthreadcall.moc"
