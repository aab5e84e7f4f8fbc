#include "learn/LearnMappingPage.h"

#include "learn/LearnNumberLine.h"
#include "learn/LearnTensorStudy.h"
#include "learn/UnbrokenNumbers.h"
#include "plots/PlotBase.h"
#include "quantscope/analysis/FineHistogram.h"
#include "widgets/FitScrollArea.h"

#include <QBoxLayout>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include <cmath>

namespace quantscope::ui {
namespace {

QString n(double v) {
    return QString::number(v, 'g', 7);
}

} // namespace

LearnMappingPage::LearnMappingPage(QWidget* parent)
    : QWidget(parent), m_value(new QDoubleSpinBox(this)), m_heading(new QLabel(this)),
      m_symmetricText(new QLabel(this)), m_affineText(new QLabel(this)),
      m_line(new LearnNumberLine(false, this)), m_zoom(new LearnNumberLine(true, this)),
      m_lines(new QBoxLayout(QBoxLayout::TopToBottom)) {
    m_value->setDecimals(6);
    m_value->setRange(-1e9, 1e9);
    m_value->setSingleStep(0.001);
    m_value->setPrefix(QStringLiteral("x = "));
    m_value->setMinimumWidth(170);
    auto* typical = new QPushButton(tr("Typical value"), this);
    typical->setToolTip(tr("The 90th percentile of the tensor's values"));
    auto* largest = new QPushButton(tr("Largest |x|"), this);
    auto* outside = new QPushButton(tr("Beyond the range"), this);
    outside->setToolTip(tr("A value 20 % past the calibrated maximum: watch it clip"));
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Pick a value:"), this));
    controls->addWidget(m_value);
    controls->addWidget(typical);
    controls->addWidget(largest);
    controls->addWidget(outside);
    auto* hint = new QLabel(tr("or click on the number line"), this);
    hint->setEnabled(false);
    controls->addWidget(hint);
    controls->addStretch(1);

    m_heading->setWordWrap(true);
    for (QLabel* label : {m_symmetricText, m_affineText}) {
        label->setTextFormat(Qt::RichText);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        label->setAlignment(Qt::AlignTop | Qt::AlignLeft);
        label->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
        label->setWordWrap(true); // never wider than half the window, also in presentation mode
    }
    auto* tables = new QHBoxLayout;
    tables->addWidget(m_symmetricText, 1);
    tables->addWidget(m_affineText, 1);
    // The two number lines stacked, or side by side when the page is too short for both (a
    // projector's 1280×720 or 1920×1080 with presentation mode's large type): see fitLines().
    m_lines->addWidget(m_line, 3);
    m_lines->addWidget(m_zoom, 2);
    // In a scroll area: a window smaller than the page's minimum scrolls rather than squeezing the plots.
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    layout->addLayout(controls);
    layout->addWidget(m_heading);
    layout->addLayout(tables);
    layout->addLayout(m_lines, 1);
    auto* scroll = m_scroll = new FitScrollArea(this);
    scroll->setWidget(content);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);

    connect(m_value, &QDoubleSpinBox::valueChanged, this, &LearnMappingPage::refresh);
    connect(m_line, &LearnNumberLine::valuePicked, this, &LearnMappingPage::setValue);
    connect(m_zoom, &LearnNumberLine::valuePicked, this, &LearnMappingPage::setValue);
    connect(typical, &QPushButton::clicked, this, [this] {
        if (m_histogram && !m_histogram->isEmpty())
            setValue(m_histogram->quantile(90.0));
    });
    connect(largest, &QPushButton::clicked, this, [this] {
        if (m_histogram && !m_histogram->isEmpty())
            setValue(std::abs(m_histogram->max()) >= std::abs(m_histogram->min()) ? m_histogram->max()
                                                                                  : m_histogram->min());
    });
    connect(outside, &QPushButton::clicked, this, [this] {
        if (m_study)
            setValue(1.2 * std::max(m_study->affineRange.max, m_study->symmetricRange.max) + 1e-6);
    });
    clear(tr("Open a file (or the demo) and select a tensor: its numbers appear here."));
}

void LearnMappingPage::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    scheduleFit();
}

void LearnMappingPage::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::FontChange)
        scheduleFit();
    if (event->type() == QEvent::PaletteChange)
        refresh(); // the headings' colours follow the palette
}

void LearnMappingPage::scheduleFit() {
    // After the layouts have placed the tables at the new size (or with the new type).
    if (!m_fitPending) {
        m_fitPending = true;
        QMetaObject::invokeMethod(this, &LearnMappingPage::fitLines, Qt::QueuedConnection);
    }
}

void LearnMappingPage::fitLines() {
    m_fitPending = false;
    // What the tables above leave for the lines does not depend on how the lines are arranged.
    const int room = m_scroll->viewport()->height() - m_line->y() -
                     m_scroll->widget()->layout()->contentsMargins().bottom();
    const int stacked = m_line->minimumHeight() + m_zoom->minimumHeight() + m_lines->spacing();
    const bool sideBySide = m_lines->direction() == QBoxLayout::LeftToRight;
    // Stacked only with a line of text to spare (the tables' wrapping can shift by a line), and
    // two before stacking again, so the arrangement does not flip back and forth.
    const int line = QFontMetrics(font()).height();
    if (!sideBySide && room < stacked + line)
        m_lines->setDirection(QBoxLayout::LeftToRight);
    else if (sideBySide && room >= stacked + 2 * line)
        m_lines->setDirection(QBoxLayout::TopToBottom);
}

bool LearnMappingPage::linesSideBySide() const {
    return m_lines->direction() == QBoxLayout::LeftToRight;
}

void LearnMappingPage::setValueFor(double x, const std::string& tensor) {
    m_valueForTensor = tensor;
    setValue(x);
}

void LearnMappingPage::setValue(double x) {
    // Round to what the box shows, so the number typed and the number used are the same.
    m_value->setValue(x);
}

double LearnMappingPage::value() const {
    return m_value->value();
}

void LearnMappingPage::clear(const QString& message) {
    m_study.reset();
    m_symmetric.reset();
    m_affine.reset();
    m_heading->setText(message);
    m_symmetricText->clear();
    m_affineText->clear();
    m_line->clearSteps();
    m_zoom->clearSteps();
}

void LearnMappingPage::setStudy(std::shared_ptr<const LearnTensorStudy> study,
                                std::shared_ptr<const FineHistogram> histogram) {
    m_study = std::move(study);
    m_histogram = std::move(histogram);
    if (m_study && m_study->tensorName != m_valueForTensor) {
        // A new tensor starts from a typical value of it.
        m_valueForTensor = m_study->tensorName;
        const QSignalBlocker blocker(m_value);
        m_value->setValue(m_histogram && !m_histogram->isEmpty() ? m_histogram->quantile(90.0)
                                                                 : m_study->affineRange.max * 0.5);
    }
    refresh();
}

QString LearnMappingPage::table(const LearnMappingSteps& s, bool current) const {
    const bool symmetric = s.spec.scheme == Scheme::Symmetric;
    // The application font's size: presentation mode scales it, and the tables with it.
    const double points = PlotBase::textFont().pointSizeF();
    // The schemes' colours of the number lines, lighter on a dark palette so the headings read.
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const QString colour = symmetric ? (dark ? QStringLiteral("#56b4e9") : QStringLiteral("#0072b2"))
                                     : (dark ? QStringLiteral("#f0a060") : QStringLiteral("#b34700"));
    QString html =
        QStringLiteral("<style>td{padding:1px 8px; font-size:%1pt;} .f{font-family:monospace;}</style>")
            .arg(points);
    html += QStringLiteral("<p style='font-size:%1pt; color:%2'><b>%3</b>%4</p>")
                .arg(points + 2)
                .arg(colour, symmetric ? tr("Symmetric") : tr("Affine"),
                     current ? tr(" — the current setting") : QString());
    html += QStringLiteral("<table>");
    const auto row = [&html](const QString& what, const QString& formula, const QString& value) {
        html += QStringLiteral(
                    "<tr><td>%1</td><td class='f'>%2</td><td class='f' align='right'><b>%3</b></td></tr>")
                    .arg(what, unbrokenNumbers(formula), unbrokenNumbers(value));
    };
    const int64_t levels = s.qmax - s.qmin;
    if (symmetric)
        row(tr("scale"), QStringLiteral("S = max(−min⁻, max⁺) / (%1/2)").arg(levels), n(s.scale));
    else
        row(tr("scale"), QStringLiteral("S = (max⁺ − min⁻) / %1").arg(levels), n(s.scale));
    row(tr("zero point"),
        symmetric ? (s.spec.format.isSigned ? tr("Z = 0 (signed)") : tr("Z = middle level"))
                  : QStringLiteral("Z = qmin − round(min⁻/S)"),
        QString::number(s.zeroPoint));
    row(tr("1. divide"), QStringLiteral("x / S = %1 × %2").arg(n(s.x), n(s.inverseScale)), n(s.divided));
    row(tr("2. shift"), QStringLiteral("+ Z"), n(s.shifted));
    row(tr("3. round"), tr("half to even"), n(s.rounded));
    row(tr("4. clip"), QStringLiteral("to [%1, %2]").arg(s.qmin).arg(s.qmax),
        QStringLiteral("x_q = %1%2").arg(s.quantized).arg(s.clipped ? tr(" ✂") : QString()));
    row(tr("5. dequantize"), QStringLiteral("x̂ = (x_q − Z) · S"), n(s.dequantized));
    row(tr("6. error"),
        s.clipped ? tr("x − x̂ (clipped: larger than S/2)")
                  : QStringLiteral("x − x̂ (|·| ≤ S/2 = %1)").arg(n(s.scale / 2.0)),
        n(s.error));
    html += QStringLiteral("</table>");
    // One line, so the page keeps its height for the number lines on a projector.
    html += QStringLiteral("<p style='font-size:%1pt'>").arg(points) +
            unbrokenNumbers(tr("grid [%1, %2] · tensor [%3, %4] · %5 of %6 levels unused")
                                .arg(n(s.gridLow), n(s.gridHigh), n(s.range.min), n(s.range.max))
                                .arg(s.wastedLevels)
                                .arg(levels + 1)) +
            QStringLiteral("</p>");
    return html;
}

void LearnMappingPage::refresh() {
    if (!m_study)
        return;
    const QuantSpec& base = m_study->baseSpec;
    QuantSpec symmetric = base;
    symmetric.scheme = Scheme::Symmetric;
    QuantSpec affine = base;
    affine.scheme = Scheme::Affine;
    affine.narrowRange = false;
    const float x = static_cast<float>(m_value->value());
    m_symmetric = LearnMappingSteps::compute(x, m_study->symmetricRange, symmetric);
    m_affine = LearnMappingSteps::compute(x, m_study->affineRange, affine);
    const TensorSettings& settings = m_study->settings;
    QString note;
    if (!settings.spec.format.isInteger())
        note = tr(" The tensor is set to %1, a float format; the lesson shows int8 instead.")
                   .arg(QString::fromStdString(settings.spec.format.name()));
    else if (settings.spec.granularity != Granularity::Tensor)
        note = tr(" Shown with one scale for the whole tensor (the settings use %1 granularity).")
                   .arg(QString::fromLatin1(granularityName(settings.spec.granularity)));
    m_heading->setText(
        tr("<b>%1</b> as %2, calibration %3: x_q = clamp(round(x / S + Z), qmin, qmax) and back, x̂ = (x_q − "
           "Z) · S.%4")
            .arg(QString::fromStdString(m_study->tensorName).toHtmlEscaped(),
                 QString::fromStdString(base.format.name()),
                 settings.manualRange ? tr("by hand") : QString::fromLatin1(calibMethodName(base.calib)),
                 note));
    m_symmetricText->setText(table(*m_symmetric, base.scheme == Scheme::Symmetric));
    m_affineText->setText(table(*m_affine, base.scheme == Scheme::Affine));
    m_line->setSteps(*m_symmetric, *m_affine, m_histogram);
    m_zoom->setSteps(*m_symmetric, *m_affine, m_histogram);
    scheduleFit(); // the tables' height may have changed
}

QString LearnMappingPage::stepsText() const {
    return m_symmetricText->text() + m_affineText->text();
}

} // namespace quantscope::ui
