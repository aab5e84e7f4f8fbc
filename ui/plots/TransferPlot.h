#pragma once

#include "plots/PlotBase.h"

#include <memory>

namespace quantscope::ui {

struct TensorResult;

// The transfer curve x → x̂: the quantization staircase, flat where values are clipped, against
// the identity line. Zoom with the wheel to see single steps.
class TransferPlot : public PlotBase {
    Q_OBJECT
public:
    explicit TransferPlot(QWidget* parent = nullptr);

    void setResult(std::shared_ptr<const TensorResult> result);
    QString dataAsText() const override;
    void applyStyle() override;

    // The staircase drawn: from the grid over the whole data range when the tensor has one integer
    // grid, else the sample of (x, x̂) pairs.
    static void gridStaircase(const TensorResult& result, QVector<double>& xs, QVector<double>& ys);

private:
    QCPTextElement* m_title = nullptr;
    std::shared_ptr<const TensorResult> m_result;
    QCPGraph* m_identity;
    QCPGraph* m_staircase;
};

} // namespace quantscope::ui
