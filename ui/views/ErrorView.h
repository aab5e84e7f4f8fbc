#pragma once

#include <QWidget>

namespace quantscope::ui {

class BlockStatsPlot;
class ErrorHistogramPlot;
class Session;
class StoredBlockPanel;
class TransferPlot;

// The error of the exact result for the selected tensor: error histogram, transfer staircase and,
// for channel / group granularity, the per-block ranges and SQNR; for a block-quantized GGUF
// tensor, the parameters the file stores for a chosen block.
class ErrorView : public QWidget {
    Q_OBJECT
public:
    explicit ErrorView(Session* session, QWidget* parent = nullptr);

    ErrorHistogramPlot* errorHistogram() const { return m_errors; }
    TransferPlot* transfer() const { return m_transfer; }
    BlockStatsPlot* blockStats() const { return m_blocks; }
    StoredBlockPanel* storedBlocks() const { return m_stored; }

private:
    void refresh();

    Session* m_session;
    ErrorHistogramPlot* m_errors;
    TransferPlot* m_transfer;
    BlockStatsPlot* m_blocks;
    StoredBlockPanel* m_stored;
};

} // namespace quantscope::ui
