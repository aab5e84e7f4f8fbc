#pragma once

#include "quantscope/model/ActivationCapture.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/QuantizedModel.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <memory>
#include <optional>
#include <vector>

namespace quantscope::ui {

class ComparisonWorkspace;
class JobRunner;
class Session;

// The model and samples the Compare and Model views run: an ONNX graph, evaluation samples,
// optional labels and optional calibration samples (the evaluation samples when absent).
struct ModelSetup {
    QString model;
    QString samples;
    QString labels;
    QString calibration;

    bool operator==(const ModelSetup&) const = default;
};

// How far a refresh has come, in the order the results arrive.
enum class CompareStage {
    FirstSamples, // accuracy, agreement and SQNR on the first few samples
    AllSamples,   // the same on every sample
    Timing,       // latency and throughput measured
    Layers,       // per-layer SQNR (the Model view): the refresh is complete
};

// How one mode runs the model: its own settings and which op types run quantized or in fp32.
struct ModeExecution {
    QuantMode mode = QuantMode::Fp32;
    QString settings;
    QStringList quantizedOps; // "Conv ×20", in graph order of the first node of each type
    QStringList fp32Ops;
    // Per node in graph order, as the core runs it (QuantizedModel::execution(mode)).
    std::vector<QuantizedModel::NodeExecution> nodes;
};

// What one evaluation produced, kept without the raw outputs.
struct ModelReport {
    std::vector<ModeResult> modes;         // fp32, static, dynamic, weight-only
    std::vector<LayerSqnr> layers;         // for static mode
    QString isaPath;                       // the SIMD path the integer kernels run on
    int blasThreads = 1;                   // per run (each BLAS call on its caller's thread)
    int scoringThreads = 1;                // runs scoring the samples side by side; timing runs on one thread
    QString weightSettings;                // what the weights were quantized with
    QString activationSettings;            // what the activations were quantized with
    std::vector<ModeExecution> executions; // per mode, in the order of `modes`
    CompareStage stage = CompareStage::FirstSamples;
    int64_t samplesScored = 0; // the accuracy, agreement and SQNR are over this many samples
    int64_t samplesTotal = 0;
    int64_t timedSamples = 0; // throughput passes ran over this many samples
    // Quantized modes whose timing was kept from an earlier refresh: the same kernels run.
    std::vector<QuantMode> timingKept;
};

// Runs the core's ModelEvaluator on a worker: fp32 against static, dynamic and weight-only
// quantization of the model, with every weight and activation quantized by the session's
// settings for it (by name). A new setup first captures the model's activations on the
// calibration samples and hands them to the session, which lists them beside the weights; the
// static mode then uses exactly the activation parameters the app shows (computed from those
// captured values, or the range dragged by hand).
//
// Live: the model, the samples, the calibration observers and fp32's outputs are kept across
// refreshes (ComparisonWorkspace), so a settings change re-quantizes only the weights it touched
// and recomputes activation parameters from the kept observers. Each refresh, debounced after a
// change, delivers its results in stages (CompareStage): the first samples, all samples, the
// timing, the per-layer SQNR; a newer change cancels the running refresh.
class ModelComparison : public QObject {
    Q_OBJECT
public:
    // Samples in the first, quick stage.
    static constexpr int64_t kFirstSamples = 8;
    // The timing stage times a short fixed slice on one thread, each pass twice (the faster
    // counts): throughput on the first kTimedSamples samples in one batch, latency on the first
    // kLatencySamples one at a time. fp32's timing is measured once per setup.
    static constexpr int64_t kTimedSamples = 4;
    static constexpr int64_t kLatencySamples = 2;

    ModelComparison(Session* session, JobRunner* jobs, QObject* parent = nullptr);
    ~ModelComparison() override;

    void setSetup(const ModelSetup& setup);
    const std::optional<ModelSetup>& setup() const { return m_setup; }
    const std::optional<ModelReport>& report() const { return m_report; }
    // A refresh is running (any stage).
    bool isRunning() const { return m_running; }
    // Capturing activations, running, or about to re-run after a settings change.
    bool isBusy() const { return m_capturing || m_running || m_debounce.isActive(); }
    // The report is from settings older than the session's (a refresh is on its way).
    bool isStale() const { return m_reportGeneration != m_generation; }
    // How many calibration samples the activations hold, of how many (0 of 0 before a capture).
    int64_t samplesCaptured() const { return m_samplesCaptured; }
    int64_t samplesTotal() const { return m_samplesTotal; }
    // Memory the captured activations may take (ActivationCaptureOptions::maxBytes); applies to
    // the next setup.
    void setCaptureBudget(uint64_t bytes) { m_captureBudget = bytes; }
    QString lastError() const { return m_error; }

    // What the kept state saved (any thread may read them): models and samples loaded, passes of
    // the calibration samples through the model, and weights quantized again by the last refresh.
    int modelLoads() const;
    int calibrationPasses() const;
    int weightsRequantized() const;

public slots:
    void run();

signals:
    void changed();
    // A stage of the current refresh delivered its results (report() holds them).
    void stageReached(quantscope::ui::CompareStage stage);
    // A run failed (not cancelled): the message names the file or the tensor.
    void failed(const QString& message);

private:
    void startCapture();
    void startStage(CompareStage stage);
    void stageFinished(const QVariant& value);
    void logTiming(const char* what) const;

    Session* m_session;
    JobRunner* m_jobs;
    std::shared_ptr<ComparisonWorkspace> m_workspace;
    QTimer m_debounce;
    std::optional<ModelSetup> m_setup;
    std::optional<ModelReport> m_report;
    bool m_running = false;
    bool m_capturing = false;
    QString m_error;
    int m_job = 0;
    int m_captureJob = 0;
    int m_generation = 0;       // of the latest refresh
    int m_reportGeneration = 0; // of the refresh the report comes from
    qint64 m_changedAt = 0;     // ms since the epoch when the settings last changed (for the timing log)
    int64_t m_samplesCaptured = 0;
    int64_t m_samplesTotal = 0;
    uint64_t m_captureBudget = ActivationCaptureOptions{}.maxBytes;
};

} // namespace quantscope::ui

Q_DECLARE_METATYPE(quantscope::ui::CompareStage)
