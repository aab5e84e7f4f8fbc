#include "learn/LearnCalibrationPage.h"

#include "learn/LearnPlot.h"
#include "learn/LearnTensorStudy.h"
#include "plots/PlotBase.h"
#include "quantscope/analysis/FineHistogram.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <cmath>

namespace quantscope::ui {

LearnCalibrationPage::LearnCalibrationPage(QWidget* parent)
    : QWidget(parent), m_summary(new QLabel(this)), m_histogram(new LearnPlot(this)),
      m_error(new LearnPlot(this)) {
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* plots = new QHBoxLayout;
    plots->addWidget(m_histogram, 3);
    plots->addWidget(m_error, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(plots, 1);
    layout->addWidget(m_summary);
    clear(tr("Select a tensor to compare calibration methods on it."));
}

void LearnCalibrationPage::clear(const QString& message) {
    m_summary->setText(message);
    for (LearnPlot* plot : {m_histogram, m_error}) {
        plot->reset({}, {}, {});
        plot->replot();
    }
}

void LearnCalibrationPage::setStudy(std::shared_ptr<const LearnTensorStudy> study,
                                    std::shared_ptr<const FineHistogram> histogram) {
    if (!study || study->calibration.empty())
        return clear(tr("No calibration method applies to these settings."));
    const QString bits = QString::fromStdString(study->baseSpec.format.name());
    m_histogram->reset(tr("Where each method clips (%1 %2)")
                           .arg(bits, QString::fromLatin1(schemeName(study->baseSpec.scheme))),
                       tr("value"), tr("count (log scale)"));
    if (histogram && !histogram->isEmpty()) {
        const int bins = 200;
        const double from = histogram->min();
        const double to = histogram->max() > from ? histogram->max() : from + 1.0;
        const std::vector<double> counts = histogram->rebin(from, to, bins);
        QVector<double> x;
        QVector<double> y;
        for (int i = 0; i < bins; ++i) {
            x.append(from + (i + 0.5) * (to - from) / bins);
            y.append(std::max(0.5, counts[static_cast<std::size_t>(i)]));
        }
        QCPGraph* graph =
            m_histogram->addLine(tr("values"), x, y, m_histogram->textColour(), Qt::SolidLine, false);
        graph->setLineStyle(QCPGraph::lsStepCenter);
        graph->setPen(QPen(m_histogram->textColour(), PlotBase::lineScale()));
        QColor fill = m_histogram->textColour();
        fill.setAlpha(60);
        graph->setBrush(fill);
        graph->setChannelFillGraph(nullptr);
        m_histogram->legend->setVisible(false);
    }
    m_histogram->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_histogram->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_histogram->finish(false);
    m_histogram->yAxis->setRangeLower(0.5);
    // Labels are stacked at different heights so methods with the same threshold stay readable.
    int index = 0;
    QStringList names;
    QVector<double> clipMse;
    QVector<double> roundMse;
    for (const auto& point : study->calibration) {
        const QColor colour = m_histogram->accentColour(index == 0   ? 1
                                                        : index == 1 ? 2
                                                        : index == 2 ? 3
                                                        : index == 3 ? 5
                                                                     : 0);
        const QString name = QString::fromLatin1(calibMethodName(point.method));
        m_histogram->addVerticalMarker(point.range.max, name, colour, index);
        if (point.range.min < 0.0f)
            m_histogram->addVerticalMarker(point.range.min, name, colour, index);
        names.append(name);
        clipMse.append(point.metrics.clipMse);
        roundMse.append(point.metrics.roundMse);
        ++index;
    }
    m_histogram->replot();

    m_error->reset(tr("MSE split: clipping + rounding"), tr("calibration method"), tr("mean squared error"));
    m_error->addStackedBars(tr("rounding (values inside the range)"), names, roundMse,
                            m_error->accentColour(0));
    m_error->addStackedBars(tr("clipping (values beyond it)"), names, clipMse, m_error->accentColour(5));
    m_error->finish(false);

    // A table of the numbers behind the plots.
    // The application font's size: presentation mode scales it, and the tables with it.
    const double points = PlotBase::textFont().pointSizeF();
    QString html =
        QStringLiteral("<style>td,th{padding:2px 10px; font-size:%1pt;}</style><table><tr>").arg(points);
    for (const QString& head : {tr("method"), tr("range"), tr("clipped"), tr("clipping MSE"),
                                tr("rounding MSE"), tr("MSE"), tr("SQNR")})
        html += QStringLiteral("<th align='left'>%1</th>").arg(head);
    html += QStringLiteral("</tr>");
    const LearnTensorStudy::CalibrationPoint* best = nullptr;
    for (const auto& p : study->calibration) {
        if (!best || p.metrics.mse < best->metrics.mse)
            best = &p;
        const QString cells =
            QStringLiteral("<tr><td>%1</td><td>[%2, %3]</td><td>%4 "
                           "%</td><td>%5</td><td>%6</td><td>%7</td><td>%8</td></tr>")
                .arg(QString::fromLatin1(calibMethodName(p.method)))
                .arg(static_cast<double>(p.range.min), 0, 'g', 4)
                .arg(static_cast<double>(p.range.max), 0, 'g', 4)
                .arg(100.0 * p.metrics.clippedFraction, 0, 'f', 3)
                .arg(p.metrics.clipMse, 0, 'g', 3)
                .arg(p.metrics.roundMse, 0, 'g', 3)
                .arg(p.metrics.mse, 0, 'g', 3)
                .arg(std::isnan(p.metrics.sqnrDb)
                         ? QString::fromStdString(p.metrics.sqnrNote)
                         : QString(QString::number(p.metrics.sqnrDb, 'f', 2) + QStringLiteral(" dB")));
        // Numbers stay whole when the table is narrow (the cells hold no other markup).
        html += cells.split(QStringLiteral("<td>"))
                    .join(QStringLiteral("<td><span style='white-space:nowrap'>"))
                    .replace(QStringLiteral("</td>"), QStringLiteral("</span></td>"));
    }
    html += QStringLiteral("</table>");
    if (best)
        html += QStringLiteral("<p style='font-size:%1pt'>").arg(points) +
                tr("Lowest error: <b>%1</b>. Min-max never clips, so all its error is rounding; the others "
                   "give up a few "
                   "values in the tails for a finer step everywhere else.")
                    .arg(QString::fromLatin1(calibMethodName(best->method))) +
                QStringLiteral("</p>");
    m_summary->setText(html);
}

} // namespace quantscope::ui
