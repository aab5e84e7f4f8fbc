#pragma once

#include "plots/PlotBase.h"

#include <memory>

namespace quantscope::ui {

struct TensorResult;

// Histogram of the quantization error x − x̂ of the exact result: a narrow box of rounding error
// of width one step, and long wings when values are clipped.
class ErrorHistogramPlot : public PlotBase {
    Q_OBJECT
public:
    explicit ErrorHistogramPlot(QWidget* parent = nullptr);

    void setResult(std::shared_ptr<const TensorResult> result, const QString& message = {});
    QString dataAsText() const override;
    void applyStyle() override;

private:
    QCPTextElement* m_title = nullptr;
    std::shared_ptr<const TensorResult> m_result;
    QCPGraph* m_graph;
    QCPItemText* m_message;
};

} // namespace quantscope::ui
