// forEachItemInParallel: every item once, failures and cancellation carried back to the caller.
#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"
#include "quantscope/ParallelItems.h"

#include <QtTest>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace quantscope;

class TestParallelItems : public QObject {
    Q_OBJECT

private slots:
    void everyItemOnce() {
        for (int threads : {1, 2, 3, 8}) {
            constexpr std::size_t kItems = 1000;
            std::vector<std::atomic<int>> calls(kItems);
            std::mutex mutex;
            std::set<std::thread::id> seenThreads;
            std::vector<std::size_t> reported;
            const auto caller = std::this_thread::get_id();
            forEachItemInParallel(
                kItems, threads,
                [&](std::size_t item) {
                    ++calls[item];
                    const std::lock_guard lock(mutex);
                    seenThreads.insert(std::this_thread::get_id());
                },
                [&](std::size_t done) {
                    QCOMPARE(std::this_thread::get_id(), caller); // progress only on the calling thread
                    reported.push_back(done);
                });
            for (std::size_t i = 0; i < kItems; ++i)
                QCOMPARE(calls[i].load(), 1);
            QVERIFY(seenThreads.size() <= static_cast<std::size_t>(threads));
            if (threads == 1) {
                QCOMPARE(seenThreads.size(), std::size_t{1});
                QCOMPARE(*seenThreads.begin(), caller);
                QCOMPARE(reported.size(), kItems);
            }
            // The counts the caller saw only grow and never pass the number of items.
            for (std::size_t i = 1; i < reported.size(); ++i)
                QVERIFY(reported[i] > reported[i - 1]);
            QVERIFY(reported.empty() || reported.back() <= kItems);
        }
    }

    void noItemsNoCalls() {
        bool called = false;
        forEachItemInParallel(
            0, 4, [&](std::size_t) { called = true; }, [&](std::size_t) { called = true; });
        QVERIFY(!called);
    }

    void firstFailureStopsTheRest() {
        std::atomic<int> started{0};
        bool threw = false;
        try {
            forEachItemInParallel(100000, 2, [&](std::size_t item) {
                ++started;
                if (item == 10)
                    throw Error("item 10", "failed on purpose");
                // Items take a while, as real ones do: an instant item lets the other thread run
                // through thousands while the failing one is still being thrown and recorded.
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            });
        } catch (const Error& error) {
            threw = true;
            QVERIFY(QString::fromUtf8(error.what()).contains(QLatin1String("failed on purpose")));
        }
        QVERIFY(threw);
        // Each thread takes at most one more item after the failure.
        QVERIFY2(started.load() < 100, qPrintable(QString::number(started.load())));
    }

    void progressCanStop() {
        std::atomic<int> started{0};
        QVERIFY_THROWS_EXCEPTION(Cancelled, forEachItemInParallel(
                                                100000, 2,
                                                [&](std::size_t) {
                                                    ++started;
                                                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                                },
                                                [&](std::size_t done) {
                                                    if (done >= 5)
                                                        throw Cancelled();
                                                }));
        QVERIFY(started.load() < 100000);
    }

    void extraThreadsShareTheCancellationScope() {
        const std::atomic<bool> stop{true};
        const CancellationScope scope(stop);
        std::atomic<int> cancelledOnOtherThreads{0};
        const auto caller = std::this_thread::get_id();
        std::atomic<int> running{0};
        try {
            forEachItemInParallel(2, 2, [&](std::size_t) {
                // Both items run at once, one on each thread.
                ++running;
                while (running.load() < 2)
                    std::this_thread::yield();
                if (std::this_thread::get_id() != caller) {
                    try {
                        throwIfCancelled();
                    } catch (const Cancelled&) {
                        ++cancelledOnOtherThreads;
                    }
                }
            });
        } catch (const Cancelled&) {
        }
        QCOMPARE(cancelledOnOtherThreads.load(), 1);
    }
};

QTEST_GUILESS_MAIN(TestParallelItems)
#include "tst_parallel_items.moc"
