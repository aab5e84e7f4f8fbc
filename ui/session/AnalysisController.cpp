#include "session/AnalysisController.h"
#include "session/AllCores.h"
#include "session/MainThreadCall.h"

#include "quantscope/analysis/TensorResultBuilder.h"
#include "session/JobRunner.h"
#include "session/Session.h"
#include "session/StoredSettings.h"

#include "quantscope/Error.h"
#include "quantscope/io/WeightFile.h"

#include <QFileInfo>
#include <QPointer>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace quantscope::ui {
namespace {

// Markers depend on the format and range options, not on the method or granularity in use.
QuantSpec markerKey(QuantSpec spec) {
    spec.calib = CalibMethod::MinMax;
    spec.granularity = Granularity::Tensor;
    spec.axis = 0;
    spec.groupSize = 128;
    return spec;
}

struct LoadedTensor {
    int row = -1;
    std::shared_ptr<const Tensor> tensor;
    std::shared_ptr<const FineHistogram> histogram;
};

// A file opened on a worker with the settings it stores for its quantized weights.
struct OpenedFile {
    std::shared_ptr<const WeightFile> file;
    std::vector<std::optional<StoredSettings>> stored;
};

struct MarkerSet {
    int row = -1;
    QuantSpec spec;
    std::map<CalibMethod, Range> markers;
};

} // namespace

AnalysisController::AnalysisController(Session* session, JobRunner* jobs, QObject* parent)
    : QObject(parent), m_session(session), m_jobs(jobs) {
    m_analyzeAllTimer.setSingleShot(true);
    m_analyzeAllTimer.setInterval(250);
    connect(&m_analyzeAllTimer, &QTimer::timeout, this, &AnalysisController::analyzeAll);
    connect(session, &Session::currentRowChanged, this, &AnalysisController::onCurrentRowChanged);
    connect(session, &Session::settingsChanged, this, &AnalysisController::onSettingsChanged);
    // The session announces its new current row right after either; that loads the tensor.
    connect(session, &Session::fileChanged, this, [this] { forgetRowsFrom(0); });
    // Weight rows keep their numbers and values: only the activations' loaded data goes.
    connect(session, &Session::activationsChanged, this,
            [this] { forgetRowsFrom(m_session->weightCount()); });
}

void AnalysisController::forgetRowsFrom(int firstRow) {
    for (auto it = m_histograms.begin(); it != m_histograms.end();)
        it = it.key() >= firstRow ? m_histograms.erase(it) : std::next(it);
    if (m_tensorRow >= firstRow || !m_tensor) {
        m_tensor.reset();
        m_tensorRow = -1;
        m_markers.clear();
        m_markerSpec.reset();
        m_preview = {};
        emit previewChanged();
    }
    // Every row gets its metrics without a user action, however large the file: the work runs in
    // the background, shows its progress and can be cancelled (Esc).
    scheduleAnalyzeAll();
}

void AnalysisController::openFile(const QString& path) {
    const std::string file = path.toStdString();
    const QuantSpec base = m_session->defaultSettings().spec;
    JobHandle* job =
        m_jobs->startJob(QStringLiteral("open"), tr("Opening %1").arg(QFileInfo(path).fileName()),
                         [file, base](const ProgressCallback& progress) {
                             reportProgress(progress, Stage::Opened, 0.0);
                             OpenedFile opened;
                             opened.file = openWeightFile(file);
                             reportProgress(progress, Stage::TensorsListed, 0.5);
                             // A pre-quantized model's weights start from the parameters it stores; reading
                             // them (a packed checkpoint's scales and zero points) stays off the GUI thread.
                             opened.stored = StoredSettings::readAll(
                                 *opened.file, base, [&progress](Stage stage, double fraction) {
                                     return progress(stage, 0.5 + 0.5 * fraction);
                                 });
                             reportProgress(progress, Stage::Results, 1.0);
                             return QVariant::fromValue(opened);
                         });
    m_openJob = job->id();
    connect(job, &JobHandle::finished, this, [this, path](const QVariant& value) {
        auto opened = value.value<OpenedFile>();
        m_session->setFile(std::move(opened.file), std::move(opened.stored));
        emit fileOpened(path);
    });
    connect(job, &JobHandle::failed, this,
            [this, path](const QString& message) { emit openFailed(path, message); });
}

void AnalysisController::onCurrentRowChanged(int row) {
    m_markers.clear();
    m_markerSpec.reset();
    if (row < 0 || !m_session->hasTensors()) {
        m_preview = {};
        emit previewChanged();
        return;
    }
    if (m_tensorRow == row && m_tensor) {
        updatePreview();
        if (!m_session->result(row))
            startExactAnalysis();
        else
            startMarkers();
        return;
    }
    startTensorLoad(row);
}

void AnalysisController::startTensorLoad(int row) {
    m_tensor.reset();
    m_tensorRow = -1;
    m_preview = {};
    emit previewChanged();
    const auto file = m_session->source(row);
    const std::string name = m_session->info(row).name;
    QPointer<AnalysisController> self(this);
    JobHandle* job = m_jobs->startJob(
        QStringLiteral("tensor"), tr("Loading %1").arg(QString::fromStdString(name)),
        [file, name, row](const ProgressCallback& progress) {
            reportProgress(progress, Stage::Opened, 0.0);
            auto tensor = std::make_shared<const Tensor>(file->load(name));
            reportProgress(progress, Stage::Statistics, 0.6);
            auto histogram = std::make_shared<const FineHistogram>(FineHistogram::build(tensor->values()));
            reportProgress(progress, Stage::Results, 1.0);
            return QVariant::fromValue(LoadedTensor{row, tensor, histogram});
        });
    connect(job, &JobHandle::finished, this, [=, this](const QVariant& value) {
        const auto loaded = value.value<LoadedTensor>();
        if (loaded.row != m_session->currentRow() || file != m_session->source(loaded.row))
            return;
        m_tensor = loaded.tensor;
        m_tensorRow = loaded.row;
        m_histograms.insert(loaded.row, loaded.histogram);
        updatePreview();
        if (!m_session->result(row))
            startExactAnalysis(); // the markers follow it
        else
            startMarkers();
    });
    connect(job, &JobHandle::failed, this, &AnalysisController::analysisFailed);
}

void AnalysisController::onSettingsChanged(const QList<int>& rows) {
    const int current = m_session->currentRow();
    if (rows.contains(current) && m_tensor && m_tensorRow == current) {
        updatePreview();
        // The exact result goes first (it is what the user waits for); the markers follow it.
        if (!m_session->result(current))
            startExactAnalysis();
        else if (!markersCurrent())
            startMarkers();
    }
    scheduleAnalyzeAll();
}

bool AnalysisController::markersCurrent() const {
    const int row = m_session->currentRow();
    return m_markerSpec && row >= 0 && *m_markerSpec == markerKey(m_session->settings(row).spec);
}

void AnalysisController::startExactAnalysis() {
    const int row = m_tensorRow;
    const auto tensor = m_tensor;
    const TensorSettings settings = m_session->settings(row);
    QPointer<Session> session(m_session);
    QPointer<AnalysisController> self(this);
    JobHandle* job =
        m_jobs->startJob(QStringLiteral("exact"), tr("Quantizing %1").arg(m_session->tensorName(row)),
                         [tensor, settings](const ProgressCallback& progress) {
                             return QVariant::fromValue(std::shared_ptr<const TensorResult>(
                                 TensorResultBuilder::build(*tensor, settings, progress)));
                         });
    m_exactJob = job->id();
    connect(job, &JobHandle::finished, this, [=, this](const QVariant& value) {
        // The same tensor still loaded (not a new one under the same row number).
        if (m_tensorRow == row && m_tensor == tensor &&
            m_session->offerResult(row, value.value<std::shared_ptr<const TensorResult>>())) {
            updatePreview();
            if (!markersCurrent())
                startMarkers();
        }
    });
    connect(job, &JobHandle::failed, this, &AnalysisController::analysisFailed);
}

void AnalysisController::startMarkers() {
    const int row = m_tensorRow;
    if (row < 0 || !m_tensor)
        return;
    const auto tensor = m_tensor;
    const QuantSpec spec = markerKey(m_session->settings(row).spec);
    JobHandle* job = m_jobs->startJob(
        QStringLiteral("markers"), tr("Comparing calibration methods"),
        [tensor, spec, row](const ProgressCallback& progress) {
            return QVariant::fromValue(
                MarkerSet{row, spec, TensorResultBuilder::calibrationMarkers(*tensor, spec, progress)});
        });
    connect(job, &JobHandle::finished, this, [=, this](const QVariant& value) {
        const auto set = value.value<MarkerSet>();
        if (set.row != m_session->currentRow() || m_tensor != tensor)
            return;
        m_markers = set.markers;
        m_markerSpec = set.spec;
        updatePreview();
        emit markersChanged();
    });
}

void AnalysisController::previewManualRange(Range range) {
    updatePreview(range);
}

void AnalysisController::updatePreview(std::optional<Range> dragged) {
    const int row = m_session->currentRow();
    const auto histogram = m_histograms.value(row);
    if (row < 0 || !histogram || histogram->isEmpty()) {
        m_preview = {};
        emit previewChanged();
        return;
    }
    const TensorSettings& settings = m_session->settings(row);
    Preview preview;
    preview.valid = true;
    preview.dragged = dragged.has_value();
    const Range fullRange{static_cast<float>(histogram->min()), static_cast<float>(histogram->max())};
    if (dragged) {
        preview.clip = *dragged;
    } else if (settings.manualRange) {
        preview.clip = *settings.manualRange;
    } else if (const auto result = m_session->result(row);
               result && result->analysis.params.blockCount() == 1) {
        preview.clip = {result->analysis.params.min.front(), result->analysis.params.max.front()};
    } else if (markersCurrent() && m_markers.count(settings.spec.calib)) {
        preview.clip = m_markers.at(settings.spec.calib);
    } else if (settings.spec.calib == CalibMethod::Percentile) {
        // Until the worker's answer, the fine histogram's quantiles are a close estimate.
        const double p = settings.spec.percentile;
        preview.clip = {static_cast<float>(histogram->quantile(100.0 - p)),
                        static_cast<float>(histogram->quantile(p))};
        preview.clipIsEstimate = true;
    } else {
        preview.clip = fullRange;
        preview.clipIsEstimate = settings.spec.calib != CalibMethod::MinMax;
    }
    if (settings.spec.format.isGgml()) {
        // ggml's quantizer picks each block's parameters itself: no range to preview, the worker's
        // exact result follows.
        preview.valid = false;
        preview.chosenPerBlock = true;
        m_preview = preview;
        emit previewChanged();
        return;
    }
    const bool exactGrid = !dragged && settings.exactParams && settings.exactParams->blockCount() == 1 &&
                           settings.spec.format.isInteger();
    if (exactGrid) { // stored or imported: the clip is the grid's own range
        const float scale = settings.exactParams->scale.front();
        const auto zero = static_cast<float>(settings.exactParams->zeroPoint.front());
        preview.clip = {(static_cast<float>(settings.spec.qmin()) - zero) * scale,
                        (static_cast<float>(settings.spec.qmax()) - zero) * scale};
    }
    try {
        if (exactGrid) {
            // The affine rule gives back a grid's own scale and zero point from its range (the
            // symmetric one would not); the grid drawn is exactly the given one.
            QuantSpec affine = settings.spec;
            affine.scheme = Scheme::Affine;
            preview.estimate = MetricsPreview::estimate(*histogram, affine, preview.clip);
            preview.estimate.scale = settings.exactParams->scale.front();
            preview.estimate.zeroPoint = settings.exactParams->zeroPoint.front();
        } else {
            preview.estimate = MetricsPreview::estimate(*histogram, settings.spec, preview.clip);
        }
    } catch (const std::exception& e) {
        preview.valid = false;
        emit analysisFailed(QString::fromStdString(e.what()));
    }
    m_preview = preview;
    emit previewChanged();
}

void AnalysisController::scheduleAnalyzeAll() {
    if (m_session->hasTensors())
        m_analyzeAllTimer.start();
}

void AnalysisController::analyzeAll() {
    if (!m_session->hasTensors())
        return;
    struct Item {
        int row;
        std::string name;
        TensorSettings settings;
        std::shared_ptr<const WeightFile> source;
    };
    std::vector<Item> items;
    // The selected tensor's metrics come from its exact analysis while that runs, not twice; a
    // cancelled one leaves the row to this analysis.
    const int current = m_tensor && m_jobs->isRunning(m_exactJob) ? m_tensorRow : -1;
    for (int row = 0; row < m_session->tensorCount(); ++row)
        if (row != current && !m_session->summaryMetrics(row))
            items.push_back(
                {row, m_session->info(row).name, m_session->settings(row), m_session->source(row)});
    if (items.empty())
        return;
    QPointer<Session> session(m_session);
    m_jobs->start(
        QStringLiteral("summaries"), tr("Analysing %n tensor(s)", nullptr, static_cast<int>(items.size())),
        [items, session](const ProgressCallback& progress) {
            // Tensors are independent: a few workers take the next one in file order, so rows
            // fill in from the top while the whole file is read by every core.
            const std::size_t total = items.size();
            std::atomic<std::size_t> next{0};
            std::atomic<std::size_t> done{0};
            std::atomic<bool> stop{false};
            std::mutex failureMutex;
            std::exception_ptr cancelled;
            std::vector<QString> failures;
            const auto stillWanted = [&] {
                return progress(Stage::Statistics, static_cast<double>(done) / static_cast<double>(total));
            };
            const auto work = [&] {
                for (std::size_t i = 0; !stop && (i = next++) < total;) {
                    const auto& item = items[i];
                    try {
                        const ProgressCallback perTensor = [&](Stage, double) { return stillWanted(); };
                        if (!stillWanted())
                            throw Cancelled();
                        const Tensor tensor = item.source->load(item.name);
                        TensorSummary summary =
                            TensorResultBuilder::summarize(tensor, item.settings, perTensor);
                        // Each tensor's metrics are shown as soon as they exist; the session
                        // drops them if the settings changed meanwhile.
                        postToMainThread([session, file = item.source, row = item.row, summary] {
                            if (session && session->source(row) == file)
                                session->offerSummary(row, summary);
                        });
                    } catch (const Cancelled&) {
                        const std::lock_guard lock(failureMutex);
                        cancelled = std::current_exception();
                        stop = true;
                    } catch (const std::exception& e) {
                        // One unreadable tensor does not keep the others from their metrics.
                        const std::lock_guard lock(failureMutex);
                        failures.push_back(QString::fromStdString(e.what()));
                    }
                    ++done;
                }
            };
            runOnAllCores(total, work);
            if (cancelled)
                std::rethrow_exception(cancelled);
            if (!failures.empty())
                throw std::runtime_error(
                    failures.front().toStdString() +
                    (failures.size() > 1
                         ? " (and " + std::to_string(failures.size() - 1) + " other tensor(s) failed)"
                         : std::string()));
            reportProgress(progress, Stage::Results, 1.0);
            return QVariant();
        });
}

} // namespace quantscope::ui
