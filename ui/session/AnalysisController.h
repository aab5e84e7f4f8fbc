#pragma once

#include "quantscope/analysis/FineHistogram.h"
#include "quantscope/analysis/MetricsPreview.h"

#include "quantscope/quant/QuantSpec.h"
#include "quantscope/tensor/Tensor.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>

#include <map>
#include <memory>
#include <optional>

namespace quantscope::ui {

class JobRunner;
class Session;

// What the distribution and error views draw before the exact result arrives.
struct Preview {
    bool valid = false;
    Range clip;                  // the clipping range in use (manual, calibrated or estimated)
    bool clipIsEstimate = false; // true until the worker's calibration for these settings is known
    PreviewResult estimate;      // parameters and metrics estimated from the fine histogram
    bool dragged = false;        // the clip comes from a clipping line being dragged
    bool chosenPerBlock = false; // the format (ggml's) chooses each block's parameters: no preview
};

// Schedules the work the session needs on the job runner and hands results back to the session:
// opening files, loading the selected tensor with its fine histogram, the exact analysis of the
// selected tensor, the thresholds each calibration method would choose, and the table's metrics
// for every tensor. A newer request on a channel makes the older result stale.
class AnalysisController : public QObject {
    Q_OBJECT
public:
    AnalysisController(Session* session, JobRunner* jobs, QObject* parent = nullptr);

    void openFile(const QString& path);
    // Computes the table metrics of every tensor whose metrics are missing for its settings, a
    // few tensors at a time in parallel. Runs by itself after a file opens and after settings change.
    void analyzeAll();

    std::shared_ptr<const FineHistogram> histogram(int row) const { return m_histograms.value(row); }
    const Preview& preview() const { return m_preview; }
    // The range each calibration method would choose for the current tensor and settings.
    const std::map<CalibMethod, Range>& markers() const { return m_markers; }
    bool markersCurrent() const;
    // A whole-file analysis is scheduled (the short wait that gathers several changes into one)
    // and has not started yet.
    bool analysisScheduled() const { return m_analyzeAllTimer.isActive(); }

    // A clipping line is being dragged: the preview follows without touching the session (the
    // drop is recorded as one undoable change).
    void previewManualRange(Range range);

    int lastOpenJob() const { return m_openJob; }

signals:
    void fileOpened(const QString& path);
    void openFailed(const QString& path, const QString& message);
    void previewChanged();
    void markersChanged();
    void analysisFailed(const QString& message);

private:
    // Drops what was loaded for rows from firstRow on (they now hold other tensors).
    void forgetRowsFrom(int firstRow);
    void onCurrentRowChanged(int row);
    void onSettingsChanged(const QList<int>& rows);
    void startTensorLoad(int row);
    void startExactAnalysis();
    void startMarkers();
    void updatePreview(std::optional<Range> dragged = std::nullopt);
    void scheduleAnalyzeAll();

    Session* m_session;
    JobRunner* m_jobs;
    QTimer m_analyzeAllTimer;
    int m_openJob = 0;
    int m_exactJob = 0;
    int m_tensorRow = -1;
    std::shared_ptr<const Tensor> m_tensor;
    QHash<int, std::shared_ptr<const FineHistogram>> m_histograms;
    std::map<CalibMethod, Range> m_markers;
    std::optional<QuantSpec> m_markerSpec;
    Preview m_preview;
};

} // namespace quantscope::ui
