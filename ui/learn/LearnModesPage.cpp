#include "learn/LearnModesPage.h"

#include "plots/BarChart.h"
#include "plots/PlotBase.h"
#include "session/ModelComparison.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <cmath>

namespace quantscope::ui {
namespace {

struct ModeStory {
    QString weights;
    QString activations;
    QString when; // when the ranges are decided
};

ModeStory story(QuantMode mode) {
    switch (mode) {
    case QuantMode::Fp32:
        return {QObject::tr("fp32"), QObject::tr("fp32"), QObject::tr("nothing is quantized: the reference")};
    case QuantMode::Static:
        return {QObject::tr("int8, once, offline"), QObject::tr("uint8/int8 with fixed S, Z"),
                QObject::tr("activation ranges calibrated before deployment on sample data; every layer runs "
                            "on the int8 core")};
    case QuantMode::Dynamic:
        return {QObject::tr("int8, once, offline"), QObject::tr("int8, S and Z measured per batch"),
                QObject::tr("each batch's min/max is found at run time, then quantized: no calibration data, "
                            "a little overhead")};
    case QuantMode::WeightOnly:
        return {QObject::tr("int8 in memory"), QObject::tr("fp32"),
                QObject::tr(
                    "weights are dequantized to fp32 before the product: smaller model, float arithmetic")};
    }
    return {};
}

} // namespace

LearnModesPage::LearnModesPage(ModelComparison* comparison, QWidget* parent)
    : QWidget(parent), m_comparison(comparison), m_table(new QLabel(this)), m_status(new QLabel(this)),
      m_accuracy(new BarChart(this)), m_speed(new BarChart(this)) {
    m_table->setTextFormat(Qt::RichText);
    m_table->setWordWrap(true);
    m_table->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // The layout gives the table its height for the page's width. Its own minimum hint is the
    // height at the narrowest width (every word on a line), which would make the page scroll.
    m_table->setMinimumSize(1, 1);
    m_status->setWordWrap(true);
    auto* charts = new QHBoxLayout;
    charts->addWidget(m_accuracy);
    charts->addWidget(m_speed);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addWidget(m_table);
    layout->addLayout(charts, 1);
    connect(comparison, &ModelComparison::changed, this, &LearnModesPage::refresh);
    refresh();
}

void LearnModesPage::refresh() {
    const auto& report = m_comparison->report();
    if (!m_comparison->setup()) {
        m_status->setText(
            tr("Open the demo (File ▸ Open demo) or a model with samples: the modes are measured on it."));
    } else if (m_comparison->isBusy()) {
        m_status->setText(
            tr("Measuring fp32, static, dynamic and weight-only on the model… (progress in the status bar)"));
    } else if (!m_comparison->lastError().isEmpty()) {
        m_status->setText(tr("The evaluation failed: %1").arg(m_comparison->lastError()));
    } else if (report) {
        m_status->setText(
            tr("Measured by the core's model evaluator on %1 samples · weights %2 · activations %3 "
               "· kernels %4 · %5 thread(s)")
                .arg(report->modes.empty() || report->modes.front().outputShape.empty()
                         ? QStringLiteral("?")
                         : QString::number(report->modes.front().outputShape.front()))
                .arg(report->weightSettings, report->activationSettings, report->isaPath)
                .arg(report->blasThreads));
    }
    // The application font's size: presentation mode scales it, and the tables with it.
    const double points = PlotBase::textFont().pointSizeF();
    // Short cells only, so every column keeps its words and numbers on one line; the long
    // explanations follow the table as full-width lines (Qt's rich-text tables squeeze the column
    // of the longest text to a word per line, whatever widths are asked for).
    QString html = QStringLiteral("<style>td,th{padding:3px 9px; font-size:%1pt; vertical-align:top; "
                                  "white-space:nowrap;} p{font-size:%1pt;}</style><table><tr>")
                       .arg(points);
    for (const QString& h : {tr("mode"), tr("weights"), tr("activations"), tr("accuracy"), tr("agreement"),
                             tr("latency (ms)"), tr("samples/s"), tr("size (KiB)")})
        html += QStringLiteral("<th align='left'>%1</th>").arg(h);
    html += QStringLiteral("</tr>");
    QStringList labels;
    QVector<double> accuracy;
    QVector<double> throughput;
    for (QuantMode mode : {QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly}) {
        const ModeStory s = story(mode);
        const ModeResult* measured = nullptr;
        if (report)
            for (const ModeResult& r : report->modes)
                if (r.mode == mode)
                    measured = &r;
        // Measured numbers stay on one line when the table is narrow.
        const auto cell = [measured](const QString& text) {
            return measured ? QStringLiteral("<span style='white-space:nowrap'>") + text +
                                  QStringLiteral("</span>")
                            : QStringLiteral("…");
        };
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td><td>%3</td><td align='right'>%4</td><td "
                               "align='right'>%5</td><td align='right'>%6</td><td align='right'>%7</td><td "
                               "align='right'>%8</td></tr>")
                    .arg(QString::fromLatin1(quantModeName(mode)), s.weights, s.activations,
                         cell(measured && measured->accuracy
                                  ? QString(QString::number(100.0 * *measured->accuracy, 'f', 2) +
                                            QStringLiteral(" %"))
                                  : tr("n/a")),
                         cell(measured ? QString(QString::number(100.0 * measured->agreement, 'f', 2) +
                                                 QStringLiteral(" %"))
                                       : QString()),
                         cell(measured ? QString::number(measured->latencyMs, 'f', 3) : QString()),
                         cell(measured ? QString::number(measured->throughputSps, 'f', 0) : QString()),
                         cell(measured
                                  ? QString::number(static_cast<double>(measured->sizeBytes) / 1024.0, 'f', 1)
                                  : QString()));
        if (measured) {
            labels.append(QString::fromLatin1(quantModeName(mode)));
            accuracy.append(100.0 * measured->accuracy.value_or(measured->agreement));
            throughput.append(measured->throughputSps);
        }
    }
    html += QStringLiteral("</table><p>");
    for (QuantMode mode : {QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly})
        html += QStringLiteral("<b>%1</b>: %2<br>")
                    .arg(QString::fromLatin1(quantModeName(mode)), story(mode).when.toHtmlEscaped());
    html += QStringLiteral("</p>");
    m_table->setText(html);
    if (!labels.isEmpty()) {
        m_accuracy->setData(tr("Accuracy (%)"), labels, tr("accuracy"), accuracy, {}, {}, tr("%"));
        double lowest = 100.0;
        for (double a : std::as_const(accuracy))
            lowest = std::min(lowest, a);
        m_accuracy->yAxis->setRange(std::max(0.0, std::floor(lowest - 5.0)), 100.5);
        m_accuracy->replot();
        m_speed->setData(tr("Throughput (samples/s)"), labels, tr("throughput"), throughput, {}, {},
                         tr("samples/s"));
    }
}

void LearnModesPage::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::FontChange)
        refresh();
}

QString LearnModesPage::text() const {
    return m_status->text() + m_table->text();
}

} // namespace quantscope::ui
