#include "views/ModelView.h"

#include "plots/LayerSqnrChart.h"
#include "session/ModelComparison.h"
#include "widgets/ElidedPath.h"
#include "widgets/PathElideDelegate.h"

#include <QColor>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollBar>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <limits>
#include <map>

namespace quantscope::ui {
namespace {

constexpr int kLayerRole = Qt::UserRole;
constexpr int kSortRole = Qt::UserRole + 1;

// Sorts by the number behind the text ("exact" above every finite SQNR, unknown last).
class SqnrItem : public QTableWidgetItem {
public:
    SqnrItem(const QString& text, double sortValue) : QTableWidgetItem(text) {
        setData(kSortRole, sortValue);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override {
        return data(kSortRole).toDouble() < other.data(kSortRole).toDouble();
    }
};

} // namespace

ModelView::ModelView(ModelComparison* comparison, QWidget* parent)
    : QWidget(parent), m_comparison(comparison), m_status(new QLabel(this)), m_table(new QTableWidget(this)),
      m_chart(new LayerSqnrChart(this)), m_scroll(new QScrollBar(Qt::Vertical, this)) {
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::RichText);
    m_table->setColumnCount(ColumnCount);
    m_table->setHorizontalHeaderLabels({tr("Layer"), tr("Weight"), tr("Input activation"), tr("Runs in"),
                                        tr("Local (dB)"), tr("Cumulative (dB)")});
    m_table->horizontalHeaderItem(Weight)->setToolTip(
        tr("Double-click to select the weight and set its quantization"));
    m_table->horizontalHeaderItem(Input)->setToolTip(
        tr("Double-click to select the activation the layer reads"));
    m_table->horizontalHeaderItem(RunsIn)->setToolTip(
        tr("Static mode: int8 when the layer runs on the integer core (requantizing in its epilogue), "
           "fp32 when it falls back to float arithmetic on dequantized values"));
    m_table->horizontalHeaderItem(Local)->setToolTip(
        tr("Local SQNR: the layer's output with only this layer quantized, against fp32"));
    m_table->horizontalHeaderItem(Cumulative)
        ->setToolTip(
            tr("Cumulative SQNR: the layer's output with every layer up to it quantized, against fp32"));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSortingEnabled(true);
    m_table->setTextElideMode(Qt::ElideMiddle);
    // Names keep their last two path components ("…/downsample.0/Conv"): the rest is the same
    // for many layers.
    auto* paths = new PathElideDelegate(m_table);
    for (const int column : {Layer, Weight, Input})
        m_table->setItemDelegateForColumn(column, paths);
    m_table->setWordWrap(false);
    m_table->setAlternatingRowColors(true);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row, int column) {
        const bool activation = column == Input;
        if (const QTableWidgetItem* item = m_table->item(row, activation ? Input : Weight))
            emit tensorRequested(item->text(), activation);
    });
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    QHeaderView* header = m_table->horizontalHeader();
    // The layer name takes what the other columns leave; they are as wide as their contents
    // (fitColumns), so short names are never elided (long ones are, in the middle).
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(Layer, QHeaderView::Stretch);
    header->setMinimumSectionSize(m_table->fontMetrics().averageCharWidth() * 6);

    // Table and chart side by side: both get the full height, however many layers there are.
    auto* chartBox = new QWidget(this);
    auto* chartLayout = new QHBoxLayout(chartBox);
    chartLayout->setContentsMargins(0, 0, 0, 0);
    chartLayout->setSpacing(0);
    chartLayout->addWidget(m_chart, 1);
    chartLayout->addWidget(m_scroll);
    m_split = new QSplitter(Qt::Horizontal, this);
    m_split->addWidget(m_table);
    m_split->addWidget(chartBox);
    m_split->setStretchFactor(0, 5);
    m_split->setStretchFactor(1, 4);
    m_split->setChildrenCollapsible(false);
    connect(m_split, &QSplitter::splitterMoved, this, &ModelView::fitColumns);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addWidget(m_split, 1);

    // The selection, both ways.
    connect(m_table, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (!m_syncing && row >= 0)
            m_chart->setSelectedLayer(layerOfRow(row));
    });
    connect(m_chart, &LayerSqnrChart::layerClicked, this, [this](int layer) {
        const int row = rowOfLayer(layer);
        if (row < 0)
            return;
        m_syncing = true;
        m_table->selectRow(row);
        m_table->scrollToItem(m_table->item(row, Layer));
        m_syncing = false;
    });
    connect(m_chart, &LayerSqnrChart::viewChanged, this, &ModelView::syncScrollBar);
    connect(m_scroll, &QScrollBar::valueChanged, this, [this](int value) {
        if (!m_syncing)
            m_chart->setFirstVisible(value);
    });
    connect(comparison, &ModelComparison::changed, this, &ModelView::refresh);
    refresh();
}

int ModelView::layerOfRow(int row) const {
    const QTableWidgetItem* item = m_table->item(row, Layer);
    return item ? item->data(kLayerRole).toInt() : -1;
}

int ModelView::rowOfLayer(int layer) const {
    for (int row = 0; row < m_table->rowCount(); ++row)
        if (layerOfRow(row) == layer)
            return row;
    return -1;
}

void ModelView::syncScrollBar() {
    m_syncing = true;
    const int hidden = m_chart->layerCount() - m_chart->visibleCount();
    m_scroll->setRange(0, std::max(0, hidden));
    m_scroll->setPageStep(m_chart->visibleCount());
    m_scroll->setValue(m_chart->firstVisible());
    m_scroll->setVisible(hidden > 0);
    m_syncing = false;
}

QString ModelView::displayedLayerName(int row) const {
    const QTableWidgetItem* item = m_table->item(row, Layer);
    if (!item)
        return {};
    return elidePath(item->text(), m_table->fontMetrics(),
                     PathElideDelegate::textWidth(m_table, m_table->columnWidth(Layer)));
}

int ModelView::columnContentWidth(int column) const {
    return std::max(static_cast<const QAbstractItemView*>(m_table)->sizeHintForColumn(column),
                    m_table->horizontalHeader()->sectionSizeHint(column)) +
           2 * m_table->fontMetrics().averageCharWidth();
}

void ModelView::arrange() {
    // Side by side (5 : 4), the table needs its numbers and some 32 characters of layer name,
    // the chart 60 characters for labels and bars. In a narrower view (1280 or 1600 px with both
    // side panels open) the chart goes under the table, each with the full width.
    const int average = m_table->fontMetrics().averageCharWidth();
    const int numbers =
        columnContentWidth(RunsIn) + columnContentWidth(Local) + columnContentWidth(Cumulative);
    const bool sideBySide = width() * 5 / 9 >= numbers + 34 * average && width() * 4 / 9 >= 60 * average;
    const Qt::Orientation orientation = sideBySide ? Qt::Horizontal : Qt::Vertical;
    if (m_split->orientation() != orientation) {
        m_split->setOrientation(orientation);
        m_splitPending = true;
    }
    // The split needs the view's real height: while hidden it waits for the show.
    if (m_splitPending && isVisible() && m_split->height() > 0) {
        fitSplit();
        m_splitPending = false;
    }
    fitColumns();
}

void ModelView::fitSplit() {
    if (m_split->orientation() == Qt::Horizontal) {
        m_split->setSizes({5000, 4000}); // in the stretch factors' ratio
        return;
    }
    // Stacked: the table no taller than its rows (at most half), the chart takes the rest.
    const int total = std::max(1, m_split->height() - m_split->handleWidth());
    const int rows = m_table->horizontalHeader()->height() + 2 * m_table->frameWidth() +
                     m_table->rowCount() * m_table->verticalHeader()->defaultSectionSize() +
                     m_table->horizontalScrollBar()->sizeHint().height();
    const int table = std::min(rows, total / 2);
    m_split->setSizes({table, total - table});
}

void ModelView::fitColumns() {
    QHeaderView* header = m_table->horizontalHeader();
    const int available = m_table->viewport()->width();
    const int average = m_table->fontMetrics().averageCharWidth();
    const auto content = [this](int column) { return columnContentWidth(column); };
    // The numbers are as wide as their contents; the layer name keeps room for about 32
    // characters (its last two path components and some of the rest); the weight and input names
    // share what is left, and in a narrow table give their room to the layer names (a
    // double-click on a row still selects them).
    int numbers = 0;
    for (const int column : {RunsIn, Local, Cumulative}) {
        const int width = content(column);
        header->resizeSection(column, width);
        numbers += width;
    }
    const int nameRoom = (available - numbers - 32 * average) / 2;
    const bool names = nameRoom >= 12 * average;
    m_table->setColumnHidden(Weight, !names);
    m_table->setColumnHidden(Input, !names);
    if (names)
        for (const int column : {Weight, Input})
            header->resizeSection(column, std::min(content(column), nameRoom));
}

void ModelView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    arrange();
}

void ModelView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    arrange(); // the table had no width while hidden
}

void ModelView::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::FontChange)
        arrange();
}

const ModeExecution* ModelView::staticExecution() const {
    const auto& report = m_comparison->report();
    if (!report)
        return nullptr;
    for (const ModeExecution& execution : report->executions)
        if (execution.mode == QuantMode::Static && !execution.nodes.empty())
            return &execution;
    return nullptr;
}

QString ModelView::integerSummary() const {
    const ModeExecution* execution = staticExecution();
    if (!execution)
        return {};
    const auto integers =
        std::count_if(execution->nodes.begin(), execution->nodes.end(),
                      [](const QuantizedModel::NodeExecution& node) { return node.integer; });
    QString text = tr("<br><b>%1 of %2 ops run on integers</b>")
                       .arg(integers)
                       .arg(static_cast<qsizetype>(execution->nodes.size()));
    if (!execution->fp32Ops.isEmpty())
        text += tr("; fp32: %1").arg(execution->fp32Ops.join(QStringLiteral(", ")).toHtmlEscaped());
    return text + QLatin1Char('.');
}

void ModelView::refresh() {
    const auto& report = m_comparison->report();
    const bool has = report.has_value() && !report->layers.empty();
    m_table->setVisible(has);
    m_chart->parentWidget()->setVisible(has);
    if (!m_comparison->setup()) {
        m_status->setText(
            tr("<h3>No model loaded</h3><p>Open an ONNX model with its samples (File ▸ Open model and "
               "samples…) or the demo to see each layer's local and cumulative SQNR.</p>"));
        return;
    }
    m_status->setText(
        m_comparison->isRunning() ? tr("<i>Running the model with the new settings…</i>")
        : !m_comparison->lastError().isEmpty()
            ? tr("<span style='color:#d64545'>Evaluation failed: %1</span>")
                  .arg(m_comparison->lastError().toHtmlEscaped())
            : tr("Static quantization with the current settings of every weight and activation: a low "
                 "<b>local</b> SQNR marks a layer that quantizes badly by itself (the worst in red); the "
                 "<b>cumulative</b> SQNR shows how error builds up through the model. Sort the table by a "
                 "column; double-click a layer to select its weight (or its input activation).") +
                  integerSummary());
    if (!has)
        return;
    // How static mode runs each node, by node label (the layers' names).
    std::map<std::string, bool> integerNode;
    if (const ModeExecution* execution = staticExecution())
        for (const auto& node : execution->nodes)
            integerNode[node.node] = node.integer;
    const int selectedLayer = m_chart->selectedLayer();
    const auto text = [](const Sqnr& s) {
        return s.note.empty() ? QString::number(s.db, 'f', 2) : QString::fromStdString(s.note);
    };
    // "exact" is better than any number; a missing value sorts last.
    const auto sortValue = [](const Sqnr& s) {
        if (s.note == "exact")
            return std::numeric_limits<double>::max();
        return s.note.empty() ? s.db : std::numeric_limits<double>::lowest();
    };
    std::vector<LayerSqnrChart::Layer> layers;
    m_syncing = true;
    m_table->setSortingEnabled(false);
    const bool rowsChanged = m_table->rowCount() != static_cast<int>(report->layers.size());
    m_table->setRowCount(static_cast<int>(report->layers.size()));
    for (int row = 0; row < static_cast<int>(report->layers.size()); ++row) {
        const LayerSqnr& layer = report->layers[static_cast<std::size_t>(row)];
        const QString name = QString::fromStdString(layer.name);
        auto* nameItem = new QTableWidgetItem(name);
        nameItem->setData(kLayerRole, row);
        nameItem->setToolTip(name);
        m_table->setItem(row, Layer, nameItem);
        m_table->setItem(row, Weight, new QTableWidgetItem(QString::fromStdString(layer.weight)));
        m_table->setItem(row, Input, new QTableWidgetItem(QString::fromStdString(layer.input)));
        const auto runs = integerNode.find(layer.name);
        auto* runsItem = new QTableWidgetItem(runs == integerNode.end() ? QString()
                                              : runs->second            ? QStringLiteral("int8")
                                                                        : QStringLiteral("fp32"));
        if (runs != integerNode.end() && !runs->second)
            runsItem->setForeground(QColor(0xd6, 0x45, 0x45)); // a fallback stands out
        m_table->setItem(row, RunsIn, runsItem);
        m_table->setItem(row, Local, new SqnrItem(text(layer.local), sortValue(layer.local)));
        m_table->setItem(row, Cumulative, new SqnrItem(text(layer.cumulative), sortValue(layer.cumulative)));
        const auto value = [](const Sqnr& s) { return s.note.empty() ? std::optional(s.db) : std::nullopt; };
        layers.push_back({name, value(layer.local), value(layer.cumulative)});
    }
    m_table->setSortingEnabled(true);
    m_syncing = false;
    fitColumns();
    m_chart->setLayers(tr("Per-layer SQNR, static"), layers);
    if (rowsChanged) {
        m_splitPending = true;
        arrange();
    }
    if (selectedLayer >= 0 && selectedLayer < m_chart->layerCount())
        m_table->selectRow(rowOfLayer(selectedLayer));
}

} // namespace quantscope::ui
