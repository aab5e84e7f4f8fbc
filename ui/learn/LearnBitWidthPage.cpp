#include "learn/LearnBitWidthPage.h"

#include "learn/LearnPlot.h"
#include "learn/LearnTensorStudy.h"

#include <QGridLayout>
#include <QLabel>

#include <cmath>

namespace quantscope::ui {
namespace {

// 20·log10(2) dB: each bit halves the step and so the rounding noise amplitude.
constexpr double kDbPerBit = 6.0206;

} // namespace

LearnBitWidthPage::LearnBitWidthPage(QWidget* parent)
    : QWidget(parent), m_summary(new QLabel(this)), m_sqnr(new LearnPlot(this)),
      m_levels(new LearnPlot(this)), m_pareto(new LearnPlot(this)) {
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    auto* layout = new QGridLayout(this);
    layout->addWidget(m_summary, 0, 0, 1, 2);
    layout->addWidget(m_sqnr, 1, 0);
    layout->addWidget(m_levels, 1, 1);
    layout->addWidget(m_pareto, 2, 0, 1, 2);
    layout->setRowStretch(1, 1);
    layout->setRowStretch(2, 1);
    clear(tr("Select a tensor to sweep its bit width."));
}

void LearnBitWidthPage::clear(const QString& message) {
    m_summary->setText(message);
    for (LearnPlot* plot : {m_sqnr, m_levels, m_pareto}) {
        plot->reset({}, {}, {});
        plot->replot();
    }
}

void LearnBitWidthPage::setStudy(std::shared_ptr<const LearnTensorStudy> study) {
    if (!study || study->bitSweep.empty())
        return clear(tr("No sweep for this tensor."));
    const auto& sweep = study->bitSweep;
    QVector<double> bits;
    QVector<double> sqnr;
    QVector<double> levels;
    QVector<double> available;
    QVector<double> clipped;
    double at8 = std::nan("");
    for (const auto& point : sweep) {
        if (std::isnan(point.metrics.sqnrDb))
            continue; // exact or zero signal: no number to plot
        bits.append(point.bits);
        sqnr.append(point.metrics.sqnrDb);
        levels.append(static_cast<double>(std::max<int64_t>(1, point.metrics.levelsUsed)));
        available.append(std::ldexp(1.0, point.bits));
        clipped.append(100.0 * point.metrics.clippedFraction);
        if (point.bits == 8)
            at8 = point.metrics.sqnrDb;
    }
    const QuantSpec& spec = study->baseSpec;
    const Granularity granularity = study->settings.spec.granularity;
    const QString perBlock = granularity == Granularity::Tensor ? tr("per tensor")
                             : granularity == Granularity::Channel
                                 ? tr("per channel")
                                 : tr("groups of %1").arg(study->settings.spec.groupSize);
    const QString setting = QStringLiteral("%1 %2 %3, %4")
                                .arg(spec.format.isSigned ? QStringLiteral("intN") : QStringLiteral("uintN"),
                                     QString::fromLatin1(schemeName(spec.scheme)), perBlock,
                                     QString::fromLatin1(calibMethodName(spec.calib)));
    m_sqnr->reset(tr("SQNR, 16 → 2 bits"), tr("bits (16 → 2)"), tr("SQNR (dB)"));
    if (!std::isnan(at8)) {
        QVector<double> reference;
        for (double b : std::as_const(bits))
            reference.append(at8 + kDbPerBit * (b - 8.0));
        m_sqnr->addLine(tr("6.02 dB per bit (through the 8-bit point)"), bits, reference,
                        m_sqnr->textColour(), Qt::DashLine, false);
    }
    QStringList labels;
    for (int i = 0; i < bits.size(); ++i)
        labels.append(static_cast<int>(bits[i]) % 2 == 0 ? QString::number(sqnr[i], 'f', 1) : QString());
    m_sqnr->addLine(tr("measured"), bits, sqnr, m_sqnr->accentColour(0), Qt::SolidLine, true, false, labels);
    m_sqnr->finish(true);
    // Bits are whole numbers.
    // One ticker per plot: each thins its own ticks to the room it has.
    const auto everyTwoBits = [] {
        auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
        ticker->setTickStep(2.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssNone);
        return ticker;
    };
    m_sqnr->xAxis->setTicker(everyTwoBits());
    m_sqnr->xAxis->setRange(LearnTensorStudy::kHighestBits + 0.5, LearnTensorStudy::kLowestBits - 0.5);
    m_sqnr->replot();

    m_levels->reset(tr("Levels used and values clipped"), tr("bits (16 → 2)"), tr("levels"));
    m_levels->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_levels->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_levels->addLine(tr("levels available (2^bits)"), bits, available, m_levels->textColour(), Qt::DashLine,
                      false);
    m_levels->addLine(tr("levels used"), bits, levels, m_levels->accentColour(2));
    double mostClipped = 0.0;
    for (double c : std::as_const(clipped))
        mostClipped = std::max(mostClipped, c);
    m_levels->setRightAxis(tr("clipped (%)"), 0.0, mostClipped > 0 ? mostClipped * 1.25 : 1.0);
    m_levels->addLine(tr("clipped % (right axis)"), bits, clipped, m_levels->accentColour(5), Qt::SolidLine,
                      true, true);
    m_levels->finish(true);
    m_levels->yAxis->setRange(1.0, 2.0 * std::ldexp(1.0, LearnTensorStudy::kHighestBits));
    m_levels->yAxis2->setRange(0.0, mostClipped > 0 ? mostClipped * 1.25 : 1.0);
    m_levels->xAxis->setTicker(everyTwoBits());
    m_levels->xAxis->setRange(LearnTensorStudy::kHighestBits + 0.5, LearnTensorStudy::kLowestBits - 0.5);
    m_levels->replot();

    m_pareto->reset(tr("Granularity: storage against error (lower right is better)"),
                    tr("bits per value, scales and zero points included"), tr("SQNR (dB)"));
    int colour = 0;
    for (int width : {8, 4, 3}) {
        QVector<double> x;
        QVector<double> y;
        QStringList names;
        for (const auto& point : study->granularity) {
            if (point.bits != width || std::isnan(point.metrics.sqnrDb))
                continue;
            x.append(point.bitsPerValue);
            y.append(point.metrics.sqnrDb);
            names.append(QString::fromStdString(point.label()));
        }
        if (!x.isEmpty())
            m_pareto->addLine(tr("%1-bit").arg(width), x, y,
                              m_pareto->accentColour(colour == 0   ? 0
                                                     : colour == 1 ? 5
                                                                   : 3),
                              Qt::SolidLine, true, false, names);
        ++colour;
    }
    m_pareto->finish(false);
    m_pareto->replot();

    // The numbers a teacher reads out.
    QString text =
        tr("<b>%1</b>, %2: ").arg(QString::fromStdString(study->tensorName).toHtmlEscaped(), setting);
    const auto find = [&sweep](int b) -> const LearnTensorStudy::BitPoint* {
        for (const auto& p : sweep)
            if (p.bits == b)
                return &p;
        return nullptr;
    };
    const auto* b8 = find(8);
    const auto* b4 = find(4);
    if (b8 && b4 && !std::isnan(b8->metrics.sqnrDb) && !std::isnan(b4->metrics.sqnrDb))
        text += tr("8 bits give %1 dB, 4 bits %2 dB: %3 dB per bit removed (the rule says 6.02). ")
                    .arg(b8->metrics.sqnrDb, 0, 'f', 1)
                    .arg(b4->metrics.sqnrDb, 0, 'f', 1)
                    .arg((b8->metrics.sqnrDb - b4->metrics.sqnrDb) / 4.0, 0, 'f', 2);
    const LearnTensorStudy::GranularityPoint* tensor4 = nullptr;
    const LearnTensorStudy::GranularityPoint* best4 = nullptr;
    for (const auto& p : study->granularity) {
        if (p.bits != 4 || std::isnan(p.metrics.sqnrDb))
            continue;
        if (p.granularity == Granularity::Tensor)
            tensor4 = &p;
        if (!best4 || p.metrics.sqnrDb > best4->metrics.sqnrDb)
            best4 = &p;
    }
    if (tensor4 && best4)
        text += tr("At 4 bits, %1 scales reach %2 dB for %3 bits per value, against %4 dB for one scale per "
                   "tensor.")
                    .arg(QString::fromStdString(best4->label()))
                    .arg(best4->metrics.sqnrDb, 0, 'f', 1)
                    .arg(best4->bitsPerValue, 0, 'f', 2)
                    .arg(tensor4->metrics.sqnrDb, 0, 'f', 1);
    m_summary->setText(text);
}

} // namespace quantscope::ui
