#include "views/ErrorView.h"

#include "plots/BlockStatsPlot.h"
#include "plots/ErrorHistogramPlot.h"
#include "plots/TransferPlot.h"
#include "quantscope/analysis/TensorResult.h"
#include "session/Session.h"
#include "widgets/StoredBlockPanel.h"

#include <QSplitter>
#include <QVBoxLayout>

namespace quantscope::ui {

ErrorView::ErrorView(Session* session, QWidget* parent)
    : QWidget(parent), m_session(session), m_errors(new ErrorHistogramPlot(this)),
      m_transfer(new TransferPlot(this)), m_blocks(new BlockStatsPlot(this)),
      m_stored(new StoredBlockPanel(this)) {
    auto* top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(m_errors);
    top->addWidget(m_transfer);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    auto* bottom = new QSplitter(Qt::Horizontal, this);
    bottom->addWidget(m_blocks);
    bottom->addWidget(m_stored);
    bottom->setStretchFactor(0, 3);
    bottom->setStretchFactor(1, 2);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split);

    connect(session, &Session::resultChanged, this, [this](int row) {
        if (row == m_session->currentRow())
            refresh();
    });
    connect(session, &Session::currentRowChanged, this, &ErrorView::refresh);
    connect(session, &Session::settingsChanged, this, &ErrorView::refresh);
    connect(session, &Session::fileChanged, this, &ErrorView::refresh);
    connect(session, &Session::activationsChanged, this, &ErrorView::refresh);
    refresh();
}

void ErrorView::refresh() {
    const int row = m_session->currentRow();
    const auto result = m_session->result(row);
    const QString message = !m_session->hasTensors() ? tr("No file open")
                            : row < 0                ? tr("No tensor selected")
                            : !result                ? tr("Quantizing %1…").arg(m_session->tensorName(row))
                                                     : QString();
    m_errors->setResult(result, message);
    m_transfer->setResult(result);
    m_blocks->setResult(result);
    // Per-block bars only mean something with more than one block; otherwise the error plots
    // get the whole height.
    m_blocks->setVisible(result && result->analysis.params.blockCount() > 1);
    // What a GGUF file stores per block, whatever the settings: it is read, not computed.
    if (row >= 0 && !m_session->isActivation(row))
        m_stored->setTensor(m_session->source(row), m_session->info(row).name);
    else
        m_stored->setTensor(nullptr, {});
    m_blocks->parentWidget()->setVisible(!m_blocks->isHidden() || !m_stored->isHidden());
}

} // namespace quantscope::ui
