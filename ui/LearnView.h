#pragma once

#include "PlotBase.h"

#include <QWidget>

class QDoubleSpinBox;
class QLabel;

namespace quantscope::ui {

class AnalysisController;
class Session;

// For teaching: one value walked through x_q = clamp(round(x/S) + Z, qmin, qmax) and back,
// step by step with the numbers of the selected tensor's parameters, beside a number line that
// shows the neighbouring levels, x and where it lands.
class LearnView : public QWidget {
    Q_OBJECT
public:
    LearnView(Session* session, AnalysisController* controller, QWidget* parent = nullptr);

    void setValue(double x);
    QString stepsText() const;

private:
    void refresh();

    Session* m_session;
    AnalysisController* m_controller;
    QDoubleSpinBox* m_value;
    QLabel* m_steps;
    class NumberLine;
    NumberLine* m_line;
    int m_valueForRow = -1;
};

} // namespace quantscope::ui
