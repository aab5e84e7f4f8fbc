#include "views/ModelView.h"

#include "plots/BarChart.h"
#include "session/ModelComparison.h"

#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace quantscope::ui {

ModelView::ModelView(ModelComparison* comparison, QWidget* parent)
    : QWidget(parent), m_comparison(comparison), m_status(new QLabel(this)), m_table(new QTableWidget(this)),
      m_chart(new BarChart(this)) {
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::RichText);
    m_table->setColumnCount(ColumnCount);
    m_table->setHorizontalHeaderLabels({tr("Layer"), tr("Weight"), tr("Input activation"),
                                        tr("Local SQNR (dB)"), tr("Cumulative SQNR (dB)")});
    m_table->horizontalHeaderItem(Weight)->setToolTip(
        tr("Double-click to select the weight and set its quantization"));
    m_table->horizontalHeaderItem(Input)->setToolTip(
        tr("Double-click to select the activation the layer reads"));
    m_table->horizontalHeaderItem(Local)->setToolTip(
        tr("The layer's output with only this layer quantized, against fp32"));
    m_table->horizontalHeaderItem(Cumulative)
        ->setToolTip(tr("The layer's output with every layer up to it quantized, against fp32"));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row, int column) {
        const bool activation = column == Input;
        if (const QTableWidgetItem* item = m_table->item(row, activation ? Input : Weight))
            emit tensorRequested(item->text(), activation);
    });
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(m_chart);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addWidget(split, 1);
    connect(comparison, &ModelComparison::changed, this, &ModelView::refresh);
    refresh();
}

void ModelView::refresh() {
    const auto& report = m_comparison->report();
    const bool has = report.has_value() && !report->layers.empty();
    m_table->setVisible(has);
    m_chart->setVisible(has);
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
                 "<b>local</b> SQNR marks a layer that quantizes badly by itself; the <b>cumulative</b> SQNR "
                 "shows how error builds up through the model. Double-click a layer to select its weight "
                 "(or its input activation)."));
    if (!has)
        return;
    m_table->setRowCount(static_cast<int>(report->layers.size()));
    QStringList labels;
    QVector<double> local;
    QVector<double> cumulative;
    const auto text = [](const Sqnr& s) {
        return s.note.empty() ? QString::number(s.db, 'f', 2) : QString::fromStdString(s.note);
    };
    for (int row = 0; row < static_cast<int>(report->layers.size()); ++row) {
        const LayerSqnr& layer = report->layers[static_cast<std::size_t>(row)];
        labels << QString::fromStdString(layer.name);
        m_table->setItem(row, Layer, new QTableWidgetItem(labels.back()));
        m_table->setItem(row, Weight, new QTableWidgetItem(QString::fromStdString(layer.weight)));
        m_table->setItem(row, Input, new QTableWidgetItem(QString::fromStdString(layer.input)));
        m_table->setItem(row, Local, new QTableWidgetItem(text(layer.local)));
        m_table->setItem(row, Cumulative, new QTableWidgetItem(text(layer.cumulative)));
        local << (layer.local.note.empty() ? layer.local.db : 0.0);
        cumulative << (layer.cumulative.note.empty() ? layer.cumulative.db : 0.0);
    }
    m_chart->setData(tr("Per-layer SQNR (dB), static quantization"), labels, tr("local"), local,
                     tr("cumulative"), cumulative, tr("dB"));
}

} // namespace quantscope::ui
