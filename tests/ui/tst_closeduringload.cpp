// Closing the window while a large tensor loads stops the load where it is: the loaders poll the
// job's cancellation flag between slices, so the job reports cancelled long before the load would
// have read the whole tensor, and the window's destruction does not wait for it.
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/Session.h"
#include "window/MainWindow.h"

#include "quantscope/Cancellation.h"

#include <QFile>
#include <QPointer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <cstring>
#include <string>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

// One F16 tensor of `elements` zeros, written sparse (a header, then a hole): large to load, cheap
// to make.
bool writeSparseSafetensors(const QString& path, uint64_t elements) {
    const uint64_t bytes = elements * 2;
    std::string header = R"({"big":{"dtype":"F16","shape":[)" + std::to_string(elements) +
                         R"(],"data_offsets":[0,)" + std::to_string(bytes) + "]}}";
    while (header.size() % 8 != 0)
        header += ' ';
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    const uint64_t length = header.size();
    char lengthBytes[8];
    std::memcpy(lengthBytes, &length, 8);
    file.write(lengthBytes, 8);
    file.write(header.data(), static_cast<qint64>(header.size()));
    return file.resize(static_cast<qint64>(8 + header.size() + bytes));
}

} // namespace

class TestCloseDuringLoad : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void closingStopsTheTensorLoad() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("large.safetensors"));
        // 32 Mi half floats: the reader takes 256 KiB slices and checks the flag twice per slice
        // (the read, the conversion), so a whole load passes 2 * 256 checkpoints.
        constexpr uint64_t kElements = uint64_t{1} << 25;
        constexpr uint64_t kCheckpointsOfWholeLoad = 2 * (kElements * 2 / (256 << 10));
        QVERIFY(writeSparseSafetensors(path, kElements));

        auto* window = new MainWindow(nullptr, false);
        QPointer<MainWindow> alive(window);
        JobRunner* jobs = window->jobs();
        QSignalSpy cancelled(jobs, &JobRunner::cancelled);
        QSignalSpy finished(jobs, &JobRunner::finished);
        QSignalSpy opened(window->controller(), &AnalysisController::fileOpened);
        window->show();
        window->openFile(path);
        QVERIFY(opened.wait(20000));
        // The file is open: the tensor's load has been queued. Wait (without running the event loop)
        // until the worker is inside the loader, then close at once.
        const int finishedBeforeLoad = static_cast<int>(finished.size());
        const uint64_t before = cancellationCheckpoints();
        for (int spins = 0; cancellationCheckpoints() == before && spins < 2000000; ++spins)
            QThread::usleep(5);
        QVERIFY(cancellationCheckpoints() > before);
        QVERIFY(window->close());
        QVERIFY(cancelled.wait(20000));
        const uint64_t passed = cancellationCheckpoints() - before;
        QVERIFY2(passed < kCheckpointsOfWholeLoad,
                 qPrintable(QStringLiteral("%1 of %2 checkpoints").arg(passed).arg(kCheckpointsOfWholeLoad)));
        // The load never delivered its tensor.
        QCOMPARE(static_cast<int>(finished.size()), finishedBeforeLoad);
        QVERIFY(!window->controller()->preview().valid);
        delete window;
        QVERIFY(alive.isNull());
    }
};

QTEST_MAIN(TestCloseDuringLoad)
#include "tst_closeduringload.moc"
