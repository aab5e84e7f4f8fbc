#pragma once

#include <QWidget>

#include <memory>

class QLabel;

namespace quantscope::ui {

class LearnPlot;
struct LearnTensorStudy;

// Lesson 2, bits and granularity: SQNR from 16 down to 2 bits beside the ≈ 6.02 dB per bit of
// the textbook rule, the levels actually used and the fraction clipped; then bits per value
// (scales included) against SQNR for per-tensor, per-channel and group-wise scales at 8, 4 and
// 3 bits, so the price and the gain of finer granularity can be read off one plot.
class LearnBitWidthPage : public QWidget {
    Q_OBJECT
public:
    explicit LearnBitWidthPage(QWidget* parent = nullptr);

    void setStudy(std::shared_ptr<const LearnTensorStudy> study);
    void clear(const QString& message);

    LearnPlot* sqnrPlot() const { return m_sqnr; }
    LearnPlot* levelsPlot() const { return m_levels; }
    LearnPlot* paretoPlot() const { return m_pareto; }

private:
    QLabel* m_summary;
    LearnPlot* m_sqnr;
    LearnPlot* m_levels;
    LearnPlot* m_pareto;
};

} // namespace quantscope::ui
