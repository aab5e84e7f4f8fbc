#pragma once

#include <QWidget>

#include <memory>

class QLabel;

namespace quantscope::ui {

class FineHistogram;
class LearnPlot;
struct LearnTensorStudy;

// Lesson 3, calibration: the tensor's histogram with the clipping thresholds that min-max,
// percentile, MSE, entropy and histogram calibration choose, and each method's MSE split into
// its clipping part and its rounding part as stacked bars: cutting the tails adds clipping error
// but shrinks the step, and with it the rounding error of every other value.
class LearnCalibrationPage : public QWidget {
    Q_OBJECT
public:
    explicit LearnCalibrationPage(QWidget* parent = nullptr);

    void setStudy(std::shared_ptr<const LearnTensorStudy> study,
                  std::shared_ptr<const FineHistogram> histogram);
    void clear(const QString& message);

    LearnPlot* histogramPlot() const { return m_histogram; }
    LearnPlot* errorPlot() const { return m_error; }

private:
    QLabel* m_summary;
    LearnPlot* m_histogram;
    LearnPlot* m_error;
};

} // namespace quantscope::ui
