#pragma once

#include "learn/LearnMappingSteps.h"

#include <QWidget>

#include <memory>
#include <optional>

class QBoxLayout;
class QDoubleSpinBox;
class QLabel;

namespace quantscope::ui {

class FineHistogram;
class FitScrollArea;
class LearnNumberLine;
struct LearnTensorStudy;

// Lesson 1, the mapping: one value x walked through x_q = clamp(round(x/S + Z), qmin, qmax) and
// back, for the symmetric and the affine scheme side by side (same tensor, same bits, same
// calibration), with the number lines showing the grid, zero's level and the unused levels.
class LearnMappingPage : public QWidget {
    Q_OBJECT
public:
    explicit LearnMappingPage(QWidget* parent = nullptr);

    void setStudy(std::shared_ptr<const LearnTensorStudy> study,
                  std::shared_ptr<const FineHistogram> histogram);
    void clear(const QString& message);
    void setValue(double x);
    // A value of `tensor`, whose study may still be to come: its arrival keeps the value instead
    // of starting from a typical one.
    void setValueFor(double x, const std::string& tensor);
    double value() const;

    const std::optional<LearnMappingSteps>& symmetricSteps() const { return m_symmetric; }
    const std::optional<LearnMappingSteps>& affineSteps() const { return m_affine; }
    QString stepsText() const;
    // Whether the number lines stand side by side (a page too short to stack them).
    bool linesSideBySide() const;

protected:
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void refresh();
    void scheduleFit();
    void fitLines();
    QString table(const LearnMappingSteps& steps, bool current) const;

    std::shared_ptr<const LearnTensorStudy> m_study;
    std::shared_ptr<const FineHistogram> m_histogram;
    std::string m_valueForTensor;
    QDoubleSpinBox* m_value;
    QLabel* m_heading;
    QLabel* m_symmetricText;
    QLabel* m_affineText;
    LearnNumberLine* m_line;
    LearnNumberLine* m_zoom;
    QBoxLayout* m_lines;
    FitScrollArea* m_scroll = nullptr;
    bool m_fitPending = false;
    std::optional<LearnMappingSteps> m_symmetric;
    std::optional<LearnMappingSteps> m_affine;
};

} // namespace quantscope::ui
