#include "views/CompareView.h"

#include "plots/BarChart.h"
#include "session/ModelComparison.h"
#include "widgets/MetricText.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace quantscope::ui {
namespace {

QString sqnrText(const Sqnr& s) {
    return s.note.empty() ? QString::number(s.db, 'f', 2) + QStringLiteral(" dB")
                          : QString::fromStdString(s.note);
}

} // namespace

CompareView::CompareView(ModelComparison* comparison, QWidget* parent)
    : QWidget(parent), m_comparison(comparison), m_status(new QLabel(this)), m_table(new QTableWidget(this)),
      m_accuracy(new BarChart(this)), m_speed(new BarChart(this)) {
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::RichText);
    const QStringList columns{tr("Mode"),         tr("Accuracy"),  tr("Agreement"), tr("Output SQNR"),
                              tr("Latency (ms)"), tr("Samples/s"), tr("Weights")};
    m_table->setColumnCount(static_cast<int>(columns.size()));
    m_table->setHorizontalHeaderLabels(columns);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_table->horizontalHeaderItem(4)->setToolTip(tr("One sample at a time, mean"));
    m_table->horizontalHeaderItem(5)->setToolTip(tr("Throughput at the batch size"));
    m_table->horizontalHeaderItem(6)->setToolTip(tr("Bytes of the weights as the mode stores them"));
    m_table->horizontalHeaderItem(2)->setToolTip(tr("Share of samples whose top-1 class equals fp32's"));
    m_table->horizontalHeaderItem(3)->setToolTip(
        tr("10·log10(Σy² / Σ(y − ŷ)²) of the model output against fp32's"));
    auto* charts = new QHBoxLayout;
    charts->addWidget(m_accuracy);
    charts->addWidget(m_speed);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addWidget(m_table);
    layout->addLayout(charts, 1);
    connect(comparison, &ModelComparison::changed, this, &CompareView::refresh);
    refresh();
}

void CompareView::refresh() {
    const auto& setup = m_comparison->setup();
    const auto& report = m_comparison->report();
    const bool hasReport = report.has_value();
    m_table->setVisible(hasReport);
    m_accuracy->setVisible(hasReport);
    m_speed->setVisible(hasReport);
    if (!setup) {
        m_status->setText(
            tr("<h3>No model loaded</h3><p>Open an ONNX model with its samples (File ▸ Open model "
               "and samples…) or the demo (File ▸ Open demo) to compare fp32 with static, dynamic and "
               "weight-only quantization.</p>"));
        return;
    }
    QString status;
    if (hasReport)
        status =
            tr("<b>%1</b> on %2 · weights %3 · activations %4 · SIMD path <b>%5</b> · %6 thread(s)")
                .arg(setup->model.section(QLatin1Char('/'), -1), setup->samples.section(QLatin1Char('/'), -1),
                     report->weightSettings, report->activationSettings, report->isaPath)
                .arg(report->blasThreads);
    if (m_comparison->samplesCaptured() > 0 && m_comparison->samplesCaptured() < m_comparison->samplesTotal())
        status +=
            tr("<br>The tensor browser shows activations on the first %1 of %2 calibration samples (memory "
               "budget); static mode calibrates on all of them")
                .arg(m_comparison->samplesCaptured())
                .arg(m_comparison->samplesTotal());
    if (!hasReport && m_comparison->isBusy())
        status = tr("<i>Capturing activations and running the model…</i>");
    if (m_comparison->isRunning())
        status += tr("<br><i>Running the model with the new settings…</i>");
    if (!m_comparison->lastError().isEmpty())
        status += tr("<br><span style='color:#d64545'>Evaluation failed: %1</span>")
                      .arg(m_comparison->lastError().toHtmlEscaped());
    m_status->setText(status);
    if (!hasReport)
        return;
    m_table->setRowCount(static_cast<int>(report->modes.size()));
    QStringList labels;
    QVector<double> accuracy;
    QVector<double> agreement;
    QVector<double> throughput;
    for (int row = 0; row < static_cast<int>(report->modes.size()); ++row) {
        const ModeResult& r = report->modes[static_cast<std::size_t>(row)];
        const QString mode = QString::fromLatin1(quantModeName(r.mode));
        labels << mode;
        const QStringList cells{mode,
                                r.accuracy ? MetricText::percent(*r.accuracy) : tr("no labels"),
                                MetricText::percent(r.agreement),
                                sqnrText(r.outputSqnr),
                                QString::number(r.latencyMs, 'f', 4),
                                QString::number(r.throughputSps, 'f', 0),
                                MetricText::bytes(static_cast<double>(r.sizeBytes))};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setTextAlignment(c == 0 ? Qt::AlignLeft | Qt::AlignVCenter
                                          : Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(row, c, item);
        }
        accuracy << (r.accuracy ? *r.accuracy * 100.0 : 0.0);
        agreement << r.agreement * 100.0;
        throughput << r.throughputSps;
    }
    m_table->resizeRowsToContents();
    int height = m_table->horizontalHeader()->height() + 2 * m_table->frameWidth();
    for (int row = 0; row < m_table->rowCount(); ++row)
        height += m_table->rowHeight(row);
    m_table->setFixedHeight(height);
    const bool labelled = !report->modes.empty() && report->modes.front().accuracy.has_value();
    m_accuracy->setData(tr("Accuracy and agreement (%)"), labels, labelled ? tr("accuracy") : tr("agreement"),
                        labelled ? accuracy : agreement, labelled ? tr("agreement with fp32") : QString(),
                        labelled ? agreement : QVector<double>{}, tr("%"));
    m_speed->setData(tr("Throughput (samples/s, batch)"), labels, tr("throughput"), throughput, {}, {},
                     tr("samples/s"));
}

QString CompareView::statusText() const {
    return m_status->text();
}

} // namespace quantscope::ui
