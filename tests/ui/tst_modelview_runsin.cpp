// The Model view's "Runs in" column and header on a small ResNet (tests/data/real_models): every
// Conv / Gemm with int8 weights runs on the integer core in static mode; a layer given 16-bit
// weights, which the int8 core cannot take, falls back to fp32, and only that row says so. The
// expected rows are counted from the ONNX graph itself, not from the core's placement.
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "views/ModelView.h"

#include "quantscope/io/WeightFile.h"
#include "quantscope/model/OnnxGraphLoader.h"

#include <QLabel>
#include <QTableWidget>
#include <QTest>

#include <map>
#include <set>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

const QString kModel = QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/resnet_op13_dyn.onnx");
const QString kImages = QStringLiteral(QUANTSCOPE_TEST_DATA "/real_models/images.npy");

struct Live {
    Session session;
    JobRunner jobs;
    ModelComparison comparison{&session, &jobs};
    ModelView view{&comparison};

    Live() {
        session.setDefaultSettings({ModelQuantConfig::defaultWeightSpec(), std::nullopt});
        session.setFile(openWeightFile(kModel.toStdString()));
    }
    ~Live() { jobs.waitForDone(); }

    bool waitComplete() {
        return QTest::qWaitFor(
            [this] {
                return !comparison.isBusy() && comparison.report() &&
                       comparison.report()->stage == CompareStage::Layers;
            },
            120000);
    }
    // "Runs in" per layer name, as the table shows it.
    std::map<QString, QString> runsIn() const {
        std::map<QString, QString> result;
        QTableWidget* table = view.table();
        for (int row = 0; row < table->rowCount(); ++row)
            result[table->item(row, ModelView::Layer)->text()] = table->item(row, ModelView::RunsIn)->text();
        return result;
    }
    QString header() const { return view.findChild<QLabel*>(QString(), Qt::FindDirectChildrenOnly)->text(); }
};

// The graph's layers: Conv / Gemm / MatMul nodes whose weight is an initializer, by node label,
// with their weight names.
std::map<QString, QString> layersOf(const Graph& graph) {
    std::map<QString, QString> layers;
    for (const auto& node : graph.nodes) {
        const bool linear = node.opType == "Conv" || node.opType == "Gemm" || node.opType == "MatMul";
        if (linear && node.inputs.size() > 1 && graph.initializers.count(node.inputs[1]))
            layers[QString::fromStdString(node.label())] = QString::fromStdString(node.inputs[1]);
    }
    return layers;
}

} // namespace

class TestModelViewRunsIn : public QObject {
    Q_OBJECT
private slots:
    void columnAgreesWithTheGraph() {
        const Graph graph = loadOnnxGraph(kModel.toStdString());
        const std::map<QString, QString> layers = layersOf(graph);
        QVERIFY(layers.size() >= 5);

        Live live;
        live.comparison.setSetup({kModel, kImages, QString(), QString()});
        QVERIFY(live.waitComplete());
        std::map<QString, QString> shown = live.runsIn();
        QCOMPARE(shown.size(), layers.size());
        for (const auto& [name, weight] : layers) {
            QVERIFY2(shown.count(name), qPrintable(name));
            QCOMPARE(shown[name], QStringLiteral("int8"));
        }
        const QString total = QStringLiteral(" of %1 ops run on integers").arg(graph.nodes.size());
        QVERIFY2(live.header().contains(total), qPrintable(live.header()));

        // 16-bit weights on the first Conv: that layer alone falls back to fp32.
        QString changed;
        for (const auto& node : graph.nodes)
            if (node.opType == "Conv") {
                changed = QString::fromStdString(node.label());
                break;
            }
        const int row = live.session.rowOf(layers.at(changed));
        QVERIFY(row >= 0);
        TensorSettings settings = live.session.settings(row);
        settings.spec.format = QuantFormat::integer(16, true);
        live.session.changeSettings({row}, settings, QStringLiteral("bits"));
        QVERIFY(QTest::qWaitFor([&] { return live.comparison.isBusy(); }, 10000));
        QVERIFY(live.waitComplete());
        shown = live.runsIn();
        QCOMPARE(shown.size(), layers.size());
        int fp32Rows = 0;
        for (const auto& [name, weight] : layers) {
            QCOMPARE(shown[name], name == changed ? QStringLiteral("fp32") : QStringLiteral("int8"));
            fp32Rows += shown[name] == QStringLiteral("fp32");
        }
        QCOMPARE(fp32Rows, 1);
        const QString header = live.header();
        QVERIFY2(header.mid(header.indexOf(QStringLiteral("fp32:"))).contains(QStringLiteral("Conv")),
                 qPrintable(header));
    }
};

QTEST_MAIN(TestModelViewRunsIn)
#include "tst_modelview_runsin.moc"
