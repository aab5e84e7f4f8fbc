#include "widgets/StoredBlockPanel.h"

#include "quantscope/io/GgufReader.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <limits>

namespace quantscope::ui {

StoredBlockPanel::StoredBlockPanel(QWidget* parent)
    : QWidget(parent), m_title(new QLabel(this)), m_block(new QSpinBox(this)), m_where(new QLabel(this)),
      m_table(new QTableWidget(0, 2, this)) {
    m_table->setHorizontalHeaderLabels({tr("Field"), tr("Stored values")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(true);
    m_block->setToolTip(tr("Which stored block to show (0 is the first, in row-major element order)"));
    connect(m_block, &QSpinBox::valueChanged, this, &StoredBlockPanel::showBlock);
    auto* blockLabel = new QLabel(tr("Bloc&k"), this);
    blockLabel->setBuddy(m_block);
    m_where->setEnabled(false);
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_title);
    bar->addStretch(1);
    bar->addWidget(blockLabel);
    bar->addWidget(m_block);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(m_where);
    layout->addWidget(m_table, 1);
    setVisible(false);
}

QString StoredBlockPanel::valueText(double value) {
    return QString::number(value, 'g', QLocale::FloatingPointShortest);
}

void StoredBlockPanel::setTensor(std::shared_ptr<const WeightFile> file, const std::string& name) {
    const auto* gguf = dynamic_cast<const GgufReader*>(file.get());
    const bool same = file == m_file && name == m_name;
    m_file = std::move(file);
    m_name = name;
    m_blocks = gguf && gguf->find(name) ? gguf->blockCount(name) : 0;
    setVisible(m_blocks > 0);
    if (m_blocks == 0) {
        m_table->setRowCount(0);
        return;
    }
    m_title->setText(tr("<b>Stored block parameters</b> (%1)")
                         .arg(QString::fromStdString(storageName(*gguf->find(name))).toHtmlEscaped()));
    const QSignalBlocker block(m_block);
    m_block->setRange(0, static_cast<int>(std::min<uint64_t>(m_blocks - 1, std::numeric_limits<int>::max())));
    if (!same)
        m_block->setValue(0);
    showBlock();
}

void StoredBlockPanel::setBlock(int block) {
    m_block->setValue(block);
}

int StoredBlockPanel::block() const {
    return m_block->value();
}

void StoredBlockPanel::showBlock() {
    const auto* gguf = dynamic_cast<const GgufReader*>(m_file.get());
    if (!gguf || m_blocks == 0)
        return;
    const auto block = static_cast<uint64_t>(m_block->value());
    const TensorInfo& info = *gguf->find(m_name);
    const uint64_t perBlock = info.elements / m_blocks;
    const uint64_t first = block * perBlock;
    const uint64_t row = info.shape.empty() ? 0 : first / static_cast<uint64_t>(info.shape.back());
    const uint64_t column = info.shape.empty() ? first : first % static_cast<uint64_t>(info.shape.back());
    m_where->setText(tr("Block %1 (blocks 0 to %2): elements %3 to %4 (row %5, from column %6)")
                         .arg(block)
                         .arg(m_blocks - 1)
                         .arg(first)
                         .arg(first + perBlock - 1)
                         .arg(row)
                         .arg(column));
    m_table->setRowCount(0);
    try {
        const std::vector<GgmlBlockField> fields = gguf->blockFields(m_name, block);
        m_table->setRowCount(static_cast<int>(fields.size()));
        for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
            const GgmlBlockField& field = fields[static_cast<std::size_t>(i)];
            QStringList values;
            for (double v : field.values)
                values.append(valueText(v));
            m_table->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(field.name)));
            m_table->setItem(i, 1, new QTableWidgetItem(values.join(QStringLiteral(", "))));
        }
        m_table->resizeRowsToContents();
    } catch (const std::exception& e) {
        m_where->setText(QString::fromStdString(e.what()));
    }
}

} // namespace quantscope::ui
