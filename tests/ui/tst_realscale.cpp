// The app on files shaped like real models: every tensor's SQNR fills in by itself after opening a
// 190-tensor LLM-shaped file (the worst first when sorted), the tensor browser shows names elided
// in the middle in a dock wide enough for the SQNR column and keeps its widths, a closed dock comes
// back from the View menu, and ONNX weights named by the exporter are shown by their layer.
#include "ui/UiTestUtils.h"

#include "plots/LayerSqnrChart.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/Session.h"
#include "widgets/TensorBrowser.h"
#include "widgets/TensorFilterProxy.h"
#include "widgets/TensorTableModel.h"
#include "window/MainWindow.h"

#include "quantscope/analysis/TensorResultBuilder.h"
#include "quantscope/io/WeightFile.h"

#include <QAction>
#include <QDockWidget>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenuBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <limits>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

// 21 decoder layers of 9 tensors each and the embedding: 190 tensors with a Llama's names. One
// layer's down projection has a large outlier (the worst SQNR), one norm is all zero.
std::vector<NamedTensor> llamaShapedTensors() {
    std::vector<NamedTensor> tensors;
    tensors.push_back({"model.embed_tokens.weight", {64, 32}, gaussianWithOutliers(64 * 32, 0.02f, 1, 0)});
    const char* const projections[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                       "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                       "mlp.down_proj"};
    uint32_t seed = 100;
    for (int layer = 0; layer < 21; ++layer) {
        const std::string prefix = "model.layers." + std::to_string(layer) + ".";
        for (const char* projection : projections) {
            if (layer == 13 && std::string(projection) == "mlp.down_proj") {
                // One outlier of 128 σ in 16384 values: the step grows 10× and the small values
                // round coarsely (≈ 19.5 dB at int8 min-max, the others ≈ 33 dB; numpy agrees).
                std::vector<float> values = gaussianWithOutliers(128 * 128, 0.02f, ++seed, 0);
                values[0] = 128 * 0.02f;
                tensors.push_back({prefix + projection + ".weight", {128, 128}, values});
                continue;
            }
            tensors.push_back(
                {prefix + projection + ".weight", {16, 32}, gaussianWithOutliers(16 * 32, 0.02f, ++seed, 2)});
        }
        tensors.push_back(
            {prefix + "input_layernorm.weight",
             {32},
             layer == 5 ? std::vector<float>(32, 0.0f) : gaussianWithOutliers(32, 1.0f, ++seed, 0)});
        tensors.push_back(
            {prefix + "post_attention_layernorm.weight", {32}, gaussianWithOutliers(32, 1.0f, ++seed, 0)});
    }
    return tensors;
}

bool everyRowHasSqnr(const TensorTableModel& model) {
    for (int row = 0; row < model.rowCount(); ++row)
        if (model.index(row, TensorTableModel::Sqnr).data().toString().isEmpty())
            return false;
    return true;
}

} // namespace

class TestRealScale : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_llama;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_llama = m_dir.filePath(QStringLiteral("llama_shaped.safetensors"));
        QVERIFY(writeSafetensors(m_llama, llamaShapedTensors()));
    }

    void everySqnrFillsInWithoutUserAction() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(m_llama);
        QVERIFY(opened.wait(20000));
        TensorTableModel* model = window.tensorBrowser()->model();
        QCOMPARE(model->rowCount(), 190);
        // No click, no menu: the rows fill in from the background analysis.
        QTRY_VERIFY_WITH_TIMEOUT(everyRowHasSqnr(*model), 60000);

        // The numbers are the core's for the tensor and its settings.
        const auto file = openWeightFile(m_llama.toStdString());
        Session* session = window.session();
        for (const int row : {0, 50, 189}) {
            const auto expected = TensorResultBuilder::summarize(file->load(session->info(row).name),
                                                                 session->settings(row), {});
            const auto shown = session->summaryMetrics(row);
            QVERIFY(shown);
            QVERIFY2(std::abs(shown->sqnrDb - expected.metrics.sqnrDb) <=
                         1e-9 * std::abs(expected.metrics.sqnrDb),
                     qPrintable(QStringLiteral("%1 vs %2").arg(shown->sqnrDb).arg(expected.metrics.sqnrDb)));
            QCOMPARE(shown->clippedFraction, expected.metrics.clippedFraction);
        }

        // Sorted by SQNR, the worst tensor (the outlier-heavy down projection) comes first and the
        // all-zero norm, whose SQNR is undefined, last among the analysed ones with a reason.
        QTableView* view = window.tensorBrowser()->view();
        view->sortByColumn(TensorTableModel::Sqnr, Qt::AscendingOrder);
        double worst = std::numeric_limits<double>::infinity();
        int worstRow = -1;
        for (int row = 0; row < session->tensorCount(); ++row)
            if (const auto m = session->summaryMetrics(row);
                m && std::isfinite(m->sqnrDb) && m->sqnrDb < worst) {
                worst = m->sqnrDb;
                worstRow = row;
            }
        QCOMPARE(session->tensorName(worstRow), QStringLiteral("model.layers.13.mlp.down_proj.weight"));
        const QModelIndex top = view->model()->index(0, TensorTableModel::Name);
        QCOMPARE(top.data(Qt::ToolTipRole).toString(),
                 QStringLiteral("model.layers.13.mlp.down_proj.weight"));
        const int zeroRow = session->rowOf(QStringLiteral("model.layers.5.input_layernorm.weight"));
        const QModelIndex zero = model->index(zeroRow, TensorTableModel::Sqnr);
        QCOMPARE(zero.data().toString(), QStringLiteral("zero signal"));
        QVERIFY(zero.data(Qt::ToolTipRole).toString().contains(QStringLiteral("zero")));
    }

    void analysisCanBeCancelled() {
        Session session;
        JobRunner jobs;
        AnalysisController controller(&session, &jobs);
        QSignalSpy started(&jobs, &JobRunner::started);
        session.setFile(openWeightFile(m_llama.toStdString()));
        // The analysis of every tensor starts by itself, with a label for the status bar.
        const auto analysisStarted = [&] {
            for (const auto& arguments : std::as_const(started))
                if (arguments.at(1).toString() == QStringLiteral("Analysing 190 tensor(s)") ||
                    arguments.at(1).toString() == QStringLiteral("Analysing 189 tensor(s)"))
                    return true;
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(analysisStarted(), 10000);
        jobs.cancelAll();
        QTRY_COMPARE_WITH_TIMEOUT(jobs.runningCount(), 0, 20000);
        // Cancelled work leaves rows without metrics rather than stale ones; Analyse all finishes.
        controller.analyzeAll();
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (int row = 0; row < session.tensorCount(); ++row)
                    if (!session.summaryMetrics(row))
                        return false;
                return true;
            }(),
            60000);
    }

    void browserIsWideEnoughAndElidesInTheMiddle() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(m_llama);
        QVERIFY(opened.wait(20000));
        QTableView* view = window.tensorBrowser()->view();
        QCOMPARE(view->textElideMode(), Qt::ElideMiddle);
        QHeaderView* header = view->horizontalHeader();
        // The longest name fits (it is under the 44-character cap) and the SQNR and clipped
        // columns are inside the dock's visible width.
        const QString longest = QStringLiteral("model.layers.20.post_attention_layernorm.weight");
        QVERIFY(header->sectionSize(TensorTableModel::Name) >=
                    view->fontMetrics().horizontalAdvance(longest) ||
                header->sectionSize(TensorTableModel::Name) >= view->fontMetrics().averageCharWidth() * 44);
        QTRY_VERIFY(window.browserDock()->width() >= window.tensorBrowser()->preferredWidth() - 8);
        const int clippedRight = header->sectionViewportPosition(TensorTableModel::Clipped) +
                                 header->sectionSize(TensorTableModel::Clipped);
        QVERIFY2(clippedRight <= view->viewport()->width(),
                 qPrintable(QStringLiteral("%1 > %2").arg(clippedRight).arg(view->viewport()->width())));

        // A width the user chose survives a restart (the header's state) and a new file.
        header->resizeSection(TensorTableModel::Name, 150);
        const QByteArray saved = window.tensorBrowser()->saveColumns();
        MainWindow second(nullptr, false);
        second.tensorBrowser()->restoreColumns(saved);
        QCOMPARE(second.tensorBrowser()->view()->horizontalHeader()->sectionSize(TensorTableModel::Name),
                 150);
        QSignalSpy reopened(second.controller(), &AnalysisController::fileOpened);
        second.openFile(m_llama);
        QVERIFY(reopened.wait(20000));
        QCOMPARE(second.tensorBrowser()->view()->horizontalHeader()->sectionSize(TensorTableModel::Name),
                 150);
    }

    void closedDockComesBackFromTheViewMenu() {
        MainWindow window(nullptr, false);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.browserDock()->close();
        QTRY_VERIFY(!window.browserDock()->isVisible());
        QAction* restore = nullptr;
        for (QAction* menu : window.menuBar()->actions())
            if (menu->text().remove(QLatin1Char('&')) == QStringLiteral("View"))
                for (QAction* action : menu->menu()->actions())
                    if (action->text().remove(QLatin1Char('&')) == QStringLiteral("Tensors panel"))
                        restore = action;
        QVERIFY(restore);
        restore->trigger();
        QTRY_VERIFY(window.browserDock()->isVisible());
    }

    void onnxWeightsAreShownByTheirLayer() {
        // resnet_op13_b1.onnx names its conv weights onnx::Conv_90…; node /stem/stem.0/Conv reads
        // onnx::Conv_90 at input 1 and onnx::Conv_91 at input 2 (checked with the onnx package).
        Session session;
        TensorTableModel model(&session);
        TensorFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setFilterRole(TensorTableModel::FilterRole);
        session.setFile(openWeightFile(
            QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/resnet_op13_b1.onnx").toStdString()));
        const int weight = session.rowOf(QStringLiteral("onnx::Conv_90"));
        const int bias = session.rowOf(QStringLiteral("onnx::Conv_91"));
        QVERIFY(weight >= 0 && bias >= 0);
        QCOMPARE(model.index(weight, TensorTableModel::Name).data().toString(),
                 QStringLiteral("/stem/stem.0 · weight"));
        QCOMPARE(model.index(bias, TensorTableModel::Name).data().toString(),
                 QStringLiteral("/stem/stem.0 · bias"));
        const QString tip = model.index(weight, TensorTableModel::Name).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("onnx::Conv_90")) &&
                     tip.contains(QStringLiteral("/stem/stem.0/Conv")),
                 qPrintable(tip));
        // The filter finds a weight by its layer and by its own name.
        proxy.setFilterFixedString(QStringLiteral("layer2/downsample"));
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setFilterFixedString(QStringLiteral("onnx::Conv_90"));
        QCOMPARE(proxy.rowCount(), 1);

        // A module's own name read by an op that gives it no role stays as it is.
        session.setFile(openWeightFile(
            QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/encoder_op13_b1.onnx").toStdString()));
        const int qBias = session.rowOf(QStringLiteral("q.bias"));
        QCOMPARE(model.index(qBias, TensorTableModel::Name).data().toString(), QStringLiteral("q.bias"));
        const int qWeight = session.rowOf(QStringLiteral("onnx::MatMul_121"));
        QCOMPARE(model.index(qWeight, TensorTableModel::Name).data().toString(),
                 QStringLiteral("/q · weight"));
    }

    void layerChartLabelsNeverOverlap() {
        // A 60-layer model with ResNet/transformer-like names; layer 41 quantizes worst.
        std::vector<LayerSqnrChart::Layer> layers;
        for (int i = 0; i < 60; ++i) {
            const double local = i == 41 ? 3.5 : 20.0 + (i * 7 % 23) + 0.001 * i;
            layers.push_back(
                {QStringLiteral("/model/layers.%1/mlp/down_proj/MatMul").arg(i), local, 45.0 - 0.4 * i});
        }
        layers[7].local = std::nullopt; // "exact": no bar, still a row
        for (const QSize size : {QSize(500, 300), QSize(700, 480), QSize(900, 1000), QSize(300, 200)}) {
            LayerSqnrChart chart;
            chart.resize(size);
            chart.show();
            QVERIFY(QTest::qWaitForWindowExposed(&chart));
            chart.setLayers(QStringLiteral("SQNR"), layers);
            QCOMPARE(chart.layerCount(), 60);
            const QVector<QRectF> rects = chart.visibleLabelRects();
            QVERIFY(!rects.isEmpty());
            QCOMPARE(rects.size(), chart.visibleCount());
            QVERIFY2(chart.visibleCount() < 60, "60 rows never fit at these heights: the chart must scroll");
            for (int a = 0; a < rects.size(); ++a) {
                QVERIFY(rects[a].top() >= 0 && rects[a].bottom() <= chart.height());
                for (int b = a + 1; b < rects.size(); ++b)
                    QVERIFY2(!rects[a].intersects(rects[b]),
                             qPrintable(QStringLiteral("labels %1 and %2 overlap at %3x%4")
                                            .arg(a)
                                            .arg(b)
                                            .arg(size.width())
                                            .arg(size.height())));
            }
            // Scrolling reaches the last layer; selecting a layer brings it into view.
            chart.setFirstVisible(1000);
            QCOMPARE(chart.firstVisible() + chart.visibleCount(), 60);
            chart.setSelectedLayer(3);
            QVERIFY(chart.firstVisible() <= 3 && 3 < chart.firstVisible() + chart.visibleCount());
        }
        LayerSqnrChart chart;
        chart.setLayers(QStringLiteral("SQNR"), layers);
        // Five worst (a tenth of 60, at most five): layer 41 (3.5 dB), the ~20 dB ones (i·7 mod 23 = 0
        // at i = 0, 23, 46) and the lowest ~21 dB one (i = 10), in layer order.
        QCOMPARE(chart.worstLayers(), (QList<int>{0, 10, 23, 41, 46}));
    }
};

QTEST_MAIN(TestRealScale)
#include "tst_realscale.moc"
