// The Conventions tab: for the selected tensor and its settings, the table holds exactly what the
// core's compareToolchains computes (as `quantscope-cli conventions`), beside Quantscope's own
// parameters, highlights what differs, and follows the settings and the chosen value live.
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/Session.h"
#include "views/ConventionsPanel.h"
#include "window/MainWindow.h"

#include "quantscope/interop/ToolchainRules.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QDoubleSpinBox>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

namespace {

std::vector<float> weightValues() {
    std::vector<float> values(96);
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = 0.9f * std::sin(0.37f * static_cast<float>(i)) + (i == 50 ? 2.5f : 0.1f);
    return values;
}

QString cell(const QTableWidget* table, int row, int column) {
    const QTableWidgetItem* item = table->item(row, column);
    return item ? item->text() : QString();
}

} // namespace

class TestConventionsPanel : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_weights;

    // The table's toolchain rows equal the core's comparison for these settings and value.
    static void checkAgainstCore(const ConventionsPanel* panel, const QuantSpec& spec, float chosen) {
        const auto expected = compareToolchains(weightValues(), spec, chosen, 0);
        const QTableWidget* table = panel->table();
        QCOMPARE(table->rowCount(), static_cast<int>(expected.size()) + 1);
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const int row = static_cast<int>(i) + 1;
            const ToolchainResult& e = expected[i];
            QCOMPARE(cell(table, row, ConventionsPanel::Toolchain),
                     QString::fromStdString(e.params.toolchain));
            QCOMPARE(cell(table, row, ConventionsPanel::Scale),
                     QString::number(static_cast<double>(e.params.scale), 'g', 9));
            QCOMPARE(cell(table, row, ConventionsPanel::ZeroPoint), QString::number(e.params.zeroPoint));
            QCOMPARE(cell(table, row, ConventionsPanel::Qmin), QString::number(e.params.qmin));
            QCOMPARE(cell(table, row, ConventionsPanel::Qmax), QString::number(e.params.qmax));
            QCOMPARE(cell(table, row, ConventionsPanel::ChosenInteger), QString::number(e.chosenInteger));
            QCOMPARE(cell(table, row, ConventionsPanel::Sqnr),
                     QStringLiteral("%1 dB").arg(e.sqnrDb, 0, 'f', 2));
            // The source the toolchain's rule comes from, on hover.
            QVERIFY(table->item(row, ConventionsPanel::Toolchain)
                        ->toolTip()
                        .contains(QString::fromStdString(e.params.source)));
        }
    }

    // Quantscope's own row: the PyTorch-compatible parameters of the tensor's min / max.
    static void checkOwnRow(const ConventionsPanel* panel, const QuantSpec& spec, float chosen) {
        const auto values = weightValues();
        const auto [low, high] = std::minmax_element(values.begin(), values.end());
        const std::array<Range, 1> range{Range{*low, *high}};
        const QParams params = computeQParams(range, spec);
        const QTableWidget* table = panel->table();
        QCOMPARE(cell(table, 0, ConventionsPanel::Toolchain), QStringLiteral("Quantscope"));
        QCOMPARE(cell(table, 0, ConventionsPanel::Scale),
                 QString::number(static_cast<double>(params.scale[0]), 'g', 9));
        QCOMPARE(cell(table, 0, ConventionsPanel::ZeroPoint), QString::number(params.zeroPoint[0]));
        const float level =
            std::nearbyint(chosen * (1.0f / params.scale[0])) + static_cast<float>(params.zeroPoint[0]);
        const auto q = static_cast<int64_t>(
            std::clamp(level, static_cast<float>(params.qmin), static_cast<float>(params.qmax)));
        QCOMPARE(cell(table, 0, ConventionsPanel::ChosenInteger), QString::number(q));
    }

    static bool waitForUpdate(ConventionsPanel* panel, const std::function<void()>& action) {
        QSignalSpy updated(panel, &ConventionsPanel::updated);
        action();
        return updated.wait(20000);
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_weights = m_dir.filePath(QStringLiteral("w.safetensors"));
        QVERIFY(writeSafetensors(m_weights, {{"layer.weight", {8, 12}, weightValues()}}));
    }

    void tableFollowsSelectionAndSettings() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(m_weights);
        QVERIFY(opened.wait(20000));
        Session* session = window.session();
        session->setCurrentRow(0);
        ConventionsPanel* panel = window.conventionsPanel();
        QVERIFY(waitForUpdate(panel, [&] { window.showView(MainWindow::Conventions); }));
        QCOMPARE(panel->shownRow(), 0);
        QuantSpec spec = session->settings(0).spec; // int8 affine per tensor, min/max
        checkAgainstCore(panel, spec, 0.5f);
        checkOwnRow(panel, spec, 0.5f);
        // PyTorch's rule is Quantscope's: nothing highlighted there; TensorRT's symmetric amax / 127
        // differs from an affine scale and is.
        const QTableWidget* table = panel->table();
        QCOMPARE(cell(table, 1, ConventionsPanel::Toolchain), QStringLiteral("PyTorch"));
        QCOMPARE(table->item(1, ConventionsPanel::Scale)->background().style(), Qt::NoBrush);
        QCOMPARE(cell(table, 3, ConventionsPanel::Toolchain), QStringLiteral("TensorRT"));
        QVERIFY(table->item(3, ConventionsPanel::Scale)->background().style() != Qt::NoBrush);
        QVERIFY(table->item(3, ConventionsPanel::Scale)->toolTip().contains(QStringLiteral("Quantscope: ")));

        // A settings change updates the table: symmetric int8 narrow range (ONNX Runtime's and
        // TensorRT's [-127, 127]).
        spec.scheme = Scheme::Symmetric;
        spec.narrowRange = true;
        QVERIFY(waitForUpdate(panel, [&] { session->changeSpec({0}, spec, QStringLiteral("symmetric")); }));
        checkAgainstCore(panel, spec, 0.5f);
        checkOwnRow(panel, spec, 0.5f);

        // So does the chosen value.
        QVERIFY(waitForUpdate(panel, [&] { panel->valueBox()->setValue(-1.25); }));
        checkAgainstCore(panel, spec, -1.25f);
        checkOwnRow(panel, spec, -1.25f);
    }

    void floatFormatSaysWhy() {
        MainWindow window(nullptr, false);
        window.show();
        QSignalSpy opened(window.controller(), &AnalysisController::fileOpened);
        window.openFile(m_weights);
        QVERIFY(opened.wait(20000));
        window.session()->setCurrentRow(0);
        ConventionsPanel* panel = window.conventionsPanel();
        QVERIFY(waitForUpdate(panel, [&] { window.showView(MainWindow::Conventions); }));
        QuantSpec fp16;
        fp16.format = QuantFormat::parse("fp16");
        QVERIFY(
            waitForUpdate(panel, [&] { window.session()->changeSpec({0}, fp16, QStringLiteral("fp16")); }));
        QCOMPARE(panel->table()->rowCount(), 0);
        QVERIFY(panel->findChildren<QLabel*>().size() > 0);
        bool said = false;
        for (const QLabel* label : panel->findChildren<QLabel*>())
            said = said || (label->isVisible() && label->text().contains(QStringLiteral("integer formats")));
        QVERIFY(said);
    }
};

QTEST_MAIN(TestConventionsPanel)
#include "tst_conventionspanel.moc"
