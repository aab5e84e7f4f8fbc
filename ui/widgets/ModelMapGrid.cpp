#include "widgets/ModelMapGrid.h"

#include "session/CandidateAnalysis.h"
#include "session/Session.h"
#include "widgets/MetricText.h"

#include "quantscope/analysis/TensorRoles.h"

#include <QHelpEvent>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <utility>

namespace quantscope::ui {
namespace {

// The scale runs from the worst tensor to the best: dark red through orange to pale yellow
// (ColorBrewer YlOrRd), lighter as it gets better, so the eye finds the worst cells first and
// the order still reads in grey.
struct Stop {
    double at;
    QColor colour;
};
const Stop kStops[] = {{0.0, QColor(0x80, 0x00, 0x26)},
                       {0.25, QColor(0xe3, 0x1a, 0x1c)},
                       {0.5, QColor(0xfd, 0x8d, 0x3c)},
                       {0.75, QColor(0xfe, 0xd9, 0x76)},
                       {1.0, QColor(0xff, 0xff, 0xcc)}};

bool isZeroSignal(const ErrorMetrics& metrics) {
    return metrics.sqnrNote == "zero signal";
}

} // namespace

ModelMapGrid::ModelMapGrid(Session* session, QWidget* parent)
    : QAbstractScrollArea(parent), m_session(session) {
    setMouseTracking(true);
    viewport()->setMouseTracking(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    connect(session, &Session::fileChanged, this, &ModelMapGrid::rebuild);
    connect(session, &Session::summaryChanged, this, &ModelMapGrid::metricsChanged);
    connect(session, &Session::resultChanged, this, &ModelMapGrid::metricsChanged);
    connect(session, &Session::settingsChanged, this, &ModelMapGrid::metricsChanged);
    connect(session, &Session::currentRowChanged, this, [this](int row) {
        // The first tensor a file opens with is no reason to leave the top of the map.
        if (!std::exchange(m_openingSelection, false))
            ensureVisible(row);
        viewport()->update();
    });
    rebuild();
}

void ModelMapGrid::setMetric(Metric metric) {
    if (metric == m_metric)
        return;
    m_metric = metric;
    metricsChanged();
}

void ModelMapGrid::setCandidateAnalysis(const CandidateAnalysis* candidates) {
    if (m_candidates)
        disconnect(m_candidates, nullptr, this, nullptr);
    m_candidates = candidates;
    if (candidates) {
        connect(candidates, &CandidateAnalysis::tensorDone, this, &ModelMapGrid::metricsChanged);
        connect(candidates, &CandidateAnalysis::planChanged, this, &ModelMapGrid::metricsChanged);
        connect(candidates, &CandidateAnalysis::candidatesChanged, this, [this] {
            if (m_source == Source::Candidate && m_candidate >= m_candidates->candidateCount())
                setSource(Source::Settings);
            metricsChanged();
        });
    }
    metricsChanged();
}

void ModelMapGrid::setSource(Source source, int candidate) {
    if (!m_candidates)
        source = Source::Settings;
    m_source = source;
    m_candidate = source == Source::Candidate ? candidate : -1;
    metricsChanged();
}

const CandidateAnalysis::Outcome* ModelMapGrid::sourceOutcome(int tensorRow) const {
    if (m_source == Source::Candidate)
        return m_candidates->outcome(tensorRow, m_candidate);
    if (m_source == Source::Plan)
        return m_candidates->outcome(tensorRow, m_candidates->plannedCandidate(tensorRow));
    return nullptr;
}

std::optional<ErrorMetrics> ModelMapGrid::cellMetrics(int tensorRow) const {
    if (m_source == Source::Settings)
        return m_session->summaryMetrics(tensorRow);
    const CandidateAnalysis::Outcome* outcome = sourceOutcome(tensorRow);
    return outcome ? std::optional(outcome->metrics) : std::nullopt;
}

bool ModelMapGrid::isFloatCell(int tensorRow) const {
    return m_source != Source::Settings && !m_candidates->isPlanned(tensorRow);
}

QString ModelMapGrid::shownText(int tensorRow) const {
    const QRect rect = cellRect(tensorRow);
    return rect.isEmpty() ? QString() : cellText(tensorRow, rect.width() - 8);
}

void ModelMapGrid::metricsChanged() {
    m_range.reset();
    viewport()->update();
    emit scaleChanged();
}

void ModelMapGrid::rebuild() {
    m_columns.clear();
    m_layers.clear();
    m_cells.clear();
    m_others.clear();
    m_position.assign(static_cast<std::size_t>(m_session->weightCount()), Place{});
    struct Placed {
        int row;
        int layer;
        QString column;
    };
    std::vector<Placed> placed;
    // Columns in role order (a bias after its weight), then unknown modules as they first appear.
    std::map<std::pair<int, int>, QString> order;
    for (int row = 0; row < m_session->weightCount(); ++row) {
        const TensorRoleMatch match = recognizeTensorRole(m_session->info(row).name);
        if (match.layer < 0) {
            m_others.append(row);
            continue;
        }
        const QString key = QString::fromStdString(roleColumnKey(match));
        const std::pair<int, int> rank =
            match.role == TensorRole::Unknown
                ? std::pair{static_cast<int>(TensorRole::Unknown), static_cast<int>(order.size())}
                : std::pair{static_cast<int>(match.role), match.bias ? 1 : 0};
        if (std::find_if(order.begin(), order.end(),
                         [&](const auto& entry) { return entry.second == key; }) == order.end())
            order.emplace(rank, key);
        placed.push_back({row, match.layer, key});
        m_layers.push_back(match.layer);
    }
    for (const auto& entry : order)
        m_columns.append(entry.second);
    std::sort(m_layers.begin(), m_layers.end());
    m_layers.erase(std::unique(m_layers.begin(), m_layers.end()), m_layers.end());
    m_cells.assign(m_layers.size(), std::vector<int>(static_cast<std::size_t>(m_columns.size()), -1));
    for (const Placed& p : placed) {
        const auto layerRow =
            static_cast<int>(std::lower_bound(m_layers.begin(), m_layers.end(), p.layer) - m_layers.begin());
        const int column = static_cast<int>(m_columns.indexOf(p.column));
        int& cell = m_cells[static_cast<std::size_t>(layerRow)][static_cast<std::size_t>(column)];
        if (cell >= 0) { // two tensors in one place: the second is listed apart
            m_others.append(p.row);
            continue;
        }
        cell = p.row;
        m_position[static_cast<std::size_t>(p.row)] = {layerRow, column};
    }
    std::sort(m_others.begin(), m_others.end());
    const int perLine = othersPerLine();
    for (int i = 0; i < m_others.size(); ++i)
        m_position[static_cast<std::size_t>(m_others[i])] = {layerRowCount() + i / perLine, i % perLine};
    // Session::setFile announces its first current row right after the file.
    m_openingSelection = m_session->currentRow() >= 0;
    verticalScrollBar()->setValue(0);
    horizontalScrollBar()->setValue(0);
    updateGeometry();
    metricsChanged();
}

int ModelMapGrid::tensorAt(int layerRow, int column) const {
    if (layerRow < 0 || layerRow >= layerRowCount() || column < 0 || column >= m_columns.size())
        return -1;
    return m_cells[static_cast<std::size_t>(layerRow)][static_cast<std::size_t>(column)];
}

int ModelMapGrid::otherColumnCount() const {
    // Beside a grid, the same columns; a model with no blocks is a plain list, several to a line.
    return m_columns.isEmpty() ? 6 : static_cast<int>(std::max<qsizetype>(m_columns.size(), 4));
}

int ModelMapGrid::otherSpan() const {
    // Beside a wide grid, a tensor outside the blocks takes two columns: its cell names it.
    return m_columns.size() >= 6 ? 2 : 1;
}

int ModelMapGrid::othersPerLine() const {
    return std::max(1, otherColumnCount() / otherSpan());
}

int ModelMapGrid::gridRowCount() const {
    const int perLine = othersPerLine();
    return layerRowCount() + (static_cast<int>(m_others.size()) + perLine - 1) / perLine;
}

void ModelMapGrid::updateGeometry() {
    const QFontMetrics fm = fontMetrics();
    m_gutter = fm.horizontalAdvance(QStringLiteral("layer 000")) + 12;
    m_header = 2 * fm.height() + 10;
    const int columns = otherColumnCount();
    const int availableWidth = std::max(1, viewport()->width() - m_gutter);
    const int minWidth = fm.horizontalAdvance(QStringLiteral("00.0")) + 10;
    const int maxWidth = fm.horizontalAdvance(QStringLiteral("norm post-attn")) + 40;
    m_columnWidth = std::clamp(availableWidth / std::max(1, columns), minWidth, maxWidth);
    // Rows share the height down to a readable minimum; past that the grid scrolls.
    const int rows = std::max(1, gridRowCount());
    const int gap = m_others.isEmpty() || m_layers.empty() ? 0 : fm.height() / 2;
    const int availableHeight = std::max(1, viewport()->height() - m_header - gap);
    m_rowHeight = std::clamp(availableHeight / rows, fm.height() + 3, 2 * fm.height() + 4);
    const int contentWidth = columns * m_columnWidth;
    const int contentHeight = rows * m_rowHeight + gap;
    horizontalScrollBar()->setRange(0, std::max(0, contentWidth - availableWidth));
    horizontalScrollBar()->setPageStep(availableWidth);
    horizontalScrollBar()->setSingleStep(m_columnWidth);
    verticalScrollBar()->setRange(0, std::max(0, contentHeight - availableHeight));
    verticalScrollBar()->setPageStep(availableHeight);
    verticalScrollBar()->setSingleStep(m_rowHeight);
    viewport()->update();
}

QRect ModelMapGrid::gridRect(int gridRow, int column) const {
    const bool other = gridRow >= layerRowCount();
    const int gap = other && !m_layers.empty() ? fontMetrics().height() / 2 : 0;
    return {m_gutter + column * m_columnWidth - horizontalScrollBar()->value(),
            m_header + gridRow * m_rowHeight + gap - verticalScrollBar()->value(), m_columnWidth,
            m_rowHeight};
}

QRect ModelMapGrid::cellRect(int tensorRow) const {
    if (tensorRow < 0 || tensorRow >= static_cast<int>(m_position.size()))
        return {};
    const Place& place = m_position[static_cast<std::size_t>(tensorRow)];
    if (place.gridRow < 0)
        return {};
    if (place.gridRow < layerRowCount())
        return gridRect(place.gridRow, place.column);
    QRect rect = gridRect(place.gridRow, place.column * otherSpan());
    rect.setWidth(rect.width() * otherSpan());
    return rect;
}

int ModelMapGrid::tensorAtPoint(const QPoint& point) const {
    if (point.x() < m_gutter || point.y() < m_header)
        return -1;
    for (int row = 0; row < static_cast<int>(m_position.size()); ++row)
        if (cellRect(row).contains(point))
            return row;
    return -1;
}

void ModelMapGrid::ensureVisible(int tensorRow) {
    const QRect rect = cellRect(tensorRow);
    if (rect.isEmpty())
        return;
    const QRect area(m_gutter, m_header, viewport()->width() - m_gutter, viewport()->height() - m_header);
    if (rect.top() < area.top())
        verticalScrollBar()->setValue(verticalScrollBar()->value() - (area.top() - rect.top()));
    else if (rect.bottom() > area.bottom())
        verticalScrollBar()->setValue(verticalScrollBar()->value() + (rect.bottom() - area.bottom()));
    if (rect.left() < area.left())
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - (area.left() - rect.left()));
    else if (rect.right() > area.right())
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() + (rect.right() - area.right()));
}

std::optional<double> ModelMapGrid::value(int tensorRow) const {
    const auto metrics = cellMetrics(tensorRow);
    if (!metrics)
        return std::nullopt;
    if (m_metric == Metric::Clipped)
        return metrics->clippedFraction * 100.0;
    return std::isfinite(metrics->sqnrDb) ? std::optional(metrics->sqnrDb) : std::nullopt;
}

int ModelMapGrid::knownCount() const {
    int known = 0;
    for (int row = 0; row < static_cast<int>(m_position.size()); ++row)
        if (m_position[static_cast<std::size_t>(row)].gridRow >= 0 && (isFloatCell(row) || cellMetrics(row)))
            ++known;
    return known;
}

std::optional<std::pair<double, double>> ModelMapGrid::scaleRange() const {
    if (m_range)
        return *m_range;
    std::optional<std::pair<double, double>> range;
    const auto include = [&](std::optional<double> v) {
        if (!v)
            return;
        if (!range)
            range = std::pair{*v, *v};
        range->first = std::min(range->first, *v);
        range->second = std::max(range->second, *v);
    };
    if (m_source == Source::Settings) {
        for (int row = 0; row < static_cast<int>(m_position.size()); ++row)
            include(value(row));
    } else {
        // One scale for every candidate and the plan: switching between them shows which is worse.
        for (int row : m_candidates->plannedRows())
            for (int c = 0; c < m_candidates->candidateCount(); ++c)
                if (const CandidateAnalysis::Outcome* outcome = m_candidates->outcome(row, c)) {
                    if (m_metric == Metric::Clipped)
                        include(outcome->metrics.clippedFraction * 100.0);
                    else if (std::isfinite(outcome->metrics.sqnrDb))
                        include(outcome->metrics.sqnrDb);
                }
    }
    // Clipping is worst when largest: the scale runs from the largest share down to none.
    if (range && m_metric == Metric::Clipped)
        range = std::pair{range->second, 0.0};
    m_range = range;
    return range;
}

std::optional<double> ModelMapGrid::fraction(int tensorRow) const {
    const auto metrics = cellMetrics(tensorRow);
    if (!metrics)
        return std::nullopt;
    if (m_metric == Metric::Sqnr && metrics->sqnrNote == "exact")
        return 1.0;
    const auto v = value(tensorRow);
    const auto range = scaleRange();
    if (!v || !range)
        return std::nullopt;
    const double span = range->second - range->first;
    return span == 0.0 ? 1.0 : std::clamp((*v - range->first) / span, 0.0, 1.0);
}

QColor ModelMapGrid::scaleColour(double fraction) {
    const double t = std::clamp(fraction, 0.0, 1.0);
    for (std::size_t i = 1; i < std::size(kStops); ++i) {
        if (t > kStops[i].at)
            continue;
        const Stop& a = kStops[i - 1];
        const Stop& b = kStops[i];
        const double u = (t - a.at) / (b.at - a.at);
        const auto mix = [u](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * u)); };
        return {mix(a.colour.red(), b.colour.red()), mix(a.colour.green(), b.colour.green()),
                mix(a.colour.blue(), b.colour.blue())};
    }
    return kStops[std::size(kStops) - 1].colour;
}

QColor ModelMapGrid::pendingColour() {
    return {0xe4, 0xe4, 0xe4};
}

QColor ModelMapGrid::zeroSignalColour() {
    return {0xc4, 0xd3, 0xe6};
}

QColor ModelMapGrid::floatColour() const {
    return palette().color(QPalette::Base).darker(104);
}

bool ModelMapGrid::showsFloatCells() const {
    for (int row = 0; row < static_cast<int>(m_position.size()); ++row)
        if (m_position[static_cast<std::size_t>(row)].gridRow >= 0 && isFloatCell(row))
            return true;
    return false;
}

QColor ModelMapGrid::cellColour(int tensorRow) const {
    if (const auto f = fraction(tensorRow))
        return scaleColour(*f);
    if (isFloatCell(tensorRow))
        return floatColour();
    const auto metrics = cellMetrics(tensorRow);
    return metrics && isZeroSignal(*metrics) ? zeroSignalColour() : pendingColour();
}

QString ModelMapGrid::cellText(int tensorRow, int width) const {
    const auto metrics = cellMetrics(tensorRow);
    QString valueText;
    if (isFloatCell(tensorRow)) {
        valueText = tr("float");
    } else if (metrics) {
        if (m_metric == Metric::Clipped)
            valueText = MetricText::percent(metrics->clippedFraction).remove(QLatin1Char(' '));
        else if (!metrics->sqnrNote.empty())
            valueText = isZeroSignal(*metrics) ? tr("zero") : tr("exact");
        else
            valueText = QString::number(metrics->sqnrDb, 'f', 1);
    }
    const QFontMetrics fm = fontMetrics();
    // The plan names the format it chose before the value, and keeps the name when both do not fit.
    if (m_source == Source::Plan && metrics)
        if (const CandidateAnalysis::Outcome* outcome = sourceOutcome(tensorRow)) {
            const QString format = QString::fromStdString(outcome->spec.format.name());
            valueText = fm.horizontalAdvance(format + QLatin1Char(' ') + valueText) <= width
                            ? format + QLatin1Char(' ') + valueText
                            : format;
        }
    const Place& place = m_position[static_cast<std::size_t>(tensorRow)];
    if (place.gridRow < layerRowCount())
        return fm.horizontalAdvance(valueText) <= width ? valueText : QString();
    // Outside the blocks the cell names its tensor: the role when known, else the name.
    const TensorRoleMatch match = recognizeTensorRole(m_session->info(tensorRow).name);
    const QString name = match.role == TensorRole::Unknown ? m_session->tensorName(tensorRow)
                                                           : QString::fromStdString(roleColumnKey(match));
    const QString full = valueText.isEmpty() ? name : QString(name + QStringLiteral("  ") + valueText);
    if (fm.horizontalAdvance(full) <= width)
        return full;
    // Keep the value whole and shorten the name: a role label at its end, a tensor name at its
    // start (the end of a name says the most).
    const Qt::TextElideMode elide = match.role == TensorRole::Unknown ? Qt::ElideLeft : Qt::ElideRight;
    const int nameWidth = width - fm.horizontalAdvance(QStringLiteral("  ") + valueText);
    if (valueText.isEmpty() || nameWidth < fm.horizontalAdvance(QStringLiteral("…xx")))
        return fm.elidedText(name, elide, width);
    return fm.elidedText(name, elide, nameWidth) + QStringLiteral("  ") + valueText;
}

QString ModelMapGrid::toolTip(int tensorRow) const {
    const TensorInfo& info = m_session->info(tensorRow);
    const TensorSettings& settings = m_session->settings(tensorRow);
    const TensorRoleMatch match = recognizeTensorRole(info.name);
    QString place = match.layer >= 0 ? tr("layer %1 · %2").arg(match.layer) : QString();
    if (match.layer >= 0)
        place = place.arg(QString::fromStdString(roleColumnKey(match)));
    else if (match.role != TensorRole::Unknown)
        place = QString::fromStdString(roleColumnKey(match));
    const CandidateAnalysis::Outcome* outcome = sourceOutcome(tensorRow);
    const QuantSpec& shown = outcome ? outcome->spec : settings.spec;
    QString spec = QString::fromStdString(shown.format.name()) + QLatin1Char(' ') +
                   QString::fromLatin1(schemeName(shown.scheme)) + tr(", per ") +
                   QString::fromLatin1(granularityName(shown.granularity));
    if (shown.granularity == Granularity::Group)
        spec += QLatin1Char(' ') + QString::number(shown.groupSize);
    spec += QStringLiteral(" (") + QString::fromLatin1(calibMethodName(shown.calib)) + QLatin1Char(')');
    if (m_source == Source::Plan && outcome)
        spec = tr("planned %1").arg(spec);
    if (isFloatCell(tensorRow))
        spec = tr("float (a plan quantizes tensors of rank 2 and more)");
    QString text = QStringLiteral("<b>%1</b>").arg(QString::fromStdString(info.name).toHtmlEscaped());
    if (!place.isEmpty())
        text += QStringLiteral("<br>") + place.toHtmlEscaped();
    text += QStringLiteral("<br>") + tr("%1 %2 · %3 values")
                                         .arg(QString::fromStdString(shapeToString(info.shape)),
                                              QString::fromStdString(storageName(info)),
                                              QLocale().toString(static_cast<qulonglong>(info.elements)));
    text += QStringLiteral("<br>") + tr("Format: %1").arg(spec.toHtmlEscaped());
    if (m_candidates && m_source != Source::Settings) {
        const int candidate =
            m_source == Source::Plan ? m_candidates->plannedCandidate(tensorRow) : m_candidate;
        if (const QString note = m_candidates->note(tensorRow, candidate); !note.isEmpty())
            text += QStringLiteral("<br><i>") + note.toHtmlEscaped() + QStringLiteral("</i>");
        if (const auto score = m_candidates->score(tensorRow, candidate))
            text += QStringLiteral("<br>") + tr("%1 bits per weight").arg(score->bitsPerValue, 0, 'f', 3);
    }
    if (isFloatCell(tensorRow)) {
        // Nothing measured: the tensor stays as stored.
    } else if (const auto metrics = cellMetrics(tensorRow)) {
        text += QStringLiteral("<br>") + tr("SQNR: %1").arg(MetricText::sqnr(*metrics));
        text += QStringLiteral("<br>") + tr("Clipped: %1").arg(MetricText::percent(metrics->clippedFraction));
        text += QStringLiteral("<br>") +
                tr("MSE: %1 · cosine: %2")
                    .arg(MetricText::number(metrics->mse), QString::number(metrics->cosine, 'f', 6));
    } else {
        text += QStringLiteral("<br><i>") + tr("being analysed…") + QStringLiteral("</i>");
    }
    return text + QStringLiteral("<br><i>") + tr("Click to select") + QStringLiteral("</i>");
}

QSize ModelMapGrid::sizeHint() const {
    return {800, 600};
}

QSize ModelMapGrid::minimumSizeHint() const {
    const QFontMetrics fm = fontMetrics();
    return {fm.horizontalAdvance(QStringLiteral("layer 000")) +
                4 * fm.horizontalAdvance(QStringLiteral("00.0 dB")),
            8 * fm.height()};
}

void ModelMapGrid::resizeEvent(QResizeEvent* event) {
    QAbstractScrollArea::resizeEvent(event);
    updateGeometry();
}

void ModelMapGrid::scrollContentsBy(int, int) {
    viewport()->update();
}

bool ModelMapGrid::viewportEvent(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int row = tensorAtPoint(help->pos());
        if (help->pos().y() < m_header && help->pos().x() >= m_gutter) {
            for (int column = 0; column < m_columns.size(); ++column)
                if (const QRect rect = gridRect(0, column);
                    help->pos().x() >= rect.left() && help->pos().x() <= rect.right())
                    QToolTip::showText(help->globalPos(), m_columns[column], viewport());
            return true;
        }
        if (row >= 0)
            QToolTip::showText(help->globalPos(), toolTip(row), viewport(), cellRect(row));
        else
            QToolTip::hideText();
        return true;
    }
    if (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange)
        updateGeometry();
    return QAbstractScrollArea::viewportEvent(event);
}

void ModelMapGrid::mousePressEvent(QMouseEvent* event) {
    const int row = event->button() == Qt::LeftButton ? tensorAtPoint(event->position().toPoint()) : -1;
    if (row < 0)
        return QAbstractScrollArea::mousePressEvent(event);
    m_session->setCurrentRow(row);
    m_session->setSelectedRows({row});
}

void ModelMapGrid::paintEvent(QPaintEvent*) {
    QPainter painter(viewport());
    const QPalette pal = palette();
    const QFontMetrics fm = fontMetrics();
    const int width = viewport()->width();
    const int height = viewport()->height();
    painter.fillRect(viewport()->rect(), pal.base());
    if (m_position.empty() || (m_layers.empty() && m_others.isEmpty())) {
        painter.setPen(pal.color(QPalette::PlaceholderText));
        painter.drawText(viewport()->rect(), Qt::AlignCenter, tr("Open a weights file to see its map"));
        return;
    }
    const int current = m_session->currentRow();

    // Cells, clipped to the area right of the layer labels and below the header.
    painter.save();
    painter.setClipRect(QRect(m_gutter, m_header, width - m_gutter, height - m_header));
    QRect currentRect;
    for (int row = 0; row < static_cast<int>(m_position.size()); ++row) {
        const QRect rect = cellRect(row);
        if (rect.isEmpty() || rect.bottom() < m_header || rect.top() > height || rect.right() < m_gutter ||
            rect.left() > width)
            continue;
        const QRect box = rect.adjusted(1, 1, -1, -1);
        const QColor colour = cellColour(row);
        painter.fillRect(box, colour);
        painter.setPen(colour.darker(125));
        painter.drawRect(box.adjusted(0, 0, -1, -1));
        const QString text = cellText(row, box.width() - 6);
        if (!text.isEmpty()) {
            painter.setPen(colour.lightness() < 140 ? QColor(Qt::white) : QColor(0x20, 0x20, 0x20));
            painter.drawText(box.adjusted(3, 0, -3, 0), Qt::AlignCenter, text);
        }
        if (row == current)
            currentRect = box;
    }
    if (!currentRect.isNull()) {
        painter.setPen(QPen(pal.color(QPalette::Highlight), 3));
        painter.drawRect(currentRect.adjusted(1, 1, -2, -2));
    }
    painter.restore();

    // The column header: role names, two lines when they need them.
    painter.fillRect(QRect(0, 0, width, m_header), pal.window());
    painter.save();
    painter.setClipRect(QRect(m_gutter, 0, width - m_gutter, m_header));
    painter.setPen(pal.color(QPalette::WindowText));
    const int headerColumns = m_columns.isEmpty() ? 0 : static_cast<int>(m_columns.size());
    for (int column = 0; column < headerColumns; ++column) {
        QRect rect = gridRect(0, column);
        rect.setTop(2);
        rect.setBottom(m_header - 3);
        // One line when it fits, else two ("norm" over "post-attn"), each cut to the column; a
        // long module name is cut at the front (its end says the most). Hover shows it whole.
        const QString& label = m_columns[column];
        const int room = rect.width() - 4;
        const qsizetype space = label.indexOf(QLatin1Char(' '));
        QString top;
        QString bottom = label;
        if (fm.horizontalAdvance(label) > room && space > 0) {
            top = fm.elidedText(label.left(space), Qt::ElideRight, room);
            bottom = fm.elidedText(label.mid(space + 1), Qt::ElideRight, room);
        } else {
            bottom = fm.elidedText(label, Qt::ElideLeft, room);
        }
        const QRect line(rect.left() + 2, rect.bottom() - fm.height(), room, fm.height());
        painter.drawText(line, Qt::AlignHCenter | Qt::AlignVCenter, bottom);
        if (!top.isEmpty())
            painter.drawText(line.translated(0, -fm.height()), Qt::AlignHCenter | Qt::AlignVCenter, top);
    }
    painter.restore();
    painter.setPen(pal.color(QPalette::Mid));
    painter.drawLine(0, m_header - 1, width, m_header - 1);

    // The layer labels.
    painter.fillRect(QRect(0, m_header, m_gutter, height - m_header), pal.window());
    painter.save();
    painter.setClipRect(QRect(0, m_header, m_gutter, height - m_header));
    painter.setPen(pal.color(QPalette::WindowText));
    for (int gridRow = 0; gridRow < gridRowCount(); ++gridRow) {
        const QRect rect = gridRect(gridRow, 0);
        if (rect.bottom() < m_header || rect.top() > height)
            continue;
        const QString label = gridRow < layerRowCount()    ? tr("layer %1").arg(layerAt(gridRow))
                              : gridRow == layerRowCount() ? tr("other")
                                                           : QString();
        painter.drawText(QRect(4, rect.top(), m_gutter - 10, rect.height()),
                         Qt::AlignRight | Qt::AlignVCenter, label);
    }
    painter.restore();
    painter.setPen(pal.color(QPalette::Mid));
    painter.drawLine(m_gutter - 1, 0, m_gutter - 1, height);
}

} // namespace quantscope::ui
