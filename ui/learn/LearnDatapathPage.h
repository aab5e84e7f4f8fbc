#pragma once

#include "learn/LearnDatapath.h"

#include <QWidget>

#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;

namespace quantscope::ui {

class JobRunner;
class LearnPlot;

// Lesson 5, the integer datapath (Jacob et al. 2018): one output of a quantized Gemm layer of
// the demo model computed with integers only, step by step, next to what the SIMD kernel
// computes from the same integers. The work (loading the model, calibrating) runs on the job
// runner.
class LearnDatapathPage : public QWidget {
    Q_OBJECT
public:
    LearnDatapathPage(JobRunner* jobs, QWidget* parent = nullptr);

    // The model and samples to follow; empty model path: nothing to show.
    void setModel(const QString& model, const QString& samples, const QString& calibration);
    void setChoice(int layer, int sample, int output, bool affineWeights);
    void run();

    std::shared_ptr<const LearnDatapath> result() const { return m_result; }
    bool isBusy() const { return m_job != 0; }
    // The last run failed (its message is shown); a new run clears it.
    bool hasFailed() const { return m_failed; }
    QString text() const;
    LearnPlot* termsPlot() const { return m_terms; }

signals:
    void resultChanged();

protected:
    // The tables are rich text sized from the application font: rebuilt when it changes.
    void changeEvent(QEvent* event) override;

private:
    void showResult();
    LearnDatapath::Request request() const;

    JobRunner* m_jobs;
    QComboBox* m_layer;
    QSpinBox* m_sample;
    QSpinBox* m_output;
    QCheckBox* m_affineWeights;
    QLabel* m_status;
    QLabel* m_steps;
    QLabel* m_verdict;
    LearnPlot* m_terms;
    QString m_model;
    QString m_samples;
    QString m_calibration;
    int m_job = 0;
    bool m_failed = false;
    std::shared_ptr<const LearnDatapath> m_result;
};

} // namespace quantscope::ui
