#include "learn/LearnDatapathPage.h"

#include "learn/LearnPlot.h"
#include "learn/UnbrokenNumbers.h"
#include "plots/PlotBase.h"
#include "session/JobRunner.h"
#include "widgets/FitScrollArea.h"

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>

#include <cmath>

namespace quantscope::ui {
namespace {

QString n(double v) {
    return QString::number(v, 'g', 8);
}

} // namespace

LearnDatapathPage::LearnDatapathPage(JobRunner* jobs, QWidget* parent)
    : QWidget(parent), m_jobs(jobs), m_layer(new QComboBox(this)), m_sample(new QSpinBox(this)),
      m_output(new QSpinBox(this)), m_affineWeights(new QCheckBox(tr("Affine weights (Z2 ≠ 0)"), this)),
      m_status(new QLabel(this)), m_steps(new QLabel(this)), m_verdict(new QLabel(this)),
      m_terms(new LearnPlot(this)) {
    // The second layer by default: its inputs are ReLU outputs, the classic uint8 case.
    m_layer->addItem(tr("layer 1"), 0);
    m_layer->addItem(tr("layer 2"), 1);
    m_layer->setCurrentIndex(1);
    m_sample->setRange(0, 1000000);
    m_sample->setPrefix(tr("sample "));
    m_output->setRange(0, 1000000);
    m_output->setPrefix(tr("output "));
    m_affineWeights->setToolTip(
        tr("int8 affine per-tensor weights instead of PyTorch's default int8 symmetric per channel"));
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Follow:"), this));
    controls->addWidget(m_layer);
    controls->addWidget(m_sample);
    controls->addWidget(m_output);
    controls->addWidget(m_affineWeights);
    controls->addStretch(1);
    controls->addWidget(m_status);
    m_steps->setTextFormat(Qt::RichText);
    m_steps->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_steps->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_steps->setWordWrap(true);
    m_verdict->setTextFormat(Qt::RichText);
    m_verdict->setWordWrap(true);
    auto* scroll = new FitScrollArea(this);
    scroll->setObjectName(QStringLiteral("datapathSteps"));
    scroll->setWidget(m_steps);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_verdict);
    auto* body = new QHBoxLayout;
    body->addWidget(scroll, 3);
    body->addWidget(m_terms, 2);
    layout->addLayout(body, 1);
    m_steps->setText(
        tr("<p>Open the demo (File ▸ Open demo) to follow one output of its quantized layers.</p>"));

    connect(m_layer, &QComboBox::activated, this, &LearnDatapathPage::run);
    connect(m_sample, &QSpinBox::editingFinished, this, &LearnDatapathPage::run);
    connect(m_output, &QSpinBox::editingFinished, this, &LearnDatapathPage::run);
    connect(m_affineWeights, &QCheckBox::toggled, this, &LearnDatapathPage::run);
    connect(jobs, &JobRunner::finished, this, [this](int id, const QVariant& value) {
        if (id != m_job)
            return;
        m_job = 0;
        m_result = value.value<std::shared_ptr<const LearnDatapath>>();
        showResult();
    });
    const auto stopped = [this](int id, const QString& message) {
        if (id != m_job)
            return;
        m_job = 0;
        m_failed = true;
        m_status->setText(tr("failed: %1").arg(message));
        m_verdict->clear();
        emit resultChanged();
    };
    connect(jobs, &JobRunner::failed, this, stopped);
    connect(jobs, &JobRunner::cancelled, this, [stopped](int id) { stopped(id, tr("cancelled")); });
    connect(jobs, &JobRunner::progress, this, [this](int id, double fraction) {
        if (id == m_job)
            m_status->setText(tr("computing… %1 %").arg(static_cast<int>(100 * fraction)));
    });
}

void LearnDatapathPage::setModel(const QString& model, const QString& samples, const QString& calibration) {
    if (model == m_model && samples == m_samples && calibration == m_calibration && (m_result || m_job))
        return;
    m_model = model;
    m_samples = samples;
    m_calibration = calibration;
    run();
}

void LearnDatapathPage::setChoice(int layer, int sample, int output, bool affineWeights) {
    {
        const QSignalBlocker a(m_layer);
        const QSignalBlocker b(m_affineWeights);
        while (m_layer->count() <= layer)
            m_layer->addItem(tr("layer %1").arg(m_layer->count() + 1), m_layer->count());
        m_layer->setCurrentIndex(layer);
        m_sample->setValue(sample);
        m_output->setValue(output);
        m_affineWeights->setChecked(affineWeights);
    }
    run();
}

LearnDatapath::Request LearnDatapathPage::request() const {
    LearnDatapath::Request r;
    r.modelPath = m_model.toStdString();
    r.samplesPath = m_samples.toStdString();
    r.calibrationPath = m_calibration.toStdString();
    r.layer = std::max(0, m_layer->currentIndex());
    r.sample = m_sample->value();
    r.output = m_output->value();
    r.affineWeights = m_affineWeights->isChecked();
    return r;
}

void LearnDatapathPage::run() {
    if (m_model.isEmpty())
        return;
    const LearnDatapath::Request r = request();
    m_failed = false;
    m_status->setText(tr("computing…"));
    m_job = m_jobs->start(QStringLiteral("learn-datapath"),
                          tr("Following one output through the integer datapath"),
                          [r](const ProgressCallback& progress) {
                              return QVariant::fromValue(
                                  std::make_shared<const LearnDatapath>(LearnDatapath::compute(r, progress)));
                          });
}

void LearnDatapathPage::showResult() {
    if (!m_result)
        return;
    const LearnDatapath& d = *m_result;
    {
        // The layer list, the output and sample ranges come from the model.
        const QSignalBlocker blocker(m_layer);
        const int current = d.request.layer;
        m_layer->clear();
        for (std::size_t i = 0; i < d.layerNames.size(); ++i)
            m_layer->addItem(QString::fromStdString(d.layerNames[i]), static_cast<int>(i));
        m_layer->setCurrentIndex(current);
        m_output->setMaximum(d.n - 1);
    }
    m_status->setText(tr("kernel path: %1").arg(QString::fromStdString(d.kernelPath)));
    // The application font's size: presentation mode scales it, and the tables with it.
    const double points = PlotBase::textFont().pointSizeF();
    const bool equal = d.matchesKernel();
    m_verdict->setText(
        QStringLiteral("<p style='font-size:%1pt; padding:4px; background:%2; color:white'><b>%3</b></p>")
            .arg(points + 1)
            .arg(equal ? QStringLiteral("#1b7f4d") : QStringLiteral("#b00020"),
                 equal ? tr("✓ Bit for bit equal to the SIMD kernel (%1): accumulator %2, output %3; all %4 "
                            "outputs of the layer agree.")
                             .arg(QString::fromStdString(d.kernelPath))
                             .arg(d.kernelAccumulator)
                             .arg(d.kernelOutput)
                             .arg(d.n)
                       : tr("✗ Differs from the SIMD kernel (%1): accumulator %2 vs %3, output %4 vs %5.")
                             .arg(QString::fromStdString(d.kernelPath))
                             .arg(d.accumulator)
                             .arg(d.kernelAccumulator)
                             .arg(d.output)
                             .arg(d.kernelOutput)));

    // Compact rows, the notes folded into the headings: the whole derivation fits beside the plot
    // on a projected 16:9 screen without scrolling.
    QString html =
        QStringLiteral("<style>td{padding:1px 8px; font-size:%1pt; vertical-align:top;} p{font-size:%1pt;} "
                       ".f{font-family:monospace;} .h{font-weight:bold; padding-top:5px;}</style>")
            .arg(points);
    html += tr("<p>Output %1 of <b>%2</b>, sample %3: y = Σ x·w + b over K = %4 inputs, in integers only; "
               "r = S·(q − Z).</p>")
                .arg(d.request.output)
                .arg(QString::fromStdString(d.layerName).toHtmlEscaped())
                .arg(d.request.sample)
                .arg(d.k);
    html += QStringLiteral("<table cellspacing='0'>");
    const auto head = [&html](const QString& text) {
        html += QStringLiteral("<tr><td colspan='3' class='h'>%1</td></tr>").arg(text);
    };
    const auto row = [&html](const QString& what, const QString& formula, const QString& value) {
        html += QStringLiteral(
                    "<tr><td>%1</td><td class='f'>%2</td><td class='f' align='right'><b>%3</b></td></tr>")
                    .arg(what, unbrokenNumbers(formula), unbrokenNumbers(value));
    };
    head(tr("Operands <span style='font-weight:normal'>(inputs quantized with calibrated static min-max "
            "ranges)</span>"));
    QString inputs;
    QString weights;
    const int shown = std::min(d.k, 6);
    for (int i = 0; i < shown; ++i) {
        inputs += QString::number(d.inputs[static_cast<std::size_t>(i)]) + QLatin1Char(' ');
        weights += QString::number(d.weights[static_cast<std::size_t>(i)]) + QLatin1Char(' ');
    }
    const QString more = d.k > shown ? QStringLiteral("…") : QString();
    row(tr("inputs q1 (uint8)"), QStringLiteral("S1 = %1, Z1 = %2").arg(n(d.s1)).arg(d.z1), inputs + more);
    row(tr("weights q2 (int8)"), QStringLiteral("S2 = %1, Z2 = %2").arg(n(d.s2)).arg(d.z2), weights + more);
    row(tr("output q3 (uint8)"), QStringLiteral("S3 = %1, Z3 = %2").arg(n(d.s3)).arg(d.z3), tr("calibrated"));
    head(tr("int32 accumulator (Jacob et al. eq. 7)"));
    row(tr("products"), QStringLiteral("Σ q1·q2"), QString::number(d.sumProducts));
    row(tr("weight zero point"), QStringLiteral("− Z2 · Σ q1 = − %1 · %2").arg(d.z2).arg(d.sumInputs),
        QString::number(-static_cast<int64_t>(d.z2) * d.sumInputs));
    row(tr("input zero point"), QStringLiteral("− Z1 · Σ q2 = − %1 · %2").arg(d.z1).arg(d.sumWeights),
        QString::number(-static_cast<int64_t>(d.z1) * d.sumWeights));
    row(tr("both"), QStringLiteral("+ K · Z1 · Z2 = %1 · %2 · %3").arg(d.k).arg(d.z1).arg(d.z2),
        QString::number(static_cast<int64_t>(d.k) * d.z1 * d.z2));
    row(tr("accumulator"), QStringLiteral("= Σ (q1 − Z1)(q2 − Z2)"), QString::number(d.accumulator));
    // The bias is stored in int32 with scale S1·S2, so it adds straight onto the accumulator.
    row(tr("bias (scale S1·S2)"), QStringLiteral("round(b / (S1·S2)), b = %1").arg(n(d.bias)),
        QString::number(d.biasInt32));
    row(tr("accumulator + bias"), QString(), QString::number(d.accumulatorWithBias));
    head(tr("Requantization: the real multiplier as fixed point"));
    row(tr("real multiplier"), QStringLiteral("M = S1·S2 / S3"), n(d.realMultiplier));
    const double m0Real = std::ldexp(static_cast<double>(d.m0), -31);
    row(tr("normalised"), QStringLiteral("M = M0 · 2^%1, M0 = %2 / 2^31").arg(d.exponent).arg(d.m0),
        n(m0Real));
    row(tr("fixed-point multiply"), QStringLiteral("round((acc + bias) · M0)"), QString::number(d.highMul));
    row(tr("rounding shift"), QStringLiteral("round(· / 2^%1)").arg(-d.exponent), QString::number(d.scaled));
    row(tr("output zero point"), QStringLiteral("+ Z3 = + %1").arg(d.z3), QString::number(d.withZeroPoint));
    row(tr("saturate"), QStringLiteral("clamp to [0, 255]"),
        QString::number(d.output) + (d.saturated ? tr(" (saturated)") : QString()));
    head(tr("Back to real numbers"));
    row(tr("dequantized"), QStringLiteral("S3 · (q3 − Z3) = S3 · (%1 − %2)").arg(d.output).arg(d.z3),
        n(d.dequantizedOutput));
    row(tr("fp32 model"), tr("the same output in float"), n(d.fp32Output));
    row(tr("difference"), QString(), n(static_cast<double>(d.dequantizedOutput) - d.fp32Output));
    html += QStringLiteral("</table>");
    m_steps->setToolTip(
        tr("The inputs are this sample's fp32 activations quantized with the calibrated (static, min-max) "
           "uint8 parameters; ReLU outputs and pixels are never negative, so Z1 = 0. The bias is stored in "
           "int32 with scale S1·S2, so it adds straight onto the accumulator."));
    m_steps->setText(html);

    // The sum term by term: each (q1 − Z1)(q2 − Z2), and the int32 accumulator growing.
    QVector<double> index;
    QVector<double> terms;
    QVector<double> running;
    int64_t sum = 0;
    for (int i = 0; i < d.k; ++i) {
        const int64_t term = (static_cast<int64_t>(d.inputs[static_cast<std::size_t>(i)]) - d.z1) *
                             (static_cast<int64_t>(d.weights[static_cast<std::size_t>(i)]) - d.z2);
        sum += term;
        index.append(i);
        terms.append(static_cast<double>(term));
        running.append(static_cast<double>(sum));
    }
    m_terms->reset(tr("The accumulator, term by term"), tr("input k"), tr("(q1 − Z1)(q2 − Z2)"));
    QCPGraph* bars =
        m_terms->addLine(tr("term k"), index, terms, m_terms->accentColour(0), Qt::SolidLine, false);
    bars->setLineStyle(QCPGraph::lsImpulse);
    bars->setPen(QPen(m_terms->accentColour(0), 2.0 * PlotBase::lineScale()));
    double lowest = 0.0;
    double highest = 0.0;
    for (double v : std::as_const(running)) {
        lowest = std::min(lowest, v);
        highest = std::max(highest, v);
    }
    m_terms->setRightAxis(tr("running sum (int32)"), lowest - 0.05 * (highest - lowest + 1),
                          highest + 0.1 * (highest - lowest + 1));
    m_terms->addLine(tr("running sum = %1 at k = %2").arg(sum).arg(d.k - 1), index, running,
                     m_terms->accentColour(5), Qt::SolidLine, false, true);
    m_terms->finish(false);
    m_terms->yAxis2->setRange(lowest - 0.05 * (highest - lowest + 1), highest + 0.1 * (highest - lowest + 1));
    m_terms->replot();
    emit resultChanged();
}

void LearnDatapathPage::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::FontChange)
        showResult();
}

QString LearnDatapathPage::text() const {
    return m_verdict->text() + m_steps->text();
}

} // namespace quantscope::ui
