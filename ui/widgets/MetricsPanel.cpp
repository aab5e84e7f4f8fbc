#include "widgets/MetricsPanel.h"

#include "session/AnalysisController.h"
#include "widgets/MetricText.h"

#include "quantscope/quant/StorageSize.h"
#include "session/Session.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>

namespace quantscope::ui {

MetricsPanel::MetricsPanel(Session* session, AnalysisController* controller, QWidget* parent)
    : QWidget(parent), m_session(session), m_controller(controller), m_source(new QLabel(this)) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(6, 6, 6, 6);
    grid->setVerticalSpacing(3);
    grid->addWidget(m_source, 0, 0, 1, 2);
    m_source->setWordWrap(true);
    addRow(QStringLiteral("sqnr"), tr("SQNR"),
           tr("SQNR = 10·log10(Σx² / Σ(x − x̂)²) over the finite values;\n"
              "“exact” when the error is zero, “zero signal” when Σx² = 0"));
    addRow(QStringLiteral("mse"), tr("MSE"), tr("MSE = Σ(x − x̂)² / n"));
    addRow(QStringLiteral("rmse"), tr("RMSE"), tr("RMSE = √MSE"));
    addRow(QStringLiteral("maxerr"), tr("Max |error|"), tr("max |x − x̂|"));
    addRow(QStringLiteral("meanerr"), tr("Mean |error|"), tr("Σ|x − x̂| / n"));
    addRow(QStringLiteral("cosine"), tr("Cosine"), tr("cos = Σx·x̂ / (√Σx² · √Σx̂²)"));
    addRow(QStringLiteral("clipped"), tr("Clipped"),
           tr("share of values outside the clipping range:\n"
              "x/S + Z rounds outside [qmin, qmax]"));
    addRow(QStringLiteral("split"), tr("MSE: clip / round"),
           tr("MSE = clip MSE + round MSE: the error of clipped values and of the rest,\n"
              "both divided by n; shown as shares of the MSE"));
    addRow(QStringLiteral("levels"), tr("Levels used"),
           tr("distinct quantized codes that occur, of all the format has"));
    addRow(QStringLiteral("size"), tr("Size"),
           tr("n × bits / 8 + per block a float32 scale (and an int32 zero point for affine)"));
    addRow(QStringLiteral("bits"), tr("Bits per value"), tr("size × 8 / n, scales included"));
    addRow(QStringLiteral("params"), tr("Scale, zero point"),
           tr("affine: S = (max⁺ − min⁻) / (qmax − qmin), Z = qmin − round(min⁻ / S)\n"
              "symmetric: S = max(−min⁻, max⁺) / ((qmax − qmin) / 2), Z = 0"));
    grid->setRowStretch(grid->rowCount(), 1);
    grid->setColumnStretch(1, 1);

    connect(controller, &AnalysisController::previewChanged, this, &MetricsPanel::refresh);
    connect(session, &Session::resultChanged, this, &MetricsPanel::refresh);
    connect(session, &Session::settingsChanged, this, &MetricsPanel::refresh);
    refresh();
}

void MetricsPanel::addRow(const QString& key, const QString& title, const QString& formula) {
    auto* grid = static_cast<QGridLayout*>(layout());
    const int row = grid->rowCount();
    auto* name = new QLabel(title, this);
    auto* value = new QLabel(this);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = value->font();
    bold.setBold(true);
    value->setFont(bold);
    name->setToolTip(formula);
    value->setToolTip(formula);
    grid->addWidget(name, row, 0);
    grid->addWidget(value, row, 1);
    m_values.insert(key, value);
    m_order.append({key, title});
}

void MetricsPanel::setValue(const QString& key, const QString& text) {
    if (QLabel* label = m_values.value(key))
        label->setText(text);
}

QString MetricsPanel::valueText(const QString& key) const {
    const QLabel* label = m_values.value(key);
    return label ? label->text() : QString();
}

QString MetricsPanel::asText() const {
    QString text = m_source->text() + QLatin1Char('\n');
    for (const auto& [key, title] : m_order)
        text += title + QLatin1Char('\t') + valueText(key) + QLatin1Char('\n');
    return text;
}

void MetricsPanel::refresh() {
    const int row = m_session->currentRow();
    const Preview& preview = m_controller->preview();
    const auto result = m_session->result(row);
    m_exact = false;
    if (row < 0 || (!result && !preview.valid)) {
        m_source->setText(row < 0 ? tr("No tensor selected") : tr("Computing…"));
        for (auto* label : std::as_const(m_values))
            label->clear();
        return;
    }
    // While a line is dragged the preview's range differs from the result's: show the preview.
    const TensorSettings& settings = m_session->settings(row);
    const bool dragging = preview.valid && preview.dragged;
    m_exact = result && !dragging;
    const ErrorMetrics& m = m_exact ? result->analysis.metrics : preview.estimate.metrics;
    const QString approx = m_exact ? QString() : QStringLiteral("≈ ");
    m_source->setText(m_exact ? tr("<b>%1</b> — exact metrics").arg(m_session->tensorName(row))
                              : tr("<b>%1</b> — estimate from the histogram; exact result follows")
                                    .arg(m_session->tensorName(row)));
    setValue(QStringLiteral("sqnr"), approx + MetricText::sqnr(m));
    setValue(QStringLiteral("mse"), approx + MetricText::number(m.mse));
    setValue(QStringLiteral("rmse"), approx + MetricText::number(m.rmse));
    setValue(QStringLiteral("maxerr"), approx + MetricText::number(m.maxAbsError));
    setValue(QStringLiteral("meanerr"), approx + MetricText::number(m.meanAbsError));
    setValue(QStringLiteral("cosine"), approx + QString::number(m.cosine, 'f', 6));
    setValue(QStringLiteral("clipped"),
             approx + MetricText::percent(m.clippedFraction) + QStringLiteral("  (") +
                 QLocale().toString(static_cast<qlonglong>(m.clippedCount)) + QLatin1Char(')'));
    if (m.mse > 0)
        setValue(QStringLiteral("split"),
                 approx + QStringLiteral("%1 / %2").arg(MetricText::percent(m.clipMse / m.mse),
                                                        MetricText::percent(m.roundMse / m.mse)));
    else
        setValue(QStringLiteral("split"), tr("no error"));
    const QuantSpec& spec = settings.spec;
    const int64_t qmin = spec.format.isInteger() ? spec.qmin() : 0;
    const int64_t qmax = spec.format.isInteger() ? spec.qmax() : 0;
    const QString total = spec.format.isInteger() ? QString::number(qmax - qmin + 1)
                          : spec.format.kind == FormatKind::Nf4
                              ? QStringLiteral("16")
                              : QString::number(1ULL << spec.format.storageBits());
    setValue(QStringLiteral("levels"), approx + tr("%1 of %2").arg(m.levelsUsed).arg(total));
    const auto elements = static_cast<double>(m_session->info(row).elements);
    // Before the exact result arrives the block count is unknown: one block (per-tensor) is assumed.
    const double bytes =
        result ? result->sizeBytes
               : static_cast<double>(quantizedStorageBytes(m_session->info(row).elements, spec, 1));
    setValue(QStringLiteral("size"),
             MetricText::bytes(bytes) + tr("  (fp32 %1)").arg(MetricText::bytes(elements * 4.0)));
    setValue(QStringLiteral("bits"),
             elements > 0 ? QString::number(bytes * 8.0 / elements, 'f', 3) : QString());
    if (result && result->analysis.params.blockCount() > 1)
        setValue(QStringLiteral("params"),
                 tr("%1 blocks (see Error view)").arg(result->analysis.params.blockCount()));
    else if (m_exact && result->analysis.params.blockCount() == 1)
        setValue(QStringLiteral("params"), QStringLiteral("S = %1, Z = %2")
                                               .arg(MetricText::number(result->analysis.params.scale.front()))
                                               .arg(result->analysis.params.zeroPoint.front()));
    else
        setValue(QStringLiteral("params"), QStringLiteral("≈ S = %1, Z = %2")
                                               .arg(MetricText::number(preview.estimate.scale))
                                               .arg(preview.estimate.zeroPoint));
}

} // namespace quantscope::ui
