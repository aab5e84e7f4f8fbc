#include "views/CompareView.h"

#include "plots/BarChart.h"
#include "session/ModelComparison.h"
#include "widgets/MetricText.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollBar>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace quantscope::ui {
namespace {

QString sqnrText(const Sqnr& s) {
    return s.note.empty() ? QString::number(s.db, 'f', 2) + QStringLiteral(" dB")
                          : QString::fromStdString(s.note);
}

QString listOrNone(const QStringList& ops) {
    return ops.isEmpty() ? CompareView::tr("none") : ops.join(QStringLiteral(", "));
}

// One mode's settings and where it runs quantized, as rich text.
QString modeLines(const ModeExecution& e) {
    const QString name = QString::fromLatin1(quantModeName(e.mode));
    QString text = QStringLiteral("<b>%1</b>: %2").arg(name, e.settings.toHtmlEscaped());
    switch (e.mode) {
    case QuantMode::Fp32:
        return text;
    case QuantMode::Static:
        text += CompareView::tr("<br>&nbsp;&nbsp;on integer codes: %1 · fp32: %2");
        break;
    case QuantMode::Dynamic:
        text += CompareView::tr("<br>&nbsp;&nbsp;quantized: %1 · fp32: %2");
        break;
    case QuantMode::WeightOnly:
        text += CompareView::tr("<br>&nbsp;&nbsp;quantized weights: %1 · fp32: %2");
        break;
    }
    text = text.arg(listOrNone(e.quantizedOps), listOrNone(e.fp32Ops));
    const bool convInFp32 = std::any_of(e.fp32Ops.begin(), e.fp32Ops.end(), [](const QString& op) {
        return op == QLatin1String("Conv") || op.startsWith(QLatin1String("Conv "));
    });
    if (e.mode == QuantMode::Dynamic && convInFp32)
        text += CompareView::tr("<br>&nbsp;&nbsp;<i>Conv stays fp32 in dynamic mode when its weights do not "
                                "fit the int8 core (signed, at most 8 bits, per tensor or per channel)</i>");
    return text;
}

// Which modes' timing an earlier refresh measured: the same kernels run, so it still holds.
QString keptTiming(const ModelReport& report) {
    if (report.timingKept.empty())
        return {};
    QStringList modes;
    for (QuantMode mode : report.timingKept)
        modes << QString::fromLatin1(quantModeName(mode));
    return CompareView::tr(" (%1 timed by an earlier refresh that ran the same kernels)")
        .arg(modes.join(QStringLiteral(", ")));
}

QString stageText(const ModelReport& report) {
    switch (report.stage) {
    case CompareStage::FirstSamples:
        return CompareView::tr("first %1 of %2 samples · all samples next…")
            .arg(report.samplesScored)
            .arg(report.samplesTotal);
    case CompareStage::AllSamples:
        return CompareView::tr("all %1 samples · timing next…").arg(report.samplesTotal);
    case CompareStage::Timing:
        return CompareView::tr("all %1 samples, timed on the first %2%3 · per-layer SQNR next…")
            .arg(report.samplesTotal)
            .arg(report.timedSamples)
            .arg(keptTiming(report));
    case CompareStage::Layers:
        return CompareView::tr("all %1 samples, timed on the first %2%3 · complete")
            .arg(report.samplesTotal)
            .arg(report.timedSamples)
            .arg(keptTiming(report));
    }
    return {};
}

} // namespace

CompareView::CompareView(ModelComparison* comparison, QWidget* parent)
    : QWidget(parent), m_comparison(comparison), m_status(new QLabel(this)), m_modes(new QLabel(this)),
      m_table(new QTableWidget(this)), m_accuracy(new BarChart(this)), m_speed(new BarChart(this)) {
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::RichText);
    m_modes->setWordWrap(true);
    m_modes->setTextFormat(Qt::RichText);
    m_modes->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Short headers, so that seven columns fit the ~550 px a 1280 px window leaves between its
    // side panels; the tooltips say what each one is, the cells carry the units.
    const QStringList columns{tr("Mode"),    tr("Accuracy"),  tr("Agreement"), tr("SQNR"),
                              tr("Latency"), tr("Samples/s"), tr("Weights")};
    const QStringList tips{tr("The quantization mode: fp32 is the reference"),
                           tr("Top-1 accuracy against the labels"),
                           tr("Agreement with fp32: the share of samples whose top-1 class equals fp32's"),
                           tr("Output SQNR: 10·log10(Σy² / Σ(y − ŷ)²) of the model output against fp32's"),
                           tr("Latency: one sample per run on one thread, the mean over the first %1 "
                              "samples, the faster of two passes (ms)")
                               .arg(ModelComparison::kLatencySamples),
                           tr("Throughput on one thread: the first %1 samples in one batch, the faster of "
                              "two passes (samples per second)")
                               .arg(ModelComparison::kTimedSamples),
                           tr("Bytes of the weights as the mode stores them")};
    m_table->setColumnCount(static_cast<int>(columns.size()));
    m_table->setHorizontalHeaderLabels(columns);
    for (int column = 0; column < columns.size(); ++column)
        m_table->horizontalHeaderItem(column)->setToolTip(tips[column]);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* charts = new QHBoxLayout;
    charts->addWidget(m_accuracy);
    charts->addWidget(m_speed);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addWidget(m_table);
    layout->addWidget(m_modes);
    layout->addLayout(charts, 1);
    connect(comparison, &ModelComparison::changed, this, &CompareView::refresh);
    refresh();
}

void CompareView::refresh() {
    const auto& setup = m_comparison->setup();
    const auto& report = m_comparison->report();
    const bool hasReport = report.has_value();
    m_table->setVisible(hasReport);
    m_modes->setVisible(hasReport);
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
        status = tr("<b>%1</b> on %2 · SIMD path <b>%3</b> · scored on %4 thread(s), timed on one · %5")
                     .arg(setup->model.section(QLatin1Char('/'), -1),
                          setup->samples.section(QLatin1Char('/'), -1), report->isaPath)
                     .arg(report->scoringThreads)
                     .arg(stageText(*report));
    if (m_comparison->samplesCaptured() > 0 && m_comparison->samplesCaptured() < m_comparison->samplesTotal())
        status +=
            tr("<br>The tensor browser shows activations on the first %1 of %2 calibration samples (memory "
               "budget); static mode calibrates on all of them")
                .arg(m_comparison->samplesCaptured())
                .arg(m_comparison->samplesTotal());
    if (!hasReport && m_comparison->isBusy())
        status = tr("<i>Capturing activations and running the model…</i>");
    if (hasReport && m_comparison->isBusy() && m_comparison->isStale())
        status +=
            tr("<br><i>Updating for the new settings… (the figures below are from the previous ones)</i>");
    if (!m_comparison->lastError().isEmpty())
        status += tr("<br><span style='color:#d64545'>Evaluation failed: %1</span>")
                      .arg(m_comparison->lastError().toHtmlEscaped());
    m_status->setText(status);
    if (!hasReport)
        return;
    QStringList modeTexts;
    for (const ModeExecution& execution : report->executions)
        modeTexts << modeLines(execution);
    m_modes->setText(modeTexts.join(QStringLiteral("<br>")));
    const bool timed = report->stage == CompareStage::Timing || report->stage == CompareStage::Layers;
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
                                timed ? tr("%1 ms").arg(MetricText::measured(r.latencyMs)) : tr("…"),
                                timed ? MetricText::measured(r.throughputSps) : tr("…"),
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
    fitColumns();
    const bool labelled = !report->modes.empty() && report->modes.front().accuracy.has_value();
    m_accuracy->setData(labelled ? tr("Accuracy and agreement (%)") : tr("Agreement with fp32 (%)"), labels,
                        labelled ? tr("accuracy") : tr("agreement"), labelled ? accuracy : agreement,
                        labelled ? tr("agreement with fp32") : QString(),
                        labelled ? agreement : QVector<double>{}, tr("%"));
    m_speed->setData(timed ? tr("Throughput (samples/s on one thread, batch of %1)").arg(report->timedSamples)
                           : tr("Throughput (measuring…)"),
                     labels, tr("throughput"), throughput, {}, {}, tr("samples/s"));
}

void CompareView::fitColumns() {
    // Each column as wide as its header and cells; what is left is shared evenly.
    QHeaderView* header = m_table->horizontalHeader();
    const int margin = m_table->fontMetrics().averageCharWidth();
    QVector<int> widths;
    int used = 0;
    for (int column = 0; column < m_table->columnCount(); ++column) {
        const int width = std::max(static_cast<const QAbstractItemView*>(m_table)->sizeHintForColumn(column),
                                   header->sectionSizeHint(column)) +
                          margin;
        widths << width;
        used += width;
    }
    const int spare = std::max(0, m_table->viewport()->width() - used) / std::max(1, m_table->columnCount());
    for (int column = 0; column < m_table->columnCount(); ++column)
        header->resizeSection(column, widths[column] + spare);
    // Every row shown: as tall as the header and the rows, plus the scroll bar when the columns
    // are wider than the view (it would otherwise hide the last row).
    int height = header->height() + 2 * m_table->frameWidth();
    for (int row = 0; row < m_table->rowCount(); ++row)
        height += m_table->rowHeight(row);
    if (header->length() > m_table->viewport()->width())
        height += m_table->horizontalScrollBar()->sizeHint().height();
    m_table->setFixedHeight(height);
}

void CompareView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    fitColumns();
}

void CompareView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    fitColumns();
}

QString CompareView::statusText() const {
    return m_status->text();
}

QString CompareView::modesText() const {
    return m_modes->text();
}

} // namespace quantscope::ui
