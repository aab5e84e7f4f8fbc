#include "views/DistributionPlot.h"

#include "session/AnalysisController.h"
#include "session/Session.h"
#include "widgets/MetricText.h"

#include <QLocale>
#include <QMenu>

#include <algorithm>
#include <cmath>

namespace quantscope::ui {
namespace {

constexpr CalibMethod kMarkerMethods[] = {CalibMethod::MinMax,     CalibMethod::MovingAverage,
                                          CalibMethod::Percentile, CalibMethod::Mse,
                                          CalibMethod::Entropy,    CalibMethod::Histogram};

QCPItemStraightLine* verticalLine(QCustomPlot* plot) {
    auto* line = new QCPItemStraightLine(plot);
    line->point1->setCoords(0, 0);
    line->point2->setCoords(0, 1);
    line->setSelectable(false);
    return line;
}

void setVerticalLine(QCPItemStraightLine* line, double x) {
    line->point1->setCoords(x, 0);
    line->point2->setCoords(x, 1);
}

} // namespace

DistributionPlot::DistributionPlot(Session* session, AnalysisController* controller, QWidget* parent)
    : PlotBase(parent), m_session(session), m_controller(controller), m_histogram(addGraph()),
      m_lowLine(verticalLine(this)), m_highLine(verticalLine(this)), m_lowTail(new QCPItemRect(this)),
      m_highTail(new QCPItemRect(this)), m_clipText(new QCPItemText(this)), m_title(new QCPItemText(this)) {
    xAxis->setLabel(tr("value"));
    yAxis->setLabel(tr("count"));
    m_histogram->setLineStyle(QCPGraph::lsStepCenter);
    // Each tail spans from the clipping line to the edge of the axis rect, full height. Types are
    // set before coordinates: changing a type converts the coordinates already set.
    for (QCPItemRect* tail : {m_lowTail, m_highTail}) {
        tail->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
        tail->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
        tail->setSelectable(false);
    }
    m_lowTail->topLeft->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_highTail->bottomRight->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_lowTail->topLeft->setCoords(0, 0);
    m_lowTail->bottomRight->setCoords(0, 1);
    m_highTail->topLeft->setCoords(0, 0);
    m_highTail->bottomRight->setCoords(1, 1);
    for (QCPItemText* text : {m_clipText, m_title}) {
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->setSelectable(false);
        text->setClipToAxisRect(false);
    }
    m_title->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    m_title->position->setCoords(0.0, -0.02);
    m_clipText->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    m_clipText->position->setCoords(1.0, -0.02);
    axisRect()->setRangeDrag(Qt::Horizontal);
    axisRect()->setRangeZoom(Qt::Horizontal);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setMinimumMargins(QMargins(10, 36, 10, 10));
    setMouseTracking(true);
    applyStyle();

    connect(controller, &AnalysisController::previewChanged, this, &DistributionPlot::rebuild);
    connect(controller, &AnalysisController::markersChanged, this, [this] {
        updateMarkers();
        replot();
    });
    connect(session, &Session::resultChanged, this, [this](int row) {
        if (row == m_session->currentRow())
            rebuild();
    });
    rebuild();
}

void DistributionPlot::applyStyle() {
    PlotBase::applyStyle();
    if (!m_histogram)
        return;
    const QColor bars = accentColour(0);
    QColor fill = bars;
    fill.setAlpha(110);
    m_histogram->setPen(QPen(bars, 1.2 * lineScale()));
    m_histogram->setBrush(fill);
    const QColor clipColour(0xd6, 0x45, 0x45);
    QColor tailFill = clipColour;
    tailFill.setAlpha(45);
    for (QCPItemRect* tail : {m_lowTail, m_highTail}) {
        tail->setPen(Qt::NoPen);
        tail->setBrush(tailFill);
    }
    for (QCPItemStraightLine* line : {m_lowLine, m_highLine})
        line->setPen(QPen(clipColour, 2.2 * lineScale()));
    const QFont font = textFont();
    for (QCPItemText* text : {m_clipText, m_title}) {
        text->setFont(font);
        text->setColor(textColour());
    }
    m_clipText->setColor(clipColour);
}

void DistributionPlot::setLogScale(bool on) {
    m_log = on;
    rebuild();
}

bool DistributionPlot::draggable() const {
    const int row = m_session->currentRow();
    return row >= 0 && m_controller->preview().valid &&
           m_session->settings(row).spec.granularity == Granularity::Tensor;
}

void DistributionPlot::rebuild() {
    const int row = m_session->currentRow();
    const auto histogram = row >= 0 ? m_controller->histogram(row) : nullptr;
    const Preview& preview = m_controller->preview();
    m_binCenters.clear();
    m_binCounts.clear();
    if (!histogram || histogram->isEmpty() || !(preview.valid || preview.chosenPerBlock)) {
        m_histogram->data()->clear();
        m_title->setText(!m_session->hasTensors() ? tr("Open a weights file (Ctrl+O) or the demo")
                         : row < 0                ? tr("Select a tensor")
                         : histogram && histogram->isEmpty()
                             ? tr("%1 has no finite values").arg(m_session->tensorName(row))
                             : tr("Loading %1…").arg(m_session->tensorName(row)));
        updateOverlays();
        replot();
        return;
    }
    // The view spans the data, the clipping range (lines dragged outside stay visible) and the
    // calibration markers (a symmetric threshold may lie past the data on one side).
    double from = std::min<double>(histogram->min(), preview.clip.min);
    double to = std::max<double>(histogram->max(), preview.clip.max);
    if (m_controller->markersCurrent())
        for (const auto& [method, range] : m_controller->markers()) {
            from = std::min<double>(from, range.min);
            to = std::max<double>(to, range.max);
        }
    const double pad = (to - from) * 0.04;
    const auto counts =
        histogram->rebin(histogram->min(), histogram->max() + histogram->binWidth() * 1e-6, kDisplayBins);
    const double width = (histogram->max() - histogram->min()) / kDisplayBins;
    double top = 1.0;
    QVector<double> keys;
    QVector<double> values;
    for (int b = 0; b < kDisplayBins; ++b) {
        const double x = histogram->min() + (b + 0.5) * width;
        const double c = counts[static_cast<std::size_t>(b)];
        m_binCenters.push_back(x);
        m_binCounts.push_back(c);
        keys.append(x);
        values.append(m_log ? std::max(c, 0.5) : c);
        top = std::max(top, c);
    }
    m_histogram->setData(keys, values, true);
    if (m_dragging == 0)
        xAxis->setRange(from - pad, to + pad);
    if (m_log) {
        yAxis->setScaleType(QCPAxis::stLogarithmic);
        yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
        yAxis->setRange(0.7, top * 4.0);
    } else {
        yAxis->setScaleType(QCPAxis::stLinear);
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
        yAxis->setRange(0.0, top * 1.12);
    }
    const TensorSettings& settings = m_session->settings(row);
    const bool exact = m_session->result(row) != nullptr;
    if (preview.chosenPerBlock)
        m_title->setText(
            tr("%1   %2 · each block's parameters chosen from its values (llama.cpp)")
                .arg(m_session->tensorName(row), QString::fromStdString(settings.spec.format.name())));
    else
        m_title->setText(
            QStringLiteral("%1   %2 %3 · %4%5")
                .arg(m_session->tensorName(row), QString::fromStdString(settings.spec.format.name()),
                     QString::fromLatin1(schemeName(settings.spec.scheme)),
                     settings.stored        ? tr("parameters stored in the file")
                     : settings.exactParams ? tr("imported parameters")
                     : settings.manualRange ? tr("manual clipping")
                                            : QString::fromLatin1(calibMethodName(settings.spec.calib)),
                     exact ? QString() : tr(" · estimating…")));
    updateOverlays();
    updateMarkers();
    replot();
}

std::optional<Range> DistributionPlot::clipLines() const {
    if (!m_lowLine->visible())
        return std::nullopt;
    return Range{static_cast<float>(m_lowLine->point1->key()), static_cast<float>(m_highLine->point1->key())};
}

QString DistributionPlot::clippedText() const {
    return m_clipFull;
}

void DistributionPlot::setClipText(const QString& text) {
    m_clipFull = text;
    m_clipText->setText(text);
}

void DistributionPlot::updateOverlays() {
    for (auto* line : m_gridLines)
        removeItem(line);
    m_gridLines.clear();
    const int row = m_session->currentRow();
    const Preview& preview = m_controller->preview();
    const bool show = (preview.valid || preview.chosenPerBlock) && row >= 0;
    const bool perTensor =
        show && !preview.chosenPerBlock && m_session->settings(row).spec.granularity == Granularity::Tensor;
    for (QCPAbstractItem* item :
         {static_cast<QCPAbstractItem*>(m_lowLine), static_cast<QCPAbstractItem*>(m_highLine),
          static_cast<QCPAbstractItem*>(m_lowTail), static_cast<QCPAbstractItem*>(m_highTail)})
        item->setVisible(perTensor);
    m_clipText->setVisible(show);
    if (!show)
        return;
    const TensorSettings& settings = m_session->settings(row);
    if (!perTensor) {
        // One pair of clip lines would be wrong for all but one block: say what is drawn instead.
        const int blocks = m_session->result(row) ? m_session->result(row)->analysis.params.blockCount() : 0;
        const QString unit = settings.spec.granularity == Granularity::Channel ? tr("channel") : tr("group");
        if (preview.chosenPerBlock) {
            setClipText(tr("No clip lines: %1 chooses each block's scale from the block's %2 values, as "
                           "llama.cpp does (%3 blocks). The Error view shows the error per block.")
                            .arg(QString::fromStdString(settings.spec.format.name()))
                            .arg(settings.spec.format.blockSize())
                            .arg(blocks));
            return;
        }
        setClipText(tr("No clip lines: each %1 has its own range (%2 of them). The histogram is the "
                       "whole tensor; the Error view shows the error per %1.")
                        .arg(unit)
                        .arg(blocks));
        return;
    }
    const Range clip = preview.clip;
    setVerticalLine(m_lowLine, clip.min);
    setVerticalLine(m_highLine, clip.max);
    m_lowTail->bottomRight->setCoords(clip.min, 1);
    m_highTail->topLeft->setCoords(clip.max, 0);

    // Prefer the exact count once the worker has it for these very settings.
    ErrorMetrics metrics = preview.estimate.metrics;
    const auto result = m_session->result(row);
    const bool exact = result && m_dragging == 0;
    if (exact)
        metrics = result->analysis.metrics;
    const QLocale locale;
    QString clipped = tr("%1clipped %2 of %3 (%4)")
                          .arg(exact ? QString() : QStringLiteral("≈ "),
                               locale.toString(static_cast<qlonglong>(metrics.clippedCount)),
                               locale.toString(static_cast<qlonglong>(metrics.count)),
                               MetricText::percent(metrics.clippedFraction));
    // Symmetric grids have one more level below zero than above: S = max/((qmax − qmin)/2) puts
    // the top level at qmax·S, just under the max, which is then clipped (by under one step).
    const double top = (settings.spec.qmax() - preview.estimate.zeroPoint) * preview.estimate.scale;
    if (settings.spec.scheme == Scheme::Symmetric && settings.spec.format.isInteger() &&
        metrics.clippedCount > 0 && !settings.manualRange && top < clip.max)
        clipped += tr("\nsymmetric grid: the top level is %1·S = %2, below the max %3 — the max is clipped")
                       .arg(settings.spec.qmax() - preview.estimate.zeroPoint)
                       .arg(MetricText::number(top), MetricText::number(clip.max));
    setClipText(clipped);

    // The grid: every level inside the view when they are few enough to tell apart.
    const auto levels =
        MetricsPreview::levels(settings.spec, preview.estimate.scale, preview.estimate.zeroPoint,
                               xAxis->range().lower, xAxis->range().upper, kMaxGridLevels);
    QColor gridColour = textColour();
    gridColour.setAlpha(presentationMode() ? 150 : 110);
    for (double level : levels) {
        auto* line = verticalLine(this);
        setVerticalLine(line, level);
        line->setPen(QPen(gridColour, (level == 0.0 ? 1.6 : 0.8) * lineScale(), Qt::DashLine));
        line->setLayer(QStringLiteral("grid"));
        m_gridLines.push_back(line);
    }
}

void DistributionPlot::updateMarkers() {
    for (auto* item : m_markerItems)
        removeItem(item);
    m_markerItems.clear();
    const int row = m_session->currentRow();
    if (row < 0 || !m_controller->markersCurrent() || !m_controller->preview().valid)
        return;
    const QFont font = textFont(0.85);
    const auto& markers = m_controller->markers();
    int index = 0;
    for (CalibMethod method : kMarkerMethods) {
        ++index;
        const auto it = markers.find(method);
        if (it == markers.end())
            continue;
        const QColor colour = accentColour(index);
        const double y = 0.04 + 0.075 * (index - 1);
        for (const bool low : {true, false}) {
            const double x = low ? it->second.min : it->second.max;
            auto* tick = new QCPItemLine(this);
            tick->start->setTypeX(QCPItemPosition::ptPlotCoords);
            tick->start->setTypeY(QCPItemPosition::ptAxisRectRatio);
            tick->end->setTypeX(QCPItemPosition::ptPlotCoords);
            tick->end->setTypeY(QCPItemPosition::ptAxisRectRatio);
            tick->start->setCoords(x, y - 0.025);
            tick->end->setCoords(x, 1.0);
            tick->setPen(QPen(colour, 1.2 * lineScale(), Qt::DotLine));
            tick->setSelectable(false);
            tick->setProperty("markerRow", index - 1);
            m_markerItems.push_back(tick);
            auto* label = new QCPItemText(this);
            label->position->setTypeX(QCPItemPosition::ptPlotCoords);
            label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
            label->position->setCoords(x, y);
            // Labels point inwards, so a threshold at the edge of the plot keeps its name readable.
            label->setPositionAlignment((low ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter);
            label->setText(QString::fromLatin1(calibMethodName(method)));
            label->setFont(font);
            label->setColor(colour);
            label->setBrush(QBrush(palette().color(QPalette::Base)));
            label->setPadding(QMargins(2, 0, 2, 0));
            label->setSelectable(false);
            label->setProperty("markerRow", index - 1); // placed in pixels by fitContents
            m_markerItems.push_back(label);
        }
    }
}

void DistributionPlot::fitContents() {
    // The method labels one text line apart from the top, whatever the type size; their ticks
    // start at the label.
    const QRect area = axisRect()->rect();
    if (area.height() <= 0)
        return;
    placeHeader(area);
    for (QCPAbstractItem* item : m_markerItems) {
        auto* label = qobject_cast<QCPItemText*>(item);
        if (!label)
            continue;
        const double pitch = 1.15 * QFontMetricsF(label->font()).height();
        const double y = (4.0 + (label->property("markerRow").toInt() + 0.5) * pitch) / area.height();
        label->position->setCoords(label->position->coords().x(), y);
    }
    for (QCPAbstractItem* item : m_markerItems)
        if (auto* tick = qobject_cast<QCPItemLine*>(item))
            if (tick->property("markerRow").isValid()) {
                const double pitch = 1.15 * QFontMetricsF(textFont(0.85)).height();
                const double y = (4.0 + (tick->property("markerRow").toInt() + 0.5) * pitch) / area.height();
                tick->start->setCoords(tick->start->coords().x(), y);
            }
}

void DistributionPlot::placeHeader(const QRect& area) {
    // The title at the top left and the clip text at the top right when both fit on one line;
    // otherwise the clip text takes the lines under the title, wrapped to the width, so the
    // two never overprint (a long note about per-group ranges, a narrow window, large type).
    const QFontMetricsF metrics(m_title->font());
    const double line = metrics.height();
    const bool clipShown = m_clipText->visible() && !m_clipFull.isEmpty();
    QStringList clipLines = clipShown ? m_clipFull.split(QLatin1Char('\n')) : QStringList();
    double clipWidth = 0.0;
    for (const QString& text : clipLines)
        clipWidth = std::max(clipWidth, metrics.horizontalAdvance(text));
    const double gap = 2.0 * metrics.horizontalAdvance(QLatin1Char('m'));
    const bool sideBySide =
        clipLines.isEmpty() || metrics.horizontalAdvance(m_title->text()) + clipWidth + gap <= area.width();
    const double below = -0.02; // just above the axis rect, as a ratio of its height
    if (sideBySide) {
        m_clipText->setText(m_clipFull);
        m_clipText->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        m_clipText->setTextAlignment(Qt::AlignRight | Qt::AlignTop);
        m_clipText->position->setCoords(1.0, below);
        m_title->position->setCoords(0.0, below);
    } else {
        // Wrapped to the width, at most three lines (the last elided).
        constexpr int kMaxLines = 3;
        QStringList shown;
        for (const QString& text : clipLines)
            shown << wrapText(text, m_clipText->font(), area.width()).split(QLatin1Char('\n'));
        if (shown.size() > kMaxLines) {
            shown = shown.mid(0, kMaxLines);
            shown.last() =
                metrics.elidedText(shown.last() + QStringLiteral(" …"), Qt::ElideRight, area.width());
        }
        clipLines = shown;
        m_clipText->setText(shown.join(QLatin1Char('\n')));
        m_clipText->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        m_clipText->setTextAlignment(Qt::AlignLeft | Qt::AlignTop);
        m_clipText->position->setCoords(0.0, below);
        m_title->position->setCoords(0.0, below - clipLines.size() * line / area.height());
    }
    const int lines =
        sideBySide ? std::max<int>(1, static_cast<int>(clipLines.size())) : 1 + clipLines.size();
    const int top = std::max(36, static_cast<int>(std::ceil(lines * line + 14)));
    if (axisRect()->minimumMargins().top() != top)
        axisRect()->setMinimumMargins(QMargins(10, top, 10, 10));
}

QString DistributionPlot::dataAsText() const {
    QString text = QStringLiteral("bin_center\tcount\n");
    for (std::size_t i = 0; i < m_binCenters.size(); ++i)
        text += QString::number(m_binCenters[i], 'g', 8) + QLatin1Char('\t') +
                QString::number(m_binCounts[i], 'f', 0) + QLatin1Char('\n');
    if (const auto clip = clipLines())
        text += QStringLiteral("# clip_min\t%1\n# clip_max\t%2\n").arg(clip->min).arg(clip->max);
    for (const auto& [method, range] : m_controller->markers())
        text += QStringLiteral("# %1\t%2\t%3\n")
                    .arg(QString::fromLatin1(calibMethodName(method)))
                    .arg(range.min)
                    .arg(range.max);
    return text;
}

void DistributionPlot::dragClipTo(bool upper, double x, bool finished) {
    if (!draggable())
        return;
    if (m_dragging == 0)
        m_dragRange = m_controller->preview().clip;
    m_dragging = upper ? 2 : 1;
    const QuantSpec& spec = m_session->settings(m_session->currentRow()).spec;
    if (spec.scheme == Scheme::Symmetric && spec.format.isInteger()) {
        // A symmetric grid is set by max(|min|, |max|) alone: the two lines move together,
        // mirrored around zero, so what the user drags is the range the scale follows.
        const auto threshold = static_cast<float>(upper ? std::max(x, 0.0) : std::max(-x, 0.0));
        m_dragRange = {-threshold, threshold};
    } else if (upper) {
        m_dragRange.max = static_cast<float>(std::max(x, static_cast<double>(m_dragRange.min)));
    } else {
        m_dragRange.min = static_cast<float>(std::min(x, static_cast<double>(m_dragRange.max)));
    }
    if (!finished) {
        m_controller->previewManualRange(m_dragRange);
        return;
    }
    m_dragging = 0;
    const int row = m_session->currentRow();
    m_session->changeSettings({row}, TensorSettings{m_session->settings(row).spec, m_dragRange},
                              tr("Manual clipping"));
}

void DistributionPlot::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton && draggable() && m_lowLine->visible()) {
        const double px = event->position().x();
        const double low = xAxis->coordToPixel(m_lowLine->point1->key());
        const double high = xAxis->coordToPixel(m_highLine->point1->key());
        const double tolerance = 7.0 * lineScale();
        const bool nearLow = std::abs(px - low) <= tolerance;
        const bool nearHigh = std::abs(px - high) <= tolerance;
        if (nearLow || nearHigh) {
            // With both lines under the cursor (a tiny range), pick the one on the cursor's side.
            const bool upper = nearHigh && (!nearLow || px >= (low + high) / 2);
            m_dragRange = m_controller->preview().clip;
            m_dragging = upper ? 2 : 1;
            setInteraction(QCP::iRangeDrag, false);
            return;
        }
    }
    PlotBase::mousePressEvent(event);
}

void DistributionPlot::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragging != 0) {
        dragClipTo(m_dragging == 2, xAxis->pixelToCoord(event->position().x()), false);
        return;
    }
    if (draggable() && m_lowLine->visible()) {
        const double px = event->position().x();
        const double tolerance = 7.0 * lineScale();
        const bool near = std::abs(px - xAxis->coordToPixel(m_lowLine->point1->key())) <= tolerance ||
                          std::abs(px - xAxis->coordToPixel(m_highLine->point1->key())) <= tolerance;
        setCursor(near ? Qt::SplitHCursor : Qt::ArrowCursor);
    }
    PlotBase::mouseMoveEvent(event);
}

void DistributionPlot::mouseReleaseEvent(QMouseEvent* event) {
    if (m_dragging != 0) {
        dragClipTo(m_dragging == 2, xAxis->pixelToCoord(event->position().x()), true);
        setInteraction(QCP::iRangeDrag, true);
        return;
    }
    PlotBase::mouseReleaseEvent(event);
}

void DistributionPlot::addContextActions(QMenu& menu, QPointF pixel) {
    if (!m_controller->preview().valid || !axisRect()->rect().contains(pixel.toPoint()))
        return;
    const double x = xAxis->pixelToCoord(pixel.x());
    menu.addAction(tr("Walk x = %1 through quantization (Learn)").arg(MetricText::number(x)), this,
                   [this, x] { emit valueWalkRequested(x); });
}

} // namespace quantscope::ui
