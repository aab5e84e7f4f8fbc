// The whole-model map on a generated LLM-named safetensors file: the grid has a row per block and
// a column per role, fills in from the background analysis, its colours order as the tensors'
// SQNRs (computed here by the core, independently of the map), hover tells a tensor's details,
// a click selects the tensor, and an 80-layer model scrolls to the selected tensor.
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/Session.h"
#include "views/ModelMapView.h"
#include "widgets/ModelMapGrid.h"
#include "widgets/ModelMapLegend.h"
#include "window/MainWindow.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/WeightFile.h"

#include <QApplication>
#include <QComboBox>
#include <QHelpEvent>
#include <QImage>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>

#include <cmath>
#include <map>
#include <random>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

const QStringList kRoles{QStringLiteral("norm in"), QStringLiteral("q"),  QStringLiteral("k"),
                         QStringLiteral("v"),       QStringLiteral("o"),  QStringLiteral("norm post-attn"),
                         QStringLiteral("gate"),    QStringLiteral("up"), QStringLiteral("down")};
const char* const kModules[] = {"input_layernorm",  "self_attn.q_proj", "self_attn.k_proj",
                                "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm",
                                "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};

// Gaussian values with one outlier of `outlier` standard deviations: the larger the outlier, the
// coarser an int8 per-tensor grid, so each tensor gets its own SQNR.
std::vector<float> withOutlier(std::size_t count, float outlier, uint32_t seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> values(count);
    for (float& v : values)
        v = normal(generator);
    values[count / 3] = outlier;
    return values;
}

// A Llama-named model: per layer the input norm, q, k, v, o, the post-attention norm, gate, up
// and down; then the embeddings, the final norm and the head outside the blocks.
std::vector<NamedTensor> llamaModel(int layers, int64_t width) {
    std::vector<NamedTensor> tensors;
    const auto n = static_cast<std::size_t>(width);
    tensors.push_back({"model.embed_tokens.weight", {2 * width, width}, withOutlier(2 * n * n, 9.0f, 1)});
    uint32_t seed = 10;
    for (int layer = 0; layer < layers; ++layer)
        for (int m = 0; m < 9; ++m) {
            const std::string name = "model.layers." + std::to_string(layer) + "." + kModules[m] + ".weight";
            ++seed;
            const float outlier = 4.0f + static_cast<float>((seed * 37) % 97) * 2.0f;
            if (m == 0 || m == 5) {
                std::vector<float> norm = withOutlier(n, outlier / 4.0f, seed);
                for (float& v : norm)
                    v = 1.0f + 0.1f * v;
                tensors.push_back({name, {width}, std::move(norm)});
            } else {
                tensors.push_back({name, {width, width}, withOutlier(n * n, outlier, seed)});
            }
        }
    tensors.push_back({"model.norm.weight", {width}, withOutlier(n, 2.0f, 3)});
    for (float& v : tensors.back().values)
        v = 1.0f + 0.05f * v;
    tensors.push_back({"lm_head.weight", {2 * width, width}, withOutlier(2 * n * n, 30.0f, 2)});
    return tensors;
}

// Lightness of a pixel as the sum of its channels; the map's scale grows in every channel sum
// from worst to best.
int lightness(QRgb pixel) {
    return qRed(pixel) + qGreen(pixel) + qBlue(pixel);
}

} // namespace

class TestModelMap : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    static bool openAndWaitForMap(MainWindow& window, const QString& path) {
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(path);
        if (!opened.wait(20000))
            return false;
        return QTest::qWaitFor([&] { return window.modelMapView()->isComplete(); }, 60000);
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void gridOfLayersAndRoles() {
        const QString path = m_dir.filePath(QStringLiteral("llama4.safetensors"));
        const std::vector<NamedTensor> tensors = llamaModel(4, 32);
        QVERIFY(writeSafetensors(path, tensors));
        MainWindow window(nullptr, false);
        window.resize(1400, 900);
        window.show();
        window.showView(MainWindow::Map);
        QVERIFY(openAndWaitForMap(window, path));
        Session* session = window.session();
        ModelMapGrid* grid = window.modelMapView()->grid();

        // 4 layer rows, the roles as columns in block order, the rest listed apart.
        QCOMPARE(grid->layerRowCount(), 4);
        for (int layer = 0; layer < 4; ++layer)
            QCOMPARE(grid->layerAt(layer), layer);
        QCOMPARE(grid->columns(), kRoles);
        for (int layer = 0; layer < 4; ++layer)
            for (int c = 0; c < 9; ++c)
                QCOMPARE(
                    session->tensorName(grid->tensorAt(layer, c)),
                    QStringLiteral("model.layers.%1.%2.weight").arg(layer).arg(QLatin1String(kModules[c])));
        QList<QString> others;
        for (int row : grid->otherTensors())
            others.append(session->tensorName(row));
        QCOMPARE(others,
                 (QList<QString>{QStringLiteral("model.embed_tokens.weight"),
                                 QStringLiteral("model.norm.weight"), QStringLiteral("lm_head.weight")}));
        QCOMPARE(grid->mappedCount(), static_cast<int>(tensors.size()));
        QCOMPARE(grid->knownCount(), static_cast<int>(tensors.size()));

        // Each tensor's SQNR with its settings, computed by the core from the file.
        const auto file = openWeightFile(path.toStdString());
        std::map<int, double> sqnr;
        for (int row = 0; row < session->weightCount(); ++row) {
            const ErrorMetrics m =
                analyzeTensor(file->load(session->info(row).name), session->settings(row).spec).metrics;
            QVERIFY2(std::isfinite(m.sqnrDb), session->info(row).name.c_str());
            QCOMPARE(session->summaryMetrics(row)->sqnrDb, m.sqnrDb);
            sqnr[row] = m.sqnrDb;
        }
        double lowest = 1e9;
        double highest = -1e9;
        for (const auto& [row, db] : sqnr) {
            lowest = std::min(lowest, db);
            highest = std::max(highest, db);
        }
        QVERIFY2(highest - lowest > 20.0, "the generated tensors should span a wide SQNR range");

        // The colours drawn order as the SQNRs do: a better tensor is never darker, and clearly
        // better (by 2 dB) is lighter.
        const QImage image = grid->viewport()->grab().toImage();
        std::map<int, int> light;
        for (const auto& [row, db] : sqnr) {
            const QRect cell = grid->cellRect(row);
            QVERIFY(image.rect().contains(cell));
            light[row] = lightness(image.pixel(cell.left() + 6, cell.center().y()));
        }
        int pairs = 0;
        for (const auto& [a, dbA] : sqnr)
            for (const auto& [b, dbB] : sqnr) {
                if (dbA + 0.3 < dbB) {
                    QVERIFY2(light[a] <= light[b],
                             qPrintable(QStringLiteral("%1 (%2 dB) is lighter than %3 (%4 dB)")
                                            .arg(session->tensorName(a))
                                            .arg(dbA)
                                            .arg(session->tensorName(b))
                                            .arg(dbB)));
                }
                if (dbA + 2.0 < dbB) {
                    QVERIFY(light[a] < light[b]);
                    ++pairs;
                }
            }
        QVERIFY(pairs > 200);
        // The ends of the scale are the model's worst and best SQNR.
        QCOMPARE(window.modelMapView()->legend()->worstText(),
                 QStringLiteral("%1 dB").arg(lowest, 0, 'f', 1));
        QCOMPARE(window.modelMapView()->legend()->bestText(),
                 QStringLiteral("%1 dB").arg(highest, 0, 'f', 1));

        // Hover: the tensor's name, shape, format and SQNR.
        const int down2 = grid->tensorAt(2, 8);
        const QPoint point = grid->cellRect(down2).center();
        QHelpEvent help(QEvent::ToolTip, point, grid->viewport()->mapToGlobal(point));
        QApplication::sendEvent(grid->viewport(), &help);
        QTRY_VERIFY(QToolTip::isVisible());
        const QString tip = QToolTip::text();
        QVERIFY2(tip.contains(QStringLiteral("model.layers.2.mlp.down_proj.weight")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("[32, 32]")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("int8 affine, per tensor")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("%1 dB").arg(sqnr[down2], 0, 'f', 2)), qPrintable(tip));
        QToolTip::hideText();

        // A click makes the tensor the session's current one, in a block and outside.
        QVERIFY(session->currentRow() != down2);
        QTest::mouseClick(grid->viewport(), Qt::LeftButton, {}, point);
        QCOMPARE(session->currentRow(), down2);
        QCOMPARE(session->selectedRows(), QList<int>{down2});
        const int head = grid->otherTensors()[2];
        QTest::mouseClick(grid->viewport(), Qt::LeftButton, {}, grid->cellRect(head).center());
        QCOMPARE(session->tensorName(session->currentRow()), QStringLiteral("lm_head.weight"));
        // Between the cells (the layer labels) nothing changes.
        QTest::mouseClick(grid->viewport(), Qt::LeftButton, {},
                          QPoint(5, grid->cellRect(down2).center().y()));
        QCOMPARE(session->currentRow(), head);

        // Clipped share: min/max calibration clips nothing, so the whole scale is 0 %.
        window.modelMapView()->metricBox()->setCurrentIndex(1);
        QCOMPARE(grid->metric(), ModelMapGrid::Metric::Clipped);
        QCOMPARE(window.modelMapView()->legend()->bestText(), QStringLiteral("0.00 %"));
        QCOMPARE(window.modelMapView()->legend()->worstText(), QStringLiteral("0.00 %"));
    }

    void eightyLayersScrollToTheSelection() {
        const QString path = m_dir.filePath(QStringLiteral("llama80.safetensors"));
        QVERIFY(writeSafetensors(path, llamaModel(80, 8)));
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        window.showView(MainWindow::Map);
        QVERIFY(openAndWaitForMap(window, path));
        ModelMapGrid* grid = window.modelMapView()->grid();
        QCOMPARE(grid->layerRowCount(), 80);
        QCOMPARE(grid->layerAt(79), 79);
        // 80 rows do not fit in 720 pixels: the cells scroll, each row stays readable.
        QVERIFY(grid->verticalScrollBar()->maximum() > 0);
        QVERIFY(grid->cellRect(grid->tensorAt(0, 0)).height() >= grid->fontMetrics().height());
        // Selecting a tensor of the last layer elsewhere brings its cell into view.
        const int last = grid->tensorAt(79, 8);
        QVERIFY(!grid->viewport()->rect().contains(grid->cellRect(last)));
        window.session()->setCurrentRow(last);
        QVERIFY(grid->viewport()->rect().contains(grid->cellRect(last)));
        QCOMPARE(grid->tensorAtPoint(grid->cellRect(last).center()), last);
    }

    void namesWithoutBlocksAreAList() {
        // The demo's MLP has no blocks: no layer rows, every tensor in the plain list.
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        window.showView(MainWindow::Map);
        QVERIFY(openAndWaitForMap(window, demoWeights()));
        ModelMapGrid* grid = window.modelMapView()->grid();
        QCOMPARE(grid->layerRowCount(), 0);
        QVERIFY(grid->columns().isEmpty());
        QCOMPARE(grid->otherTensors().size(), window.session()->weightCount());
        for (int row = 0; row < window.session()->weightCount(); ++row)
            QVERIFY(!grid->cellRect(row).isEmpty());
    }
};

QTEST_MAIN(TestModelMap)
#include "tst_modelmap.moc"
