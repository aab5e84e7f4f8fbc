#pragma once

#include "quantscope/io/WeightFile.h"

#include <QWidget>

#include <memory>
#include <string>

class QLabel;
class QSpinBox;
class QTableWidget;

namespace quantscope::ui {

// The parameters a GGUF file stores for one block of a block-quantized tensor (a Q8_0 block's
// scale d; a Q4_K super-block's d, dmin and its eight 6-bit sub-scales and mins…), decoded by the
// reader's own block decoder (as `quantscope-cli info --tensor NAME --block K` prints them). A spin
// box picks the block; the panel hides itself for tensors stored without blocks.
class StoredBlockPanel : public QWidget {
    Q_OBJECT
public:
    explicit StoredBlockPanel(QWidget* parent = nullptr);

    // The tensor to show (none: the panel hides). Keeps the block number when it still exists.
    void setTensor(std::shared_ptr<const WeightFile> file, const std::string& name);
    bool hasBlocks() const { return m_blocks > 0; }
    uint64_t blockCount() const { return m_blocks; }
    void setBlock(int block);
    int block() const;
    QSpinBox* blockBox() const { return m_block; }
    QTableWidget* table() const { return m_table; }
    // How a value is written in the table: the shortest text that reads back to the same double.
    static QString valueText(double value);

private:
    void showBlock();

    std::shared_ptr<const WeightFile> m_file;
    std::string m_name;
    uint64_t m_blocks = 0;
    QLabel* m_title;
    QSpinBox* m_block;
    QLabel* m_where;
    QTableWidget* m_table;
};

} // namespace quantscope::ui
