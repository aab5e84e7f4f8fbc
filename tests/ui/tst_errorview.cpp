// The Error view draws the quantizer's true staircase from the grid over the whole data range
// (a sparse tail shows the real step, one scale high, not a jump between sampled points) and
// titles its plots; a lesson never replaces a file the user opened without asking.
#include "ui/UiTestUtils.h"

#include "learn/LearnView.h"
#include "learn/LessonPreset.h"
#include "plots/ErrorHistogramPlot.h"
#include "plots/TransferPlot.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/Session.h"
#include "views/ErrorView.h"
#include "window/MainWindow.h"

#include <QAbstractButton>
#include <QMessageBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

QString titleOf(QCustomPlot* plot) {
    for (QCPLayoutElement* element : plot->plotLayout()->elements(true))
        if (auto* title = qobject_cast<QCPTextElement*>(element))
            return title->text();
    return {};
}

QMessageBox* openQuestion(QWidget* window) {
    for (QMessageBox* box : window->findChildren<QMessageBox*>())
        if (box->isVisible() && box->icon() == QMessageBox::Question)
            return box;
    return nullptr;
}

} // namespace

class TestErrorView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("QUANTSCOPE_DEMO_DIR", QFileInfo(test::demoWeights()).path().toLocal8Bit());
        QVERIFY(m_dir.isValid());
        // Normal values with four outliers twelve sigmas out: the tails hold almost no data.
        m_values = test::gaussianWithOutliers(20000, 0.05f, 7);
        m_file = m_dir.filePath(QStringLiteral("tails.safetensors"));
        QVERIFY(test::writeSafetensors(m_file, {{"w", {100, 200}, m_values}}));
    }

    void staircaseStepsAreOneScaleHighOverTheWholeRange() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        window.showView(MainWindow::Error);
        window.openFile(m_file);
        QVERIFY(QTest::qWaitFor(
            [&] {
                const int row = window.session()->currentRow();
                return row >= 0 && window.session()->result(row) && window.jobs()->runningCount() == 0;
            },
            60000));
        // The default settings: int8 affine per tensor, min-max. Scale from the contract, in float.
        const auto [lowest, highest] = std::minmax_element(m_values.begin(), m_values.end());
        const float minNeg = std::min(*lowest, 0.0f);
        const float maxPos = std::max(*highest, 0.0f);
        const double scale = std::max((maxPos - minNeg) / 255.0f, 1.1920929e-07f);

        TransferPlot* transfer = window.errorView()->transfer();
        QCPGraph* staircase = nullptr;
        for (int i = 0; i < transfer->graphCount(); ++i)
            if (transfer->graph(i)->lineStyle() == QCPGraph::lsStepLeft)
                staircase = transfer->graph(i);
        QVERIFY(staircase);
        const auto data = staircase->data();
        QVERIFY(data->size() > 200); // every one of the 256 levels the range spans, not a sample
        // The staircase spans the data, tails included.
        QVERIFY(data->constBegin()->key <= *lowest);
        QVERIFY((data->constEnd() - 1)->key >= *highest);
        // Every step rises by exactly one scale, and the steps are one scale apart.
        int steps = 0;
        for (auto it = data->constBegin() + 1; it != data->constEnd() - 1; ++it) {
            const auto previous = it - 1;
            QVERIFY2(std::abs((it->value - previous->value) - scale) < 1e-6 * scale + 1e-9,
                     qPrintable(QStringLiteral("step at x=%1 rises %2, scale %3")
                                    .arg(it->key)
                                    .arg(it->value - previous->value)
                                    .arg(scale)));
            if (it != data->constBegin() + 1)
                QVERIFY(std::abs((it->key - previous->key) - scale) < 1e-6 * scale + 1e-9);
            ++steps;
        }
        QVERIFY(steps >= 250);
        // Both plots say what they show.
        QVERIFY(!titleOf(transfer).isEmpty());
        QVERIFY(!titleOf(window.errorView()->errorHistogram()).isEmpty());
    }

    void lessonAsksBeforeReplacingTheUsersFile() {
        MainWindow window(nullptr, false);
        window.resize(1280, 720);
        window.show();
        window.openFile(m_file);
        QVERIFY(QTest::qWaitFor([&] { return window.session()->hasTensors(); }, 60000));
        window.showView(MainWindow::Learn);
        const QString lesson = LessonPreset::all().front().id;
        window.learnView()->applyLesson(lesson);
        QMessageBox* question = nullptr;
        QVERIFY(QTest::qWaitFor([&] { return (question = openQuestion(&window)) != nullptr; }, 5000));
        QVERIFY(question->text().contains(QStringLiteral("tails.safetensors")));
        // Cancel keeps the user's file.
        question->reject();
        QTest::qWait(200);
        QCOMPARE(window.session()->filePath(), m_file);
        QVERIFY(window.learnView()->activeLesson().isEmpty());
        // Yes replaces it with the lesson's.
        window.learnView()->applyLesson(lesson);
        QVERIFY(QTest::qWaitFor([&] { return (question = openQuestion(&window)) != nullptr; }, 5000));
        question->button(QMessageBox::Yes)->click();
        QVERIFY(QTest::qWaitFor([&] { return window.learnView()->activeLesson() == lesson; }, 120000));
        QVERIFY(window.session()->filePath() != m_file);
    }

private:
    QTemporaryDir m_dir;
    QString m_file;
    std::vector<float> m_values;
};

QTEST_MAIN(TestErrorView)
#include "tst_errorview.moc"
