// The tensor table: a well-behaved item model (QAbstractItemModelTester), exact metrics from the
// core for every tensor, words instead of numbers for undefined SQNR, worst tensors coloured and
// sortable to the top, and a name filter.
#include "ui/UiTestUtils.h"

#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/Session.h"
#include "widgets/MetricText.h"
#include "widgets/TensorBrowser.h"
#include "widgets/TensorFilterProxy.h"
#include "widgets/TensorTableModel.h"

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/WeightFile.h"

#include <QAbstractItemModelTester>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace quantscope;
using namespace quantscope::ui;
using namespace quantscope::test;

class TestTensorTableModel : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_path;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        const uint32_t seed = 20261126;
        qInfo() << "seed" << seed;
        m_path = m_dir.filePath(QStringLiteral("weights.safetensors"));
        QVERIFY(writeSafetensors(
            m_path, {
                        {"smooth.weight", {32, 16}, gaussianWithOutliers(512, 0.05f, seed, 0)},
                        {"outliers.weight", {64, 32}, gaussianWithOutliers(2048, 0.05f, seed + 1, 8)},
                        {"zeros.bias", {16}, std::vector<float>(16, 0.0f)},
                    }));
    }

    void modelIsConsistentAndShowsExactMetrics() {
        Session session;
        JobRunner jobs;
        AnalysisController controller(&session, &jobs);
        TensorTableModel model(&session);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy summaries(&session, &Session::summaryChanged);

        QCOMPARE(model.rowCount(), 0);
        session.setFile(openWeightFile(m_path.toStdString()));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), int(TensorTableModel::ColumnCount));
        QCOMPARE(model.index(1, TensorTableModel::Name).data().toString(), QStringLiteral("outliers.weight"));
        QCOMPARE(model.index(1, TensorTableModel::Shape).data().toString(), QStringLiteral("[64, 32]"));
        QCOMPARE(model.index(1, TensorTableModel::DType).data().toString(), QStringLiteral("F32"));
        QCOMPARE(model.index(1, TensorTableModel::Elements).data(TensorTableModel::SortRole).toULongLong(),
                 2048ULL);
        QVERIFY(!model.index(1, TensorTableModel::Sqnr).data().isValid()); // not computed yet

        controller.analyzeAll();
        QTRY_COMPARE_WITH_TIMEOUT(summaries.size(), 3, 20000);

        // The table shows exactly what the core computes for the same settings.
        const auto file = session.file();
        const ErrorMetrics expected =
            analyzeTensor(file->load("outliers.weight"), session.settings(1).spec).metrics;
        QCOMPARE(model.index(1, TensorTableModel::Sqnr).data().toString(), MetricText::sqnr(expected));
        QCOMPARE(model.index(1, TensorTableModel::Sqnr).data(TensorTableModel::SortRole).toDouble(),
                 expected.sqnrDb);
        QCOMPARE(model.index(1, TensorTableModel::Clipped).data().toString(),
                 MetricText::percent(expected.clippedFraction));
        QCOMPARE(model.index(2, TensorTableModel::Sqnr).data().toString(), QStringLiteral("zero signal"));

        // Outliers stretch the int8 range: that tensor quantizes worse, and its cell says so.
        const double smooth =
            model.index(0, TensorTableModel::Sqnr).data(TensorTableModel::SortRole).toDouble();
        const double outliers =
            model.index(1, TensorTableModel::Sqnr).data(TensorTableModel::SortRole).toDouble();
        QVERIFY2(outliers < smooth - 6.0, qPrintable(QStringLiteral("%1 vs %2").arg(outliers).arg(smooth)));
        QCOMPARE(model.index(1, TensorTableModel::Sqnr).data(Qt::BackgroundRole).value<QColor>(),
                 MetricText::sqnrColour(expected));

        // A settings change makes the row's metrics unknown until recomputed (never stale numbers).
        QuantSpec spec = session.settings(0).spec;
        spec.format = QuantFormat::integer(4, true);
        session.changeSpec({0}, spec, QStringLiteral("int4"));
        QVERIFY(!model.index(0, TensorTableModel::Sqnr).data().isValid());
        QCOMPARE(model.index(0, TensorTableModel::Format).data().toString(), QStringLiteral("int4"));
        QTRY_VERIFY_WITH_TIMEOUT(model.index(0, TensorTableModel::Sqnr).data().isValid(), 20000);
        const double int4 =
            model.index(0, TensorTableModel::Sqnr).data(TensorTableModel::SortRole).toDouble();
        QVERIFY2(int4 < smooth - 18.0,
                 qPrintable(QStringLiteral("int4 %1 vs int8 %2").arg(int4).arg(smooth)));
        jobs.waitForDone();
    }

    void browserSortsWorstFirstAndFilters() {
        Session session;
        JobRunner jobs;
        AnalysisController controller(&session, &jobs);
        TensorBrowser browser(&session);
        QSignalSpy summaries(&session, &Session::summaryChanged);
        session.setFile(openWeightFile(m_path.toStdString()));
        controller.analyzeAll();
        QTRY_COMPARE_WITH_TIMEOUT(summaries.size(), 3, 20000);
        QSortFilterProxyModel* proxy = browser.proxy();
        proxy->sort(TensorTableModel::Sqnr, Qt::AscendingOrder);
        QCOMPARE(proxy->index(0, TensorTableModel::Name).data().toString(),
                 QStringLiteral("outliers.weight"));
        QCOMPARE(proxy->index(2, TensorTableModel::Name).data().toString(), QStringLiteral("zeros.bias"));

        browser.filterEdit()->setText(QStringLiteral("WEIGHT"));
        QCOMPARE(proxy->rowCount(), 2);
        browser.filterEdit()->setText(QStringLiteral("bias"));
        QCOMPARE(proxy->rowCount(), 1);

        // Selecting in the view moves the session's current tensor.
        browser.filterEdit()->clear();
        proxy->sort(TensorTableModel::Name, Qt::AscendingOrder);
        const QModelIndex zeros = proxy->index(2, 0);
        QCOMPARE(zeros.data().toString(), QStringLiteral("zeros.bias"));
        browser.view()->selectionModel()->setCurrentIndex(zeros, QItemSelectionModel::ClearAndSelect |
                                                                     QItemSelectionModel::Rows);
        QCOMPARE(session.currentRow(), 2);
        QCOMPARE(session.selectedRows(), QList<int>{2});
        jobs.waitForDone();
    }
};

QTEST_MAIN(TestTensorTableModel)
#include "tst_tensortablemodel.moc"
