#pragma once

#include "quantscope/model/ActivationCapture.h"
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
    std::vector<ModeResult> modes; // fp32, static, dynamic, weight-only
    std::vector<LayerSqnr> layers; // for static mode
    QString isaPath;               // the SIMD path the integer kernels run on
    int blasThreads = 1;
    QString weightSettings;     // what the weights were quantized with
    QString activationSettings; // what the activations were quantized with
};

// Runs the core's ModelEvaluator on a worker: fp32 against static, dynamic and weight-only
// quantization of the model, with every weight and activation quantized by the session's
// settings for it (by name). A new setup first captures the model's activations on the
// calibration samples and hands them to the session, which lists them beside the weights; the
// static mode then uses exactly the activation parameters the app shows (computed from those
// captured values, or the range dragged by hand). Re-runs, debounced, when the settings change;
// a run made stale by a newer one is dropped.
class ModelComparison : public QObject {
    Q_OBJECT
public:
    ModelComparison(Session* session, JobRunner* jobs, QObject* parent = nullptr);

    void setSetup(const ModelSetup& setup);
    const std::optional<ModelSetup>& setup() const { return m_setup; }
    const std::optional<ModelReport>& report() const { return m_report; }
    bool isRunning() const { return m_running; }
    // Capturing activations, running, or about to re-run after a settings change.
    bool isBusy() const { return m_capturing || m_running || m_debounce.isActive(); }
    // How many calibration samples the activations hold, of how many (0 of 0 before a capture).
    int64_t samplesCaptured() const { return m_samplesCaptured; }
    int64_t samplesTotal() const { return m_samplesTotal; }
    // Memory the captured activations may take (ActivationCaptureOptions::maxBytes); applies to
    // the next setup.
    void setCaptureBudget(uint64_t bytes) { m_captureBudget = bytes; }
    QString lastError() const { return m_error; }

public slots:
    void run();

signals:
    void changed();
    // A run failed (not cancelled): the message names the file or the tensor.
    void failed(const QString& message);

private:
    void startCapture();

    Session* m_session;
    JobRunner* m_jobs;
    QTimer m_debounce;
    std::optional<ModelSetup> m_setup;
    std::optional<ModelReport> m_report;
    bool m_running = false;
    bool m_capturing = false;
    QString m_error;
    int m_job = 0;
    int m_captureJob = 0;
    int64_t m_samplesCaptured = 0;
    int64_t m_samplesTotal = 0;
    uint64_t m_captureBudget = ActivationCaptureOptions{}.maxBytes;
};

} // namespace quantscope::ui
