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
    QString when;
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
    QString html =
        QStringLiteral(
            "<style>td,th{padding:3px 9px; font-size:%1pt; vertical-align:top;}</style><table><tr>")
            .arg(points);
    for (const QString& h : {tr("mode"), tr("weights"), tr("activations"), tr("when the ranges are decided"),
                             tr("accuracy"), tr("agreement"), tr("latency"), tr("throughput"), tr("size")})
        // The long explanations wrap in a column of their own width, so the measured numbers keep
        // theirs (Qt would otherwise squeeze a number column and break "1.006" after the point).
        html +=
            QStringLiteral("<th align='left'%2>%1</th>")
                .arg(h, h == tr("when the ranges are decided") ? QStringLiteral(" width='22%'") : QString());
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
        html +=
            QStringLiteral("<tr><td><b>%1</b></td><td>%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</"
                           "td><td>%7</td><td>%8</td><td>%9</td></tr>")
                .arg(QString::fromLatin1(quantModeName(mode)), s.weights, s.activations, s.when,
                     cell(measured && measured->accuracy
                              ? QString(QString::number(100.0 * *measured->accuracy, 'f', 2) +
                                        QStringLiteral(" %"))
                              : tr("n/a")),
                     cell(measured ? QString(QString::number(100.0 * measured->agreement, 'f', 2) +
                                             QStringLiteral(" %"))
                                   : QString()),
                     cell(measured
                              ? QString(QString::number(measured->latencyMs, 'f', 3) + QStringLiteral(" ms"))
                              : QString()),
                     cell(measured
                              ? QString(QString::number(measured->throughputSps, 'f', 0) + tr(" samples/s"))
                              : QString()),
                     cell(measured ? QString(QString::number(
                                                 static_cast<double>(measured->sizeBytes) / 1024.0, 'f', 1) +
                                             QStringLiteral(" KiB"))
                                   : QString()));
        if (measured) {
            labels.append(QString::fromLatin1(quantModeName(mode)));
            accuracy.append(100.0 * measured->accuracy.value_or(measured->agreement));
            throughput.append(measured->throughputSps);
        }
    }
    html += QStringLiteral("</table>");
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
