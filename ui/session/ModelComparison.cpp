#include "session/ModelComparison.h"

#include "session/ComparisonWorkspace.h"
#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/model/ActivationCapture.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/samples/SampleFiles.h"

#include <QDateTime>
#include <QFileInfo>
#include <QLoggingCategory>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <thread>

namespace quantscope::ui {

// QT_LOGGING_RULES="quantscope.compare.debug=true" logs when each stage of a refresh arrives,
// in seconds since the settings changed (how live the Compare view is).
Q_LOGGING_CATEGORY(lcCompare, "quantscope.compare", QtWarningMsg)

namespace {

constexpr std::array kModes{QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly};

int scoringThreads() {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// fp32 (the reference, kept by the evaluator) and the quantized modes, the work shared by all
// cores (ModelEvaluator::scoreModes): static split by samples where every row gets the same bits
// in any batch, the others in the CLI's batches side by side, so every figure equals `eval`'s.
// `kept`: this configuration's first slice, whose outputs need not run again where they match.
std::vector<ModeResult> scoreModes(ModelEvaluator& evaluator, int64_t count,
                                   const std::vector<ModeResult>& kept, const ProgressCallback& progress) {
    return evaluator.scoreModes({kModes.begin(), kModes.end()}, count, scoringThreads(), kept, progress);
}

// The results without their outputs (the report keeps figures only).
std::vector<ModeResult> withoutOutputs(std::vector<ModeResult> results) {
    for (ModeResult& result : results)
        result.outputs = {};
    return results;
}

QString describe(const QuantSpec& spec) {
    return QString::fromStdString(spec.format.name()) + QLatin1Char(' ') +
           QString::fromLatin1(schemeName(spec.scheme)) + QLatin1Char(' ') +
           QString::fromLatin1(granularityName(spec.granularity)) + QLatin1Char(' ') +
           QString::fromLatin1(calibMethodName(spec.calib));
}

// One row's settings as a qparams entry; a per-tensor range dragged by hand or imported parameters
// become explicit parameters (applied as written).
QParamsEntry entryFor(const Session& session, int row) {
    const TensorSettings& settings = session.settings(row);
    QParamsEntry entry;
    entry.name = session.info(row).name;
    entry.kind = session.kind(row);
    entry.shape = session.info(row).shape;
    entry.spec = settings.spec;
    entry.params = settings.fixedParams(); // imported parameters, or a range dragged by hand
    return entry;
}

// "Conv ×20" per op type, in the order the types first appear.
QStringList opCounts(const std::vector<QuantizedModel::NodeExecution>& nodes, bool quantized) {
    std::vector<std::string> order;
    std::map<std::string, int> counts;
    for (const auto& node : nodes) {
        if (node.quantized != quantized)
            continue;
        if (counts[node.opType]++ == 0)
            order.push_back(node.opType);
    }
    QStringList result;
    for (const auto& op : order) {
        const int count = counts[op];
        result << (count == 1 ? QString::fromStdString(op)
                              : QStringLiteral("%1 ×%2").arg(QString::fromStdString(op)).arg(count));
    }
    return result;
}

// Each mode's own settings line and op lists.
std::vector<ModeExecution> executionsOf(const QuantizedModel& model, const QString& weights,
                                        const QString& activations, int64_t calibrationSamples) {
    QuantSpec dynamicSpec = model.config().activation;
    dynamicSpec.calib = CalibMethod::MinMax;
    const QString dynamicActivations =
        QString::fromStdString(dynamicSpec.format.name()) + QLatin1Char(' ') +
        QString::fromLatin1(schemeName(dynamicSpec.scheme)) +
        ModelComparison::tr(" per tensor, min-max measured as it runs (per image for Conv, per batch for "
                            "Gemm / MatMul)");
    std::vector<ModeExecution> result;
    for (QuantMode mode : kModes) {
        ModeExecution execution;
        execution.mode = mode;
        execution.nodes = model.execution(mode);
        execution.quantizedOps = opCounts(execution.nodes, true);
        execution.fp32Ops = opCounts(execution.nodes, false);
        switch (mode) {
        case QuantMode::Fp32:
            execution.settings = ModelComparison::tr("weights fp32 · activations fp32 (the reference)");
            break;
        case QuantMode::Static:
            execution.settings =
                ModelComparison::tr("weights %1 · activations %2, ranges calibrated on %3 samples")
                    .arg(weights, activations)
                    .arg(calibrationSamples);
            break;
        case QuantMode::Dynamic:
            execution.settings =
                ModelComparison::tr("weights %1 · activations %2").arg(weights, dynamicActivations);
            break;
        case QuantMode::WeightOnly:
            execution.settings =
                ModelComparison::tr(
                    "weights %1 · activations fp32 (fp32 arithmetic on the dequantized weights)")
                    .arg(weights);
            break;
        }
        result.push_back(std::move(execution));
    }
    return result;
}

// What a stage's job hands back to the GUI thread.
struct StageResult {
    CompareStage stage = CompareStage::FirstSamples;
    int generation = 0;
    ModelReport report; // FirstSamples / AllSamples: the whole report; later stages: their part
};

} // namespace
} // namespace quantscope::ui

Q_DECLARE_METATYPE(quantscope::ui::StageResult)

namespace quantscope::ui {

ModelComparison::ModelComparison(Session* session, JobRunner* jobs, QObject* parent)
    : QObject(parent), m_session(session), m_jobs(jobs),
      m_workspace(std::make_shared<ComparisonWorkspace>()) {
    // The refreshes share the cores among their own runs, each BLAS call on the thread that makes
    // it. OpenBLAS's thread count is process-wide: set here, on the GUI thread, before any job.
    Executor::setBlasThreads(1);
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(250);
    connect(&m_debounce, &QTimer::timeout, this, &ModelComparison::run);
    const auto rerun = [this] {
        if (!m_setup)
            return;
        m_changedAt = QDateTime::currentMSecsSinceEpoch();
        m_debounce.start();
        // The running refresh computes settings that are no longer the session's: stop it now
        // rather than after the debounce (its results would be dropped anyway).
        if (m_running)
            m_jobs->cancel(m_job);
        emit changed();
    };
    connect(session, &Session::settingsChanged, this, rerun);
    connect(session, &Session::fileChanged, this, rerun);
    connect(session, &Session::activationsChanged, this, rerun);
    connect(jobs, &JobRunner::finished, this, [this](int id, const QVariant& value) {
        if (id == m_captureJob && m_capturing) {
            m_capturing = false;
            const auto captured = value.value<CapturedActivations>();
            m_samplesCaptured = captured.samplesCaptured;
            m_samplesTotal = captured.samplesTotal;
            m_session->setActivations(captured.file);
            m_debounce.stop();
            run();
            return;
        }
        if (id == m_job)
            stageFinished(value);
    });
    connect(jobs, &JobRunner::failed, this, [this](int id, const QString& message) {
        if (id == m_captureJob && m_capturing) {
            // The comparison reports the model's problem itself; the browser lists no activations.
            m_capturing = false;
            m_session->setActivations(nullptr);
            m_debounce.stop();
            run();
            return;
        }
        if (id != m_job)
            return;
        m_running = false;
        m_error = message;
        emit changed();
        emit failed(message);
    });
    connect(jobs, &JobRunner::cancelled, this, [this](int id) {
        if (id == m_captureJob && m_capturing) {
            m_capturing = false;
            m_error = tr("cancelled");
            emit changed();
            return;
        }
        if (id != m_job)
            return;
        m_running = false;
        // Cancelled for newer settings or a new setup: their refresh follows, nothing failed.
        if (!m_debounce.isActive() && !m_capturing)
            m_error = tr("cancelled");
        emit changed();
    });
}

ModelComparison::~ModelComparison() = default;

int ModelComparison::modelLoads() const {
    return m_workspace->loads();
}

int ModelComparison::calibrationPasses() const {
    return m_workspace->calibrationPasses();
}

int ModelComparison::weightsRequantized() const {
    return m_workspace->lastRequantized();
}

void ModelComparison::setSetup(const ModelSetup& setup) {
    // A refresh of the previous setup is of no use any more: stop it, drop what it still delivers.
    ++m_generation;
    if (m_running)
        m_jobs->cancel(m_job);
    m_setup = setup;
    m_report.reset();
    m_error.clear();
    m_changedAt = QDateTime::currentMSecsSinceEpoch();
    startCapture();
}

void ModelComparison::startCapture() {
    const ModelSetup setup = *m_setup;
    m_capturing = true;
    m_samplesCaptured = m_samplesTotal = 0;
    emit changed();
    const QString samples = setup.calibration.isEmpty() ? setup.samples : setup.calibration;
    m_captureJob =
        m_jobs->start(QStringLiteral("activations"),
                      tr("Capturing the activations of %1 on %2")
                          .arg(QFileInfo(setup.model).fileName(), QFileInfo(samples).fileName()),
                      [setup, samples, budget = m_captureBudget](const ProgressCallback& progress) {
                          const Executor executor(loadOnnxGraph(setup.model.toStdString()));
                          ActivationCaptureOptions options;
                          options.maxBytes = budget;
                          const std::string file = samples.toStdString();
                          const SampleSet set = samples.endsWith(QLatin1String(".npz"), Qt::CaseInsensitive)
                                                    ? SampleSet::loadForInputs(file, executor.graph().inputs)
                                                    : loadSampleFile(file);
                          return QVariant::fromValue(captureActivations(executor, set, options, progress));
                      });
}

void ModelComparison::run() {
    if (!m_setup || m_capturing)
        return;
    const ModelSetup setup = *m_setup;
    // The session's settings for tensors the model has (by name) quantize its weights and
    // activations; weights the session does not list keep the model's default.
    QParamsDocument document;
    QString weightSettings;
    QString activationSettings;
    std::vector<std::size_t> toCalibrate; // activation entries without explicit parameters
    for (int row = 0; row < m_session->tensorCount(); ++row) {
        document.tensors.push_back(entryFor(*m_session, row));
        const bool activation = m_session->isActivation(row);
        // Parameters from the captured values only when they are the whole calibration set.
        if (activation && !document.tensors.back().params && m_samplesCaptured == m_samplesTotal)
            toCalibrate.push_back(document.tensors.size() - 1);
        QString& text = activation ? activationSettings : weightSettings;
        const QString spec = describe(m_session->settings(row).spec);
        if (text.isEmpty())
            text = spec;
        else if (text != spec && !text.startsWith(tr("mixed")))
            text = tr("mixed (per tensor)");
    }
    if (weightSettings.isEmpty())
        weightSettings = tr("int8 symmetric channel (default)");
    if (activationSettings.isEmpty())
        activationSettings = tr("int8 affine tensor minmax (default)");
    const bool useParams = m_session->hasTensors();
    const auto activations = m_session->activations();
    const int generation = ++m_generation;
    m_running = true;
    m_error.clear();
    emit changed();
    m_job = m_jobs->start(
        QStringLiteral("model"), tr("Running %1 in four modes").arg(QFileInfo(setup.model).fileName()),
        [workspace = m_workspace, setup, document, useParams, weightSettings, activationSettings, activations,
         toCalibrate, generation](const ProgressCallback& progress) mutable {
            const auto lock = workspace->lock();
            // Activation parameters from the captured values: exactly what the app shows for them.
            for (std::size_t index : toCalibrate) {
                QParamsEntry& entry = document.tensors[index];
                entry.params = workspace->capturedParams(activations, entry.name, entry.spec);
            }
            ModelQuantConfig config;
            if (useParams)
                config.params = document;
            workspace->configure(setup, config, generation, progress);
            StageResult result;
            result.generation = generation;
            ModelReport& report = result.report;
            report.blasThreads = 1;
            report.scoringThreads = scoringThreads();
            report.isaPath = QString::fromLatin1(
                kernels::isaName(kernels::KernelRegistry::choose(std::getenv("QUANTSCOPE_ISA"))));
            report.weightSettings = weightSettings;
            report.activationSettings = activationSettings;
            const QuantizedModel& model = workspace->model();
            const int64_t calibrationSamples =
                model.document().calibration ? model.document().calibration->samples.value_or(0) : 0;
            report.executions = executionsOf(model, weightSettings, activationSettings, calibrationSamples);
            report.samplesTotal = workspace->samples().count();
            report.timedSamples = workspace->timedSamples();
            // A first slice of the samples when there are more: numbers within a second or two.
            const bool slice = report.samplesTotal > kFirstSamples;
            result.stage = slice ? CompareStage::FirstSamples : CompareStage::AllSamples;
            report.stage = result.stage;
            report.samplesScored = slice ? kFirstSamples : report.samplesTotal;
            std::vector<ModeResult> scored =
                scoreModes(workspace->evaluator(), report.samplesScored, {}, progress);
            report.modes = withoutOutputs(scored);
            // The next stage scores every sample: these outputs are its first ones.
            if (slice)
                workspace->keepFirstSlice(std::move(scored));
            return QVariant::fromValue(result);
        });
}

void ModelComparison::startStage(CompareStage stage) {
    const int generation = m_generation;
    m_job = m_jobs->start(
        QStringLiteral("model"), tr("Comparing the modes (%1 of 4)").arg(static_cast<int>(stage) + 1),
        [workspace = m_workspace, stage, generation](const ProgressCallback& progress) {
            const auto lock = workspace->lock();
            workspace->checkGeneration(generation);
            StageResult result;
            result.stage = stage;
            result.generation = generation;
            ModelReport& report = result.report;
            switch (stage) {
            case CompareStage::FirstSamples:
            case CompareStage::AllSamples:
                report.modes = withoutOutputs(scoreModes(workspace->evaluator(), workspace->samples().count(),
                                                         workspace->firstSlice(), progress));
                break;
            case CompareStage::Timing:
                for (QuantMode mode : kModes) {
                    ModeResult timed;
                    timed.mode = mode;
                    if (workspace->measureTiming(timed, progress) && mode != QuantMode::Fp32)
                        report.timingKept.push_back(mode);
                    report.modes.push_back(timed);
                }
                break;
            case CompareStage::Layers:
                report.layers = workspace->layerSqnr(progress);
                break;
            }
            return QVariant::fromValue(result);
        });
}

void ModelComparison::stageFinished(const QVariant& value) {
    const StageResult result = value.value<StageResult>();
    if (result.generation != m_generation)
        return; // a newer refresh is on its way
    switch (result.stage) {
    case CompareStage::FirstSamples:
    case CompareStage::AllSamples:
        if (result.report.samplesTotal > 0) {
            // A refresh's first job: the whole report. The layers of the previous settings stay
            // until this refresh has its own.
            std::vector<LayerSqnr> layers = m_report ? m_report->layers : std::vector<LayerSqnr>{};
            m_report = result.report;
            m_report->layers = std::move(layers);
        } else {
            m_report->modes = result.report.modes; // every sample scored
            m_report->samplesScored = m_report->samplesTotal;
        }
        break;
    case CompareStage::Timing:
        m_report->timingKept = result.report.timingKept;
        for (ModeResult& mode : m_report->modes) {
            for (const ModeResult& timed : result.report.modes) {
                if (timed.mode == mode.mode) {
                    mode.latencyMs = timed.latencyMs;
                    mode.throughputSps = timed.throughputSps;
                }
            }
        }
        break;
    case CompareStage::Layers:
        m_report->layers = result.report.layers;
        break;
    }
    m_report->stage = result.stage;
    m_reportGeneration = result.generation;
    m_error.clear();
    logTiming(result.stage == CompareStage::FirstSamples ? "first samples"
              : result.stage == CompareStage::AllSamples ? "all samples"
              : result.stage == CompareStage::Timing     ? "timing"
                                                         : "layers");
    const bool last = result.stage == CompareStage::Layers;
    if (last)
        m_running = false;
    else
        startStage(static_cast<CompareStage>(static_cast<int>(result.stage) + 1));
    emit stageReached(result.stage);
    emit changed();
}

void ModelComparison::logTiming(const char* what) const {
    qCDebug(lcCompare, "%s after %.2f s (loads %d, calibration passes %d, weights re-quantized %d)", what,
            static_cast<double>(QDateTime::currentMSecsSinceEpoch() - m_changedAt) / 1000.0, modelLoads(),
            calibrationPasses(), weightsRequantized());
}

} // namespace quantscope::ui
