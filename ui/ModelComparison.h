#pragma once

#include "quantscope/model/ModelEvaluator.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <optional>
#include <vector>

namespace quantscope::ui {

class JobRunner;
class Session;

// The model and samples the Compare and Model views run: an ONNX graph, evaluation samples,
// optional labels and optional calibration samples (the evaluation samples when absent).
struct ModelSetup {
    QString model;
    QString samples;
    QString labels;
    QString calibration;
};

// What one evaluation produced, kept without the raw outputs.
struct ModelReport {
    std::vector<ModeResult> modes;       // fp32, static, dynamic, weight-only
    std::vector<LayerSqnr> layers;       // for static mode
    QString isaPath;                     // the SIMD path the integer kernels run on
    int blasThreads = 1;
    QString weightSettings;              // what the weights were quantized with
};

// Runs the core's ModelEvaluator on a worker: fp32 against static, dynamic and weight-only
// quantization of the model, with the weights quantized by the session's per-tensor settings
// (by initializer name) and activations int8 affine per tensor. Re-runs, debounced, when the
// settings change; a run made stale by a newer one is dropped.
class ModelComparison : public QObject {
    Q_OBJECT
public:
    ModelComparison(Session* session, JobRunner* jobs, QObject* parent = nullptr);

    void setSetup(const ModelSetup& setup);
    const std::optional<ModelSetup>& setup() const { return m_setup; }
    const std::optional<ModelReport>& report() const { return m_report; }
    bool isRunning() const { return m_running; }
    // Running, or about to re-run after a settings change.
    bool isBusy() const { return m_running || m_debounce.isActive(); }
    QString lastError() const { return m_error; }

public slots:
    void run();

signals:
    void changed();

private:
    Session* m_session;
    JobRunner* m_jobs;
    QTimer m_debounce;
    std::optional<ModelSetup> m_setup;
    std::optional<ModelReport> m_report;
    bool m_running = false;
    QString m_error;
    int m_job = 0;
};

} // namespace quantscope::ui
