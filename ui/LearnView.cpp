#include "LearnView.h"

#include "AnalysisController.h"
#include "MetricText.h"
#include "MetricsPreview.h"
#include "Session.h"

#include "quantscope/quant/ValueQuantizer.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include <cmath>

namespace quantscope::ui {

// The number line under the steps: levels as ticks, x as a dot, x̂ as a ring, an arrow between.
class LearnView::NumberLine : public PlotBase {
public:
    explicit NumberLine(QWidget* parent) : PlotBase(parent), m_levels(addGraph()), m_x(addGraph()), m_xhat(addGraph()) {
        yAxis->setVisible(false);
        yAxis->setRange(-1, 1);
        xAxis->setLabel(tr("value"));
        m_levels->setLineStyle(QCPGraph::lsImpulse);
        m_x->setLineStyle(QCPGraph::lsNone);
        m_xhat->setLineStyle(QCPGraph::lsNone);
        m_x->setName(tr("value x"));
        m_xhat->setName(tr("dequantized"));
        m_levels->setName(tr("levels"));
        legend->setVisible(true);
        m_arrow = new QCPItemLine(this);
        m_arrow->setHead(QCPLineEnding::esSpikeArrow);
        setMinimumHeight(140);
        applyStyle();
    }
    void applyStyle() override {
        PlotBase::applyStyle();
        if (!m_xhat)
            return;
        m_levels->setPen(QPen(textColour(), 1.5 * lineScale()));
        m_x->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, accentColour(5), 12 * lineScale()));
        m_xhat->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(accentColour(2), 3 * lineScale()),
                                                Qt::NoBrush, 18 * lineScale()));
        m_arrow->setPen(QPen(accentColour(1), 2 * lineScale()));
    }
    void show(const std::vector<double>& levels, double x, double xhat) {
        m_levelKeys = levels;
        QVector<double> keys(levels.begin(), levels.end());
        m_levels->setData(keys, QVector<double>(keys.size(), 0.5), true);
        m_x->setData({x}, {0.0});
        m_xhat->setData({xhat}, {0.0});
        m_arrow->start->setCoords(x, -0.35);
        m_arrow->end->setCoords(xhat, -0.35);
        m_arrow->setVisible(x != xhat);
        double lo = std::min(x, xhat);
        double hi = std::max(x, xhat);
        if (!levels.empty()) {
            lo = std::min(lo, levels.front());
            hi = std::max(hi, levels.back());
        }
        const double pad = (hi - lo) * 0.08 + 1e-9;
        xAxis->setRange(lo - pad, hi + pad);
        replot();
    }
    QString dataAsText() const override {
        QString text = QStringLiteral("level\n");
        for (double level : m_levelKeys)
            text += QString::number(level, 'g', 9) + QLatin1Char('\n');
        return text;
    }

private:
    QCPGraph* m_levels;
    QCPGraph* m_x;
    QCPGraph* m_xhat;
    QCPItemLine* m_arrow = nullptr;
    std::vector<double> m_levelKeys;
};

LearnView::LearnView(Session* session, AnalysisController* controller, QWidget* parent)
    : QWidget(parent), m_session(session), m_controller(controller), m_value(new QDoubleSpinBox(this)),
      m_steps(new QLabel(this)), m_line(new NumberLine(this)) {
    m_value->setDecimals(6);
    m_value->setRange(-1e9, 1e9);
    m_value->setSingleStep(0.001);
    m_value->setPrefix(tr("x = "));
    auto* largest = new QPushButton(tr("Largest value"), this);
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Walk one value through quantization:"), this));
    controls->addWidget(m_value);
    controls->addWidget(largest);
    controls->addStretch(1);
    m_steps->setTextFormat(Qt::RichText);
    m_steps->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_steps->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_steps, 3);
    layout->addWidget(m_line, 2);

    connect(m_value, &QDoubleSpinBox::valueChanged, this, &LearnView::refresh);
    connect(largest, &QPushButton::clicked, this, [this] {
        if (const auto h = m_controller->histogram(m_session->currentRow()))
            setValue(std::abs(h->max()) >= std::abs(h->min()) ? h->max() : h->min());
    });
    connect(controller, &AnalysisController::previewChanged, this, &LearnView::refresh);
    connect(session, &Session::resultChanged, this, &LearnView::refresh);
    refresh();
}

void LearnView::setValue(double x) { m_value->setValue(x); }

QString LearnView::stepsText() const { return m_steps->text(); }

void LearnView::refresh() {
    const int row = m_session->currentRow();
    const Preview& preview = m_controller->preview();
    const auto histogram = m_controller->histogram(row);
    if (row < 0 || !preview.valid || !histogram) {
        m_steps->setText(tr("<p>Open a file and select a tensor to see its numbers here.</p>"));
        return;
    }
    if (m_valueForRow != row) {
        // Start from a typical value: the 90th percentile of the tensor.
        m_valueForRow = row;
        const QSignalBlocker blocker(m_value);
        m_value->setValue(histogram->quantile(90.0));
    }
    const QuantSpec& spec = m_session->settings(row).spec;
    const auto result = m_session->result(row);
    const bool exact = result && result->analysis.params.blockCount() == 1 && !preview.dragged;
    const Range range = exact ? Range{result->analysis.params.min.front(), result->analysis.params.max.front()} : preview.clip;
    const float scale = exact ? result->analysis.params.scale.front() : preview.estimate.scale;
    const int32_t zp = exact ? result->analysis.params.zeroPoint.front() : preview.estimate.zeroPoint;
    const double x = m_value->value();
    const auto n = [](double v) { return QString::number(v, 'g', 7); };
    const int points = PlotBase::presentationMode() ? 20 : 13;
    QString html = QStringLiteral("<style>td{padding:4px 12px; font-size:%1pt;} p{font-size:%1pt;} .f{font-family:monospace;}</style>")
                       .arg(points);
    html += tr("<p><b>%1</b> · %2 %3, calibration <i>%4</i>%5</p>")
                .arg(m_session->tensorName(row).toHtmlEscaped(), QString::fromStdString(spec.format.name()),
                     QString::fromLatin1(schemeName(spec.scheme)),
                     m_session->settings(row).manualRange ? tr("manual") : QString::fromLatin1(calibMethodName(spec.calib)),
                     spec.granularity == Granularity::Tensor ? QString() : tr(" (shown with the per-tensor range)"));
    html += QStringLiteral("<table>");
    const auto step = [&html](const QString& what, const QString& formula, const QString& value) {
        html += QStringLiteral("<tr><td>%1</td><td class='f'>%2</td><td class='f'><b>%3</b></td></tr>").arg(what, formula, value);
    };
    const double minNeg = std::min<double>(range.min, 0.0);
    const double maxPos = std::max<double>(range.max, 0.0);
    step(tr("1. clipping range"), tr("min⁻ = min(min, 0), max⁺ = max(max, 0)"), QStringLiteral("[%1, %2]").arg(n(minNeg), n(maxPos)));
    double xhat = x;
    std::vector<double> levels;
    if (spec.format.isInteger()) {
        const int64_t qmin = spec.qmin();
        const int64_t qmax = spec.qmax();
        if (spec.scheme == Scheme::Affine)
            step(tr("2. scale"), QStringLiteral("S = (max⁺ − min⁻) / (qmax − qmin) = %1 / %2").arg(n(maxPos - minNeg)).arg(qmax - qmin), n(scale));
        else
            step(tr("2. scale"), QStringLiteral("S = max(−min⁻, max⁺) / ((qmax − qmin)/2) = %1 / %2").arg(n(std::max(-minNeg, maxPos))).arg(n((qmax - qmin) / 2.0)), n(scale));
        step(tr("3. zero point"), spec.scheme == Scheme::Affine ? QStringLiteral("Z = clamp(qmin − round(min⁻ / S))") : tr("Z fixed by the scheme"), QString::number(zp));
        const IntegerQuantizer q(scale, zp, static_cast<int32_t>(qmin), static_cast<int32_t>(qmax));
        const float product = static_cast<float>(x) * q.inverseScale;
        step(tr("4. divide"), QStringLiteral("x · (1/S) = %1 · %2").arg(n(x), n(q.inverseScale)), n(product));
        const float rounded = std::nearbyint(product);
        step(tr("5. round"), tr("half to even"), n(rounded));
        const float shifted = rounded + static_cast<float>(zp);
        step(tr("6. shift"), QStringLiteral("+ Z"), n(shifted));
        const int32_t integer = q.quantize(static_cast<float>(x));
        const bool clipped = shifted < static_cast<float>(qmin) || shifted > static_cast<float>(qmax);
        step(tr("7. clamp"), QStringLiteral("x_q = clamp(·, %1, %2)").arg(qmin).arg(qmax),
             QString::number(integer) + (clipped ? tr("  ← clipped") : QString()));
        xhat = q.dequantize(integer);
        step(tr("8. dequantize"), QStringLiteral("x̂ = (x_q − Z) · S"), n(xhat));
        step(tr("9. error"), QStringLiteral("x − x̂ (≤ S/2 = %1 unless clipped)").arg(n(scale / 2.0)), n(x - xhat));
        levels = MetricsPreview::levels(spec, scale, zp, std::min(x, xhat) - 3.5 * scale, std::max(x, xhat) + 3.5 * scale, 64);
    } else {
        bool clipped = false;
        uint32_t code = 0;
        xhat = MetricsPreview::fakeQuantize(x, spec, scale, zp, clipped, code);
        step(tr("2. scale"), spec.format.floatMax() > 1.0f ? QStringLiteral("S = amax / %1").arg(n(spec.format.floatMax())) : QStringLiteral("S"), n(scale));
        step(tr("3. divide"), QStringLiteral("x / S"), n(x / scale));
        step(tr("4. nearest code"), tr("round to the nearest %1 value").arg(QString::fromStdString(spec.format.name())),
             QStringLiteral("code 0x%1%2").arg(code, 0, 16).arg(clipped ? tr("  ← clipped") : QString()));
        step(tr("5. dequantize"), QStringLiteral("x̂ = code · S"), n(xhat));
        step(tr("6. error"), QStringLiteral("x − x̂"), n(x - xhat));
        const double span = std::max(std::abs(x - xhat) * 4.0, std::abs(x) * 0.25 + 1e-6);
        levels = MetricsPreview::levels(spec, scale, zp, x - span, x + span, 64);
    }
    html += QStringLiteral("</table>");
    if (!exact)
        html += tr("<p><i>Parameters from the histogram estimate; the exact ones follow.</i></p>");
    m_steps->setText(html);
    m_line->show(levels, x, xhat);
}

} // namespace quantscope::ui
