#pragma once

#include "plots/PlotBase.h"

#include <memory>

namespace quantscope::ui {

struct TensorResult;

// For channel and group granularity: each block's calibrated range (min and max bars) above its
// SQNR, so outlier channels and the blocks that quantize worst stand out.
class BlockStatsPlot : public PlotBase {
    Q_OBJECT
public:
    explicit BlockStatsPlot(QWidget* parent = nullptr);

    void setResult(std::shared_ptr<const TensorResult> result);
    QString dataAsText() const override;
    void applyStyle() override;
    int blockCount() const;

private:
    QCPTextElement* m_title = nullptr;
    std::shared_ptr<const TensorResult> m_result;
    QCPAxisRect* m_sqnrRect;
    QCPBars* m_min;
    QCPBars* m_max;
    QCPBars* m_sqnr;
    QCPItemText* m_message;
};

} // namespace quantscope::ui
