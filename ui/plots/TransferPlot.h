#pragma once

#include "plots/PlotBase.h"

#include <memory>

namespace quantscope::ui {

struct TensorResult;

// The transfer curve x → x̂ on a sample of the tensor: the quantization staircase, flat where
// values are clipped, against the identity line. Zoom with the wheel to see single steps.
class TransferPlot : public PlotBase {
    Q_OBJECT
public:
    explicit TransferPlot(QWidget* parent = nullptr);

    void setResult(std::shared_ptr<const TensorResult> result);
    QString dataAsText() const override;
    void applyStyle() override;

private:
    std::shared_ptr<const TensorResult> m_result;
    QCPGraph* m_identity;
    QCPGraph* m_staircase;
};

} // namespace quantscope::ui
