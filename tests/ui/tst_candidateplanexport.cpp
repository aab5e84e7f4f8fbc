// The Map tab's candidates on a model of any size: the results keep no per-value, per-channel or
// per-group array (what they hold on the heap is measured here, by counting every operator new
// and delete of the process, and is the same for a model and for one whose tensors are 16 times
// larger); the plan's qparams export, which computes the parameters again, is a job on the runner
// (queued behind busy workers it leaves the GUI thread free, writes nothing until it is done, and
// stopped it writes nothing at all) and its file equals `quantscope-cli plan --out-params` byte
// for byte; and the map's legend shows every colour the map draws, the "float" of tensors a plan
// leaves alone included, in the very colour of those cells.
#include "ui/UiTestUtils.h"

#include "CliRunner.h"

#include "session/CandidateAnalysis.h"
#include "session/JobRunner.h"
#include "session/Session.h"
#include "views/ModelMapView.h"
#include "widgets/ModelMapGrid.h"
#include "widgets/ModelMapLegend.h"

#include "quantscope/io/WeightFile.h"

#include <QDir>
#include <QDoubleSpinBox>
#include <QHash>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <cstdlib>
#include <malloc.h>
#include <new>
#include <random>

// Every operator new and delete of the process goes through these: the heap bytes the C++ code
// holds at any moment (Qt's own containers use malloc and are not counted).
namespace {
std::atomic<long long> g_liveBytes{0};

void* counted(void* p) {
    if (!p)
        throw std::bad_alloc();
    g_liveBytes += static_cast<long long>(malloc_usable_size(p));
    return p;
}

void release(void* p) noexcept {
    if (p) {
        g_liveBytes -= static_cast<long long>(malloc_usable_size(p));
        std::free(p);
    }
}

void* alignedAlloc(std::size_t size, std::align_val_t align) {
    const auto a = static_cast<std::size_t>(align);
    return std::aligned_alloc(a, (std::max<std::size_t>(size, 1) + a - 1) / a * a);
}
} // namespace

void* operator new(std::size_t size) {
    return counted(std::malloc(std::max<std::size_t>(size, 1)));
}
void* operator new[](std::size_t size) {
    return counted(std::malloc(std::max<std::size_t>(size, 1)));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    void* p = std::malloc(std::max<std::size_t>(size, 1));
    if (p)
        g_liveBytes += static_cast<long long>(malloc_usable_size(p));
    return p;
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
    return operator new(size, tag);
}
void* operator new(std::size_t size, std::align_val_t align) {
    return counted(alignedAlloc(size, align));
}
void* operator new[](std::size_t size, std::align_val_t align) {
    return counted(alignedAlloc(size, align));
}
void operator delete(void* p) noexcept {
    release(p);
}
void operator delete[](void* p) noexcept {
    release(p);
}
void operator delete(void* p, std::size_t) noexcept {
    release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    release(p);
}

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

constexpr double kBudget = 5.0;

// A small Llama-like model: per layer q, k, o, gate and down weights plus a norm, and the
// embeddings; `scale` multiplies both sides of every weight (4 gives 16 times the values).
// Rows are multiples of 256 (whole q4_k super-blocks).
std::vector<NamedTensor> model(int scale) {
    std::vector<NamedTensor> tensors;
    std::mt19937 generator(11);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    const auto add = [&](const std::string& name, std::vector<int64_t> shape) {
        std::size_t count = 1;
        for (int64_t d : shape)
            count *= static_cast<std::size_t>(d);
        std::vector<float> values(count);
        for (std::size_t i = 0; i < count; ++i)
            values[i] = normal(generator) * (i % 97 == 0 ? 6.0f : 1.0f);
        tensors.push_back({name, shape, std::move(values)});
    };
    const int64_t s = scale;
    add("model.embed_tokens.weight", {64 * s, 256 * s});
    for (int layer = 0; layer < 2; ++layer) {
        const std::string p = "model.layers." + std::to_string(layer) + ".";
        add(p + "input_layernorm.weight", {256 * s});
        add(p + "self_attn.q_proj.weight", {32 * s, 256 * s});
        add(p + "self_attn.k_proj.weight", {16 * s, 256 * s});
        add(p + "mlp.gate_proj.weight", {48 * s, 256 * s});
        add(p + "mlp.down_proj.weight", {32 * s, 512 * s});
    }
    add("model.norm.weight", {256 * s});
    return tensors;
}

bool waitForCandidates(CandidateAnalysis& c) {
    (void)QTest::qWaitFor([&c] { return !c.isRunning(); }, 300000);
    if (!c.lastError().isEmpty())
        qWarning("%s", qPrintable(c.lastError()));
    return c.isComplete();
}

// Waits for the runner to be idle and the queued calls of its jobs to be delivered.
void settle(JobRunner& jobs) {
    (void)QTest::qWaitFor([&jobs] { return jobs.runningCount() == 0; }, 300000);
    jobs.waitForDone();
    for (int i = 0; i < 5; ++i) {
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        QCoreApplication::processEvents();
    }
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Jobs that hold every worker of a runner until released, so that a job started next waits in
// the queue: what a user sees on a busy machine, made certain.
class BusyWorkers {
public:
    explicit BusyWorkers(JobRunner& jobs) {
        for (int i = 0; i < std::max(1, QThread::idealThreadCount()); ++i)
            jobs.start(QString(), QStringLiteral("busy"), [this](const ProgressCallback& progress) {
                ++m_started;
                while (!m_released && progress(Stage::Statistics, 0.0))
                    QThread::msleep(2);
                return QVariant();
            });
        (void)QTest::qWaitFor([this] { return m_started == std::max(1, QThread::idealThreadCount()); },
                              60000);
    }
    ~BusyWorkers() { m_released = true; }
    bool allBusy() const { return m_started == std::max(1, QThread::idealThreadCount()); }
    void release() { m_released = true; }

private:
    std::atomic<int> m_started{0};
    std::atomic<bool> m_released{false};
};

} // namespace

class TestCandidatePlanExport : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_small;
    QString m_large;

    // The C++ heap bytes the candidate results of `path` hold: measured with them, then after
    // dropping them (accepting the same list again drops the results).
    static long long heldBytes(const QString& path) {
        Session session;
        JobRunner jobs;
        CandidateAnalysis analysis(&session, &jobs);
        session.setFile(openWeightFile(path.toStdString()));
        analysis.start();
        if (!waitForCandidates(analysis))
            return -1;
        settle(jobs);
        const long long with = g_liveBytes;
        analysis.setCandidates(analysis.candidateList());
        settle(jobs);
        const long long without = g_liveBytes;
        return with - without;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_small = m_dir.filePath(QStringLiteral("small.safetensors"));
        m_large = m_dir.filePath(QStringLiteral("large.safetensors"));
        QVERIFY(writeSafetensors(m_small, model(1)));
        QVERIFY(writeSafetensors(m_large, model(4)));
    }

    void resultsDoNotGrowWithTheTensors() {
        heldBytes(m_small); // the first run allocates what stays for the process (thread data…)
        const long long small = heldBytes(m_small);
        const long long large = heldBytes(m_large);
        const int tensors = 1 + 2 * 4;
        const int candidates =
            static_cast<int>(CandidateAnalysis::defaultCandidates().split(QLatin1Char(',')).size());
        qInfo("results hold %lld bytes for the model, %lld for the one with 16 times the values", small,
              large);
        // Something is kept, a few hundred bytes per tensor and format, whatever the tensors' size.
        QVERIFY(small > 0);
        QVERIFY2(small <= 1024LL * tensors * candidates, qPrintable(QString::number(small)));
        // Equal but for a stray small allocation of the runtime (16 bytes seen under load); per
        // group arrays would differ by hundreds of kilobytes.
        QVERIFY2(std::llabs(large - small) <= 1024,
                 qPrintable(QStringLiteral("%1 vs %2").arg(large).arg(small)));
        // Per group of 32 the large model's mxfp4 alone would hold 16 bytes of parameters per 32
        // values: far more than everything measured here.
        const long long largeValues = 16LL * (64 + 2 * (32 + 16 + 48 + 32 * 2)) * 256;
        QVERIFY(largeValues / 2 > 10 * small);
    }

    void exportIsAJobAndEqualsTheCli() {
        Session session;
        JobRunner jobs;
        CandidateAnalysis analysis(&session, &jobs);
        session.setFile(openWeightFile(m_small.toStdString()));
        analysis.setBudget(kBudget);
        analysis.start();
        QVERIFY(waitForCandidates(analysis));
        QVERIFY(analysis.plan());

        const QString cliFile = m_dir.filePath(QStringLiteral("cli.qparams.json"));
        const CliRun cli = runCli({QStringLiteral("plan"), m_small, QStringLiteral("--budget"),
                                   QString::number(kBudget), QStringLiteral("--candidates"),
                                   analysis.candidateList(), QStringLiteral("--out-params"), cliFile});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.err));

        QDir out(m_dir.filePath(QStringLiteral("export")));
        QVERIFY(out.mkpath(QStringLiteral(".")));
        const QString ours = out.filePath(QStringLiteral("plan.qparams.json"));
        QSignalSpy written(&analysis, &CandidateAnalysis::planExported);
        QSignalSpy failed(&analysis, &CandidateAnalysis::planExportFailed);
        {
            BusyWorkers busy(jobs);
            QVERIFY(busy.allBusy());
            QCOMPARE(analysis.exportPlan(QStringLiteral("qparams"), ours), QString());
            // Returned at once, the job waiting for a worker; the GUI thread goes on with its events.
            QVERIFY(analysis.isExporting());
            QCOMPARE(jobs.runningCount(), std::max(1, QThread::idealThreadCount()) + 1);
            int ticks = 0;
            QTimer timer;
            connect(&timer, &QTimer::timeout, [&ticks] { ++ticks; });
            timer.start(10);
            QTest::qWait(200);
            QVERIFY(ticks >= 5);
            QVERIFY(analysis.isExporting());
            QVERIFY(written.isEmpty());
            QVERIFY(!QFile::exists(ours)); // nothing before the job is done
            busy.release();
            QVERIFY(QTest::qWaitFor([&] { return !analysis.isExporting(); }, 300000));
        }
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().at(1).toString()));
        QCOMPARE(written.size(), 1);
        QCOMPARE(written.first().at(0).toString(), ours);
        QCOMPARE(readAll(ours), readAll(cliFile));
        QCOMPARE(out.entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("plan.qparams.json")});

        // Stopped while it waits: no file, no temporary left, neither signal.
        const QString stopped = out.filePath(QStringLiteral("stopped.qparams.json"));
        {
            BusyWorkers busy(jobs);
            QCOMPARE(analysis.exportPlan(QStringLiteral("qparams"), stopped), QString());
            analysis.cancelExport();
            busy.release();
            QVERIFY(QTest::qWaitFor([&] { return !analysis.isExporting(); }, 300000));
        }
        settle(jobs);
        QCOMPARE(written.size(), 1);
        QVERIFY(failed.isEmpty());
        QCOMPARE(out.entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("plan.qparams.json")});

        // A failure (a directory in the way) is reported, not a crash, and names the file.
        const QString blocked = out.filePath(QStringLiteral("blocked"));
        QVERIFY(out.mkpath(QStringLiteral("blocked")));
        QCOMPARE(analysis.exportPlan(QStringLiteral("qparams"), blocked), QString());
        QVERIFY(QTest::qWaitFor([&] { return !analysis.isExporting(); }, 300000));
        QCOMPARE(failed.size(), 1);
        QVERIFY2(failed.first().at(1).toString().contains(QStringLiteral("blocked")),
                 qPrintable(failed.first().at(1).toString()));
    }

    void legendListsEveryColourOfTheMap() {
        Session session;
        JobRunner jobs;
        ModelMapView view(&session, &jobs);
        view.resize(1400, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        session.setFile(openWeightFile(m_small.toStdString()));
        QVERIFY(waitForCandidates(*view.candidates()));
        view.budgetBox()->setValue(kBudget);
        view.showPlan();
        QVERIFY(view.candidates()->plan());
        ModelMapGrid* grid = view.grid();
        QCOMPARE(grid->source(), ModelMapGrid::Source::Plan);

        // The colour of each cell: the most common one inside its box.
        const QImage map = grid->viewport()->grab().toImage();
        QHash<int, QRgb> cellColours;
        for (int row = 0; row < session.weightCount(); ++row) {
            const QRect box = grid->cellRect(row).adjusted(2, 2, -2, -2);
            QVERIFY2(!box.isEmpty() && map.rect().contains(box), qPrintable(session.tensorName(row)));
            QHash<QRgb, int> counts;
            for (int y = box.top(); y <= box.bottom(); ++y)
                for (int x = box.left(); x <= box.right(); ++x)
                    ++counts[map.pixel(x, y)];
            QRgb mode = 0;
            for (auto it = counts.cbegin(); it != counts.cend(); ++it)
                if (it.value() > counts.value(mode))
                    mode = it.key();
            cellColours.insert(row, mode);
        }

        ModelMapLegend* legend = view.legend();
        const QImage legendImage = legend->grab().toImage();
        QHash<QRgb, QString> legendColours;
        for (const QString& label : legend->paintedSwatches()) {
            const QRect r = legend->paintedSwatchRect(label);
            legendColours.insert(legendImage.pixel(r.center()), label);
        }
        QVERIFY2(legend->paintedSwatches().contains(QStringLiteral("float")),
                 qPrintable(legend->paintedSwatches().join(QStringLiteral(", "))));
        const auto onTheScale = [](QRgb colour) {
            for (int i = 0; i <= 4000; ++i) {
                const QColor c = ModelMapGrid::scaleColour(i / 4000.0);
                if (std::abs(c.red() - qRed(colour)) <= 1 && std::abs(c.green() - qGreen(colour)) <= 1 &&
                    std::abs(c.blue() - qBlue(colour)) <= 1)
                    return true;
            }
            return false;
        };
        int floatCells = 0;
        for (auto it = cellColours.cbegin(); it != cellColours.cend(); ++it) {
            const bool planned = view.candidates()->isPlanned(it.key());
            if (!planned) {
                // A norm stays float, drawn in the legend's "float" swatch colour.
                ++floatCells;
                QCOMPARE(legendColours.value(it.value()), QStringLiteral("float"));
            } else {
                QVERIFY2(onTheScale(it.value()) || legendColours.contains(it.value()),
                         qPrintable(session.tensorName(it.key()) + QStringLiteral(": ") +
                                    QColor(it.value()).name()));
            }
        }
        QCOMPARE(floatCells, 3); // two layer norms and the final one

        // Each tensor's own settings leave nothing in float: no such swatch then.
        view.sourceBox()->setCurrentIndex(0);
        QVERIFY(!legend->swatches().isEmpty());
        for (const auto& swatch : legend->swatches())
            QVERIFY(swatch.label != QStringLiteral("float"));
        jobs.cancelAll();
        jobs.waitForDone();
    }
};

QTEST_MAIN(TestCandidatePlanExport)
#include "tst_candidateplanexport.moc"
