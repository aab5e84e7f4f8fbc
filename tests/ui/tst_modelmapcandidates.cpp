// Candidate formats on the whole-model map, on a generated Llama-shaped safetensors file: every
// weight of rank 2 or more analysed in each candidate equals the core's analyzeTensor with the
// settings written out here by hand (k-quants falling back to q5_0 on rows 256 does not divide, as
// llama.cpp does) and the bits per weight derived from each format's block layout; the Pareto
// chart's points equal `quantscope-cli plan --json`'s uniform candidates and its front is the one
// found here by brute force; the plan on the map is the CLI's and meets the budget; the exports
// equal the CLI's files; chart labels never overprint; the work can be stopped and resumed. Last,
// the Error view's stored-block table of a GGUF file written here shows the hand-derived
// parameters of a Q4_K super-block and a Q8_0 block.
#include "ui/UiTestUtils.h"

#include "CliRunner.h"
#include "core/tst_io_gguf_writer.h"

#include "plots/ParetoPlot.h"
#include "plots/PlotTextBoxes.h"
#include "session/AnalysisController.h"
#include "session/CandidateAnalysis.h"
#include "session/JobRunner.h"
#include "session/Session.h"
#include "views/ErrorView.h"
#include "views/ModelMapView.h"
#include "widgets/ModelMapGrid.h"
#include "widgets/StoredBlockPanel.h"
#include "window/MainWindow.h"

#include "quantscope/analysis/PrecisionPlan.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/WeightFile.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <random>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

const QString kCandidates = QStringLiteral("int8/channel,int4/g128,q4_k,q4_0,nvfp4,mxfp4");
const QStringList kCandidateNames = kCandidates.split(QLatin1Char(','));
constexpr double kBudget = 5.0;

std::vector<float> gaussian(std::size_t count, float outlierScale, uint32_t seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> values(count);
    for (float& v : values)
        v = normal(generator);
    // A few outlier input channels (every 97th), as real LLM weights have.
    for (std::size_t i = 0; i < count; i += 97)
        values[i] *= outlierScale;
    return values;
}

// Two Llama layers of width 256 with an MLP of 288: gate and up rows hold 256 values (whole q4_k
// super-blocks), down rows 288 (llama.cpp stores them as q5_0 instead of q4_k).
std::vector<NamedTensor> smallLlama() {
    std::vector<NamedTensor> tensors;
    uint32_t seed = 7;
    const auto add = [&](const std::string& name, std::vector<int64_t> shape, float outlier) {
        std::size_t count = 1;
        for (int64_t d : shape)
            count *= static_cast<std::size_t>(d);
        tensors.push_back({name, shape, gaussian(count, outlier, ++seed)});
    };
    add("model.embed_tokens.weight", {512, 256}, 3.0f);
    for (int layer = 0; layer < 2; ++layer) {
        const std::string p = "model.layers." + std::to_string(layer) + ".";
        add(p + "input_layernorm.weight", {256}, 1.0f);
        add(p + "self_attn.q_proj.weight", {256, 256}, 4.0f + layer);
        add(p + "self_attn.k_proj.weight", {64, 256}, 12.0f);
        add(p + "self_attn.v_proj.weight", {64, 256}, 2.0f);
        add(p + "self_attn.o_proj.weight", {256, 256}, 3.0f);
        add(p + "post_attention_layernorm.weight", {256}, 1.0f);
        add(p + "mlp.gate_proj.weight", {288, 256}, 5.0f);
        add(p + "mlp.up_proj.weight", {288, 256}, 2.5f);
        add(p + "mlp.down_proj.weight", {256, 288}, 20.0f + 10.0f * layer);
    }
    add("model.norm.weight", {256}, 1.0f);
    add("lm_head.weight", {512, 256}, 6.0f);
    return tensors;
}

// The settings each candidate runs with on a tensor, written out from the formats' definitions.
QuantSpec expectedSpec(const QString& candidate, const std::vector<int64_t>& shape) {
    QuantSpec spec;
    spec.scheme = Scheme::Symmetric;
    spec.granularity = Granularity::Group;
    spec.axis = 1;
    const int64_t row = shape.back();
    if (candidate == QLatin1String("int8/channel")) {
        spec.format = QuantFormat::integer(8, true);
        spec.granularity = Granularity::Channel;
        spec.axis = 0;
    } else if (candidate == QLatin1String("int4/g128")) {
        spec.format = QuantFormat::integer(4, true);
        spec.groupSize = 128;
    } else if (candidate == QLatin1String("q4_k")) {
        spec.format = QuantFormat::parse(row % 256 == 0 ? "q4_k" : "q5_0");
        spec.groupSize = row % 256 == 0 ? 256 : 32;
    } else {
        spec.format = QuantFormat::parse(candidate.toStdString());
        spec.groupSize = candidate == QLatin1String("nvfp4") ? 16 : 32;
    }
    return spec;
}

// Stored bits per value from each layout: q4_k 144 bytes per 256, q5_0 22 per 32, q4_0 18 per 32,
// q8_0 34 per 32, mxfp4 17 bytes per 32, nvfp4 9 bytes per 16 and one float per tensor, integers
// their width plus a float32 scale per channel or group.
double expectedBits(const QString& candidate, const std::vector<int64_t>& shape) {
    const double elements = static_cast<double>(shape[0] * shape[1]);
    if (candidate == QLatin1String("int8/channel"))
        return 8.0 + 32.0 * static_cast<double>(shape[0]) / elements;
    if (candidate == QLatin1String("int4/g128")) // a float32 scale per group, the last one short
        return 4.0 + 32.0 * static_cast<double>(shape[0] * ((shape[1] + 127) / 128)) / elements;
    if (candidate == QLatin1String("q4_k"))
        return shape[1] % 256 == 0 ? 144.0 * 8 / 256 : 22.0 * 8 / 32;
    if (candidate == QLatin1String("q4_0"))
        return 18.0 * 8 / 32;
    if (candidate == QLatin1String("q8_0"))
        return 34.0 * 8 / 32;
    if (candidate == QLatin1String("mxfp4"))
        return 17.0 * 8 / 32;
    if (candidate == QLatin1String("nvfp4"))
        return 9.0 * 8 / 16 + 32.0 / elements;
    return NAN;
}

bool near(double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b));
}

QJsonObject cliPlan(const QString& path, const QString& candidates, double budget,
                    const QStringList& extra = {}) {
    const CliRun run = runCli(QStringList{QStringLiteral("plan"), path, QStringLiteral("--budget"),
                                          QString::number(budget), QStringLiteral("--candidates"), candidates,
                                          QStringLiteral("--json"), QStringLiteral("-")} +
                              extra);
    if (run.exitCode != 0)
        qWarning("%s", qPrintable(run.err));
    return QJsonDocument::fromJson(run.out.toUtf8()).object();
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// GGUF building blocks, from ggml-common.h's block layouts.
std::string half(uint16_t bits) {
    return ggufwriter::u16(bits);
}

// A Q4_K super-block: d, dmin (fp16), the eight 6-bit sub-scales and mins packed into 12 bytes
// (ggml's get_scale_min_k4 layout), then 128 bytes of nibbles (all 0x53 here).
std::string q4kBlock(uint16_t d, uint16_t dmin, const std::array<int, 8>& scales,
                     const std::array<int, 8>& mins) {
    std::string packed(12, '\0');
    for (int j = 0; j < 8; ++j) {
        const auto ls = static_cast<uint8_t>(scales[j]);
        const auto lm = static_cast<uint8_t>(mins[j]);
        if (j < 4) {
            packed[j] = static_cast<char>(ls);
            packed[j + 4] = static_cast<char>(lm);
        } else {
            packed[j + 4] = static_cast<char>((ls & 0xF) | ((lm & 0xF) << 4));
            packed[j - 4] = static_cast<char>(static_cast<uint8_t>(packed[j - 4]) | ((ls >> 4) << 6));
            packed[j] = static_cast<char>(static_cast<uint8_t>(packed[j]) | ((lm >> 4) << 6));
        }
    }
    return half(d) + half(dmin) + packed + std::string(128, '\x53');
}

// A Q8_0 block: d (fp16) and 32 int8 values.
std::string q8Block(uint16_t d) {
    std::string values;
    for (int i = 0; i < 32; ++i)
        values += static_cast<char>(i - 16);
    return half(d) + values;
}

QString tableValue(const QTableWidget* table, const QString& field) {
    for (int row = 0; row < table->rowCount(); ++row)
        if (table->item(row, 0)->text() == field)
            return table->item(row, 1)->text();
    return QStringLiteral("<no field %1>").arg(field);
}

} // namespace

class TestModelMapCandidates : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<MainWindow> m_window;

    ModelMapView* map() const { return m_window->modelMapView(); }
    CandidateAnalysis* candidates() const { return map()->candidates(); }

    // Waits until the candidates' job has ended; true when every result is in.
    static bool waitForCandidates(CandidateAnalysis* c) {
        const bool ended = QTest::qWaitFor(
            [c] { return !c->isRunning() && (c->isComplete() || !c->lastError().isEmpty()); }, 300000);
        if (!ended || !c->isComplete())
            qWarning("candidates: running %d, %d of %d done", c->isRunning(), c->doneCount(),
                     static_cast<int>(c->plannedRows().size()));
        if (!c->lastError().isEmpty())
            qWarning("%s", qPrintable(c->lastError()));
        return c->isComplete() && !c->isRunning();
    }

    // Exports the plan and waits for the job writing it; an empty string when written, else
    // the reason (refused at once, or the job failed).
    static QString exportAndWait(CandidateAnalysis* c, const QString& kind, const QString& path) {
        QSignalSpy written(c, &CandidateAnalysis::planExported);
        QSignalSpy failed(c, &CandidateAnalysis::planExportFailed);
        if (const QString error = c->exportPlan(kind, path); !error.isEmpty())
            return error;
        if (!QTest::qWaitFor([&] { return !c->isExporting(); }, 300000))
            return QStringLiteral("the export did not end");
        if (!failed.isEmpty())
            return failed.first().at(1).toString();
        return written.size() == 1 && written.first().at(0).toString() == path
                   ? QString()
                   : QStringLiteral("no planExported(%1)").arg(path);
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("llama2.safetensors"));
        QVERIFY(writeSafetensors(m_path, smallLlama()));
        m_window = std::make_unique<MainWindow>(nullptr, false);
        m_window->resize(1400, 900);
        m_window->show();
        m_window->showView(MainWindow::Map);
        QCOMPARE(candidates()->candidateList(), kCandidates); // the default set
        QSignalSpy opened(m_window->controller(), &AnalysisController::fileOpened);
        m_window->openFile(m_path);
        QVERIFY(opened.wait(20000));
        // Shown with a file open, the map analyses the candidates by itself.
        QVERIFY(candidates()->isRunning() || candidates()->isComplete());
        QVERIFY(waitForCandidates(candidates()));
    }

    void cleanupTestCase() {
        m_window->jobs()->cancelAll();
        m_window->jobs()->waitForDone();
        m_window.reset();
    }

    void resultsEqualTheCore() {
        const Session* session = m_window->session();
        const auto file = session->file();
        QCOMPARE(candidates()->plannedRows().size(), 2 + 2 * 7); // embeddings, head, 7 per layer
        for (int row : candidates()->plannedRows()) {
            const TensorInfo& info = session->info(row);
            QVERIFY(info.shape.size() == 2);
            const Tensor tensor = file->load(info.name);
            for (int c = 0; c < kCandidateNames.size(); ++c) {
                const QString name = kCandidateNames[c];
                const CandidateAnalysis::Outcome* entry = candidates()->outcome(row, c);
                QVERIFY(entry);
                const QuantSpec spec = expectedSpec(name, info.shape);
                const TensorAnalysis expected = analyzeTensor(tensor, spec);
                QCOMPARE(entry->spec.format.name(), spec.format.name());
                QCOMPARE(entry->spec.groupSize,
                         spec.granularity == Granularity::Group ? spec.groupSize : entry->spec.groupSize);
                QCOMPARE(entry->spec.axis, spec.axis);
                QVERIFY2(entry->metrics.sqnrDb == expected.metrics.sqnrDb &&
                             entry->metrics.clippedFraction == expected.metrics.clippedFraction,
                         qPrintable(QStringLiteral("%1 in %2").arg(QString::fromStdString(info.name), name)));
                const auto score = candidates()->score(row, c);
                QVERIFY(score);
                QVERIFY2(near(score->bitsPerValue, expectedBits(name, info.shape)),
                         qPrintable(QStringLiteral("%1 in %2: %3 bits")
                                        .arg(QString::fromStdString(info.name), name)
                                        .arg(score->bitsPerValue)));
                QCOMPARE(score->sqnrDb, expected.metrics.sqnrDb);
                // The llama.cpp fallback is said where it happens.
                QCOMPARE(!candidates()->note(row, c).isEmpty(),
                         name == QLatin1String("q4_k") && info.shape[1] == 288);
            }
        }
        // 1-D tensors stay float and are named so on the map.
        const int norm = session->rowOf(QStringLiteral("model.layers.0.input_layernorm.weight"));
        QVERIFY(!candidates()->isPlanned(norm));
        map()->sourceBox()->setCurrentIndex(3); // all q4_k
        QCOMPARE(map()->grid()->source(), ModelMapGrid::Source::Candidate);
        QCOMPARE(map()->grid()->sourceCandidate(), 2);
        QCOMPARE(map()->grid()->shownText(norm), QStringLiteral("float"));
        const int down = session->rowOf(QStringLiteral("model.layers.1.mlp.down_proj.weight"));
        QCOMPARE(map()->grid()->shownText(down),
                 QString::number(candidates()->outcome(down, 2)->metrics.sqnrDb, 'f', 1));
        QVERIFY(map()->isComplete());
    }

    void paretoPointsEqualTheCli() {
        const QJsonObject cli = cliPlan(m_path, kCandidates, kBudget);
        const QJsonArray listed = cli.value(QStringLiteral("candidates")).toArray();
        QCOMPARE(listed.size(), kCandidateNames.size());
        map()->budgetBox()->setValue(kBudget);
        const ParetoPlot* plot = map()->paretoPlot();
        QCOMPARE(static_cast<int>(plot->points().size()), kCandidateNames.size());
        std::vector<ParetoPlot::Point> expected;
        for (int c = 0; c < listed.size(); ++c) {
            const QJsonObject item = listed[c].toObject();
            const ParetoPlot::Point& point = plot->points()[static_cast<std::size_t>(c)];
            QCOMPARE(point.name, item.value(QStringLiteral("name")).toString());
            QVERIFY2(near(point.bitsPerWeight, item.value(QStringLiteral("bits_per_value")).toDouble()),
                     qPrintable(point.name));
            QVERIFY2(near(point.sqnrDb, item.value(QStringLiteral("weighted_sqnr_db")).toDouble()),
                     qPrintable(point.name));
            expected.push_back(point);
        }
        // The front by brute force: no other point has at most its bits and at least its SQNR.
        QList<int> front;
        for (int i = 0; i < static_cast<int>(expected.size()); ++i) {
            bool dominated = false;
            for (int j = 0; j < static_cast<int>(expected.size()); ++j) {
                const auto& a = expected[static_cast<std::size_t>(i)];
                const auto& b = expected[static_cast<std::size_t>(j)];
                if (i != j && b.bitsPerWeight <= a.bitsPerWeight && b.sqnrDb >= a.sqnrDb &&
                    (b.bitsPerWeight < a.bitsPerWeight || b.sqnrDb > a.sqnrDb))
                    dominated = true;
            }
            if (!dominated)
                front.append(i);
        }
        QList<int> shown = plot->front();
        std::sort(shown.begin(), shown.end());
        QCOMPARE(shown, front);
        QVERIFY(front.contains(
            kCandidateNames.indexOf(QStringLiteral("int8/channel")))); // the most bits and SQNR

        // The plan: the CLI's choice per tensor, its figures, within the budget.
        const auto& plan = candidates()->plan();
        QVERIFY(plan);
        QVERIFY(plan->bitsPerValue <= kBudget);
        QVERIFY(near(plan->bitsPerValue, cli.value(QStringLiteral("bits_per_value")).toDouble()));
        QVERIFY(near(plan->weightedSqnrDb, cli.value(QStringLiteral("weighted_sqnr_db")).toDouble()));
        QVERIFY(plot->planPoint());
        QVERIFY(near(plot->planPoint()->bitsPerWeight, plan->bitsPerValue));
        const QJsonArray tensors = cli.value(QStringLiteral("tensors")).toArray();
        QCOMPARE(tensors.size(), candidates()->plannedRows().size());
        for (int i = 0; i < tensors.size(); ++i) {
            const QJsonObject t = tensors[i].toObject();
            const int row = m_window->session()->rowOf(t.value(QStringLiteral("name")).toString());
            QCOMPARE(kCandidateNames[candidates()->plannedCandidate(row)],
                     t.value(QStringLiteral("candidate")).toString());
        }
    }

    void planOnTheMapMeetsTheBudget() {
        const Session* session = m_window->session();
        for (double budget : {4.4, kBudget, 6.0}) {
            map()->budgetBox()->setValue(budget);
            map()->showPlan();
            QCOMPARE(map()->grid()->source(), ModelMapGrid::Source::Plan);
            // The plan recomputed here from the per-tensor scores with the hand-derived bits.
            std::vector<TensorCandidates> scored;
            for (int row : candidates()->plannedRows()) {
                TensorCandidates t{
                    session->info(row).name, static_cast<int64_t>(session->info(row).elements), {}};
                for (int c = 0; c < kCandidateNames.size(); ++c)
                    t.scores.push_back({expectedBits(kCandidateNames[c], session->info(row).shape),
                                        candidates()->score(row, c)->sqnrDb});
                scored.push_back(t);
            }
            const PrecisionPlan expected = planPrecision(scored, budget);
            double bits = 0.0;
            double values = 0.0;
            for (int i = 0; i < candidates()->plannedRows().size(); ++i) {
                const int row = candidates()->plannedRows()[i];
                const int chosen = candidates()->plannedCandidate(row);
                QCOMPARE(chosen, static_cast<int>(expected.choice[static_cast<std::size_t>(i)]));
                bits += scored[static_cast<std::size_t>(i)]
                            .scores[static_cast<std::size_t>(chosen)]
                            .bitsPerValue *
                        static_cast<double>(scored[static_cast<std::size_t>(i)].elements);
                values += static_cast<double>(scored[static_cast<std::size_t>(i)].elements);
                // The cell names the format the plan chose (q5_0 where q4_k fell back); a cell
                // outside the blocks names its tensor first.
                const QString format =
                    QString::fromStdString(candidates()->outcome(row, chosen)->spec.format.name());
                QVERIFY2(map()->grid()->shownText(row).startsWith(format) ||
                             map()->grid()->shownText(row).contains(QStringLiteral("  ") + format),
                         qPrintable(map()->grid()->shownText(row) + QStringLiteral(" / ") + format));
            }
            QVERIFY2(bits / values <= budget + 1e-12, qPrintable(QString::number(bits / values)));
        }
        // Below the cheapest choice there is no plan, and the view says why.
        map()->budgetBox()->setValue(1.0);
        QVERIFY(!candidates()->plan());
        QVERIFY(candidates()->planError().contains(QStringLiteral("budget")));
        QVERIFY(!candidates()
                     ->exportPlan(QStringLiteral("qparams"), m_dir.filePath(QStringLiteral("none.json")))
                     .isEmpty());
        QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("none.json"))));
        map()->budgetBox()->setValue(kBudget);
        QVERIFY(candidates()->plan());
    }

    void labelsDoNotOverprint() {
        ParetoPlot* plot = map()->paretoPlot();
        for (const QSize size : {QSize(900, 600), QSize(480, 320), QSize(320, 240)}) {
            plot->resize(size);
            plot->replot();
            const QVector<QRectF> rects = plot->visibleLabelRects();
            for (int i = 0; i < rects.size(); ++i)
                for (int j = i + 1; j < rects.size(); ++j)
                    QVERIFY2(!rects[i].intersects(rects[j]),
                             qPrintable(plot->visibleLabels().join(QStringLiteral(", "))));
            const QStringList problems = PlotTextBoxes::problems(plot, QStringLiteral("pareto"));
            QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        }
        plot->resize(900, 600);
        plot->replot();
        QVERIFY(plot->visibleLabels().contains(QStringLiteral("plan")));
        QVERIFY(plot->visibleLabels().contains(QStringLiteral("int8/channel")));

        // Crowded points (three at one place): the labels left are still apart.
        ParetoPlot crowded;
        crowded.resize(500, 360);
        crowded.setPoints({{QStringLiteral("aaaa"), 4.5, 20.0},
                           {QStringLiteral("bbbb"), 4.5, 20.0},
                           {QStringLiteral("cccc"), 4.5, 20.0},
                           {QStringLiteral("dddd"), 4.52, 20.1}},
                          ParetoPlot::Point{QStringLiteral("plan"), 4.51, 20.05}, 4.5);
        crowded.replot();
        const QVector<QRectF> rects = crowded.visibleLabelRects();
        QVERIFY(rects.size() >= 2);
        for (int i = 0; i < rects.size(); ++i)
            for (int j = i + 1; j < rects.size(); ++j)
                QVERIFY(!rects[i].intersects(rects[j]));
    }

    void paretoFrontByHand() {
        // A (4, 10), B (4.5, 12), C (4.5, 11) behind B, D (5, 11.5) behind B, E (8, 30).
        const std::vector<ParetoPlot::Point> points{{QStringLiteral("A"), 4, 10},
                                                    {QStringLiteral("B"), 4.5, 12},
                                                    {QStringLiteral("C"), 4.5, 11},
                                                    {QStringLiteral("D"), 5, 11.5},
                                                    {QStringLiteral("E"), 8, 30}};
        QCOMPARE(ParetoPlot::paretoFront(points), (QList<int>{0, 1, 4}));
    }

    void exportsEqualTheCli() {
        // llama.cpp can store only ggml types: a plan among three of them.
        const QString list = QStringLiteral("q4_k,q4_0,q8_0");
        map()->candidatesEdit()->setText(list);
        emit map()->candidatesEdit()->editingFinished();
        QCOMPARE(candidates()->candidateList(), list);
        QVERIFY(waitForCandidates(candidates()));
        map()->budgetBox()->setValue(kBudget);
        const QString llama = m_dir.filePath(QStringLiteral("cli.tensor-types.txt"));
        const QString compressed = m_dir.filePath(QStringLiteral("cli.compressed.json"));
        const QString qparams = m_dir.filePath(QStringLiteral("cli.qparams.json"));
        const QJsonObject cli =
            cliPlan(m_path, list, kBudget,
                    {QStringLiteral("--llama-tensor-types"), llama, QStringLiteral("--compressed-tensors"),
                     compressed, QStringLiteral("--out-params"), qparams});
        QVERIFY(!cli.isEmpty());
        for (const auto& [kind, cliFile] : {std::pair{QStringLiteral("llama"), llama},
                                            std::pair{QStringLiteral("compressed-tensors"), compressed},
                                            std::pair{QStringLiteral("qparams"), qparams}}) {
            const QString ours = m_dir.filePath(QStringLiteral("app.") + kind);
            const QString error = exportAndWait(candidates(), kind, ours);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            const QByteArray a = readAll(ours);
            const QByteArray b = readAll(cliFile);
            QVERIFY(!b.isEmpty());
            // Byte for byte, the qparams file too: the parameters the results do not keep are
            // computed again by the export, and the source (the same path) is hashed alike.
            QCOMPARE(a, b);
        }
        QVERIFY(readAll(m_dir.filePath(QStringLiteral("app.llama"))).contains("=q5_0\n") ||
                readAll(m_dir.filePath(QStringLiteral("app.llama"))).contains("=q8_0\n"));
        // An int8/channel choice cannot go to llama.cpp: a clear error naming the tensor.
        QCOMPARE(candidates()->setCandidates(QStringLiteral("int8/channel")), QString());
        candidates()->start();
        QVERIFY(waitForCandidates(candidates()));
        map()->budgetBox()->setValue(9.0);
        const QString error =
            candidates()->exportPlan(QStringLiteral("llama"), m_dir.filePath(QStringLiteral("x.txt")));
        QVERIFY2(error.contains(QStringLiteral("model.embed_tokens.weight chose int8")) &&
                     error.contains(QStringLiteral("allowed: q8_0")),
                 qPrintable(error));
    }

    void badListIsRefused() {
        const QString before = candidates()->candidateList();
        map()->candidatesEdit()->setText(QStringLiteral("q4_k,int4/g0x"));
        emit map()->candidatesEdit()->editingFinished();
        QCOMPARE(candidates()->candidateList(), before);
        const QString error = candidates()->setCandidates(QStringLiteral("q4_k,int4/g0x"));
        QVERIFY2(error.contains(QStringLiteral("int4/g0x")) &&
                     error.contains(QStringLiteral("allowed: channel, tensor, gN")),
                 qPrintable(error));
        QVERIFY(candidates()
                    ->setCandidates(QStringLiteral("q4_k/g64"))
                    .contains(QStringLiteral("brings its own blocks")));
        QVERIFY(
            candidates()->setCandidates(QStringLiteral(",,")).contains(QStringLiteral("names no format")));
    }

    void stopAndResume() {
        QCOMPARE(candidates()->setCandidates(QStringLiteral("int8/channel,q8_0")), QString());
        candidates()->start();
        QVERIFY(candidates()->isRunning());
        candidates()->cancel();
        QVERIFY(QTest::qWaitFor([&] { return !candidates()->isRunning(); }, 60000));
        QVERIFY(candidates()->lastError().isEmpty()); // stopping is no failure
        candidates()->start();
        QVERIFY(waitForCandidates(candidates()));
        // Resumed results are those of an uninterrupted run.
        const int row = candidates()->plannedRows().back();
        const Tensor tensor = m_window->session()->file()->load(m_window->session()->info(row).name);
        QCOMPARE(candidates()->outcome(row, 1)->metrics.sqnrDb,
                 analyzeTensor(tensor, expectedSpec(QStringLiteral("q8_0"), tensor.shape())).metrics.sqnrDb);
    }

    void storedBlockTable() {
        namespace gw = ggufwriter;
        gw::Writer writer;
        const std::array<int, 8> scales{63, 1, 32, 17, 48, 5, 60, 0};
        const std::array<int, 8> mins{0, 63, 15, 16, 31, 47, 2, 62};
        // ne = [256, 2]: two rows of one Q4_K super-block each; d, dmin = 0.5, 0.25 then 1, -2.
        writer.tensor({"blk.0.attn_q.weight",
                       {256, 2},
                       12,
                       q4kBlock(0x3800, 0x3400, scales, mins) + q4kBlock(0x3C00, 0xC000, mins, scales),
                       {}});
        // ne = [32, 2]: two Q8_0 blocks with d = 0.25 and -0.5.
        writer.tensor({"blk.0.ffn_down.weight", {32, 2}, 8, q8Block(0x3400) + q8Block(0xB800), {}});
        writer.tensor({"blk.0.attn_norm.weight", {4}, 0, std::string(16, '\0'), {}});
        const QString path = m_dir.filePath(QStringLiteral("blocks.gguf"));
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly));
        const std::string bytes = writer.build();
        out.write(bytes.data(), static_cast<qint64>(bytes.size()));
        out.close();

        QSignalSpy opened(m_window->controller(), &AnalysisController::fileOpened);
        m_window->openFile(path);
        QVERIFY(opened.wait(20000));
        m_window->showView(MainWindow::Error);
        Session* session = m_window->session();
        StoredBlockPanel* panel = m_window->errorView()->storedBlocks();

        session->setCurrentRow(session->rowOf(QStringLiteral("blk.0.attn_q.weight")));
        QVERIFY(panel->isVisible());
        QCOMPARE(panel->blockCount(), uint64_t{2});
        const QTableWidget* table = panel->table();
        QCOMPARE(tableValue(table, QStringLiteral("d")), QStringLiteral("0.5"));
        QCOMPARE(tableValue(table, QStringLiteral("dmin")), QStringLiteral("0.25"));
        QCOMPARE(tableValue(table, QStringLiteral("scales")), QStringLiteral("63, 1, 32, 17, 48, 5, 60, 0"));
        QCOMPARE(tableValue(table, QStringLiteral("mins")), QStringLiteral("0, 63, 15, 16, 31, 47, 2, 62"));
        // The effective sub-block scales: d × scale.
        QCOMPARE(tableValue(table, QStringLiteral("sub_scales")),
                 QStringLiteral("31.5, 0.5, 16, 8.5, 24, 2.5, 30, 0"));
        panel->blockBox()->setValue(1);
        QCOMPARE(tableValue(table, QStringLiteral("d")), QStringLiteral("1"));
        QCOMPARE(tableValue(table, QStringLiteral("dmin")), QStringLiteral("-2"));
        QCOMPARE(tableValue(table, QStringLiteral("scales")), QStringLiteral("0, 63, 15, 16, 31, 47, 2, 62"));
        QCOMPARE(panel->blockBox()->maximum(), 1);

        session->setCurrentRow(session->rowOf(QStringLiteral("blk.0.ffn_down.weight")));
        QVERIFY(panel->isVisible());
        QCOMPARE(panel->block(), 0);
        QCOMPARE(tableValue(table, QStringLiteral("d")), QStringLiteral("0.25"));
        panel->setBlock(1);
        QCOMPARE(tableValue(table, QStringLiteral("d")), QStringLiteral("-0.5"));

        session->setCurrentRow(session->rowOf(QStringLiteral("blk.0.attn_norm.weight")));
        QVERIFY(!panel->isVisible());
    }
};

QTEST_MAIN(TestModelMapCandidates)
#include "tst_modelmapcandidates.moc"
