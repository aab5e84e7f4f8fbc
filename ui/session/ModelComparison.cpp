#include "session/ModelComparison.h"

#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/samples/SampleFiles.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/model/ActivationCapture.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QFileInfo>

#include <array>
#include <cstdlib>

namespace quantscope::ui {
namespace {

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

// Samples for the model's inputs: an .npz keyed by the input names feeds a model with several
// inputs (or an integer input); other files and image folders go through the app's sample reader.
SampleSet samplesFor(const Executor& executor, const QString& path) {
    const std::string file = path.toStdString();
    if (path.endsWith(QLatin1String(".npz"), Qt::CaseInsensitive))
        return SampleSet::loadForInputs(file, executor.graph().inputs);
    return loadSampleFile(file);
}

} // namespace

ModelComparison::ModelComparison(Session* session, JobRunner* jobs, QObject* parent)
    : QObject(parent), m_session(session), m_jobs(jobs) {
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(400);
    connect(&m_debounce, &QTimer::timeout, this, &ModelComparison::run);
    const auto rerun = [this] {
        if (m_setup)
            m_debounce.start();
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
        if (id != m_job)
            return;
        m_running = false;
        m_error.clear();
        m_report = value.value<ModelReport>();
        emit changed();
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
        m_error = tr("cancelled");
        emit changed();
    });
}

void ModelComparison::setSetup(const ModelSetup& setup) {
    m_setup = setup;
    m_report.reset();
    m_error.clear();
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
                          return QVariant::fromValue(
                              captureActivations(executor, samplesFor(executor, samples), options, progress));
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
    const bool useParams = m_session->hasTensors();
    const auto activations = m_session->activations();
    m_running = true;
    m_error.clear();
    emit changed();
    m_job = m_jobs->start(
        QStringLiteral("model"), tr("Running %1 in four modes").arg(QFileInfo(setup.model).fileName()),
        [setup, document, useParams, weightSettings, activationSettings, activations,
         toCalibrate](const ProgressCallback& progress) mutable {
            // Activation parameters from the captured values: exactly what the app shows for them.
            for (std::size_t index : toCalibrate) {
                QParamsEntry& entry = document.tensors[index];
                const std::vector<Range> ranges = calibrateBlocks(activations->load(entry.name), entry.spec);
                entry.params = computeQParams(ranges, entry.spec);
            }
            ModelReport report;
            report.blasThreads = 1;
            Executor::setBlasThreads(report.blasThreads);
            report.isaPath = QString::fromLatin1(
                kernels::isaName(kernels::KernelRegistry::choose(std::getenv("QUANTSCOPE_ISA"))));
            report.weightSettings =
                !weightSettings.isEmpty() ? weightSettings : tr("int8 symmetric channel (default)");
            report.activationSettings = !activationSettings.isEmpty()
                                            ? activationSettings
                                            : tr("int8 affine tensor minmax (default)");
            const Executor executor(loadOnnxGraph(setup.model.toStdString()));
            const SampleSet samples = samplesFor(executor, setup.samples);
            std::optional<std::vector<int64_t>> labels;
            if (!setup.labels.isEmpty())
                labels = loadLabelFile(setup.labels.toStdString());
            ModelQuantConfig config;
            if (useParams)
                config.params = document;
            QuantizedModel model(executor, config);
            const auto stage = [&progress](double from, double share) {
                return ProgressCallback(
                    [&progress, from, share](Stage s, double f) { return progress(s, from + share * f); });
            };
            if (setup.calibration.isEmpty())
                model.calibrate(samples, 256, stage(0.0, 0.1));
            else
                model.calibrate(samplesFor(executor, setup.calibration), 256, stage(0.0, 0.1));
            EvalOptions options;
            options.minSeconds = 0.15; // short timed passes: the view re-runs as settings change
            ModelEvaluator evaluator(model, samples, labels, options);
            const std::array modes{QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic,
                                   QuantMode::WeightOnly};
            for (std::size_t i = 0; i < modes.size(); ++i) {
                ModeResult result = evaluator.evaluate(modes[i], stage(0.1 + 0.2 * i, 0.2));
                result.outputs = {};
                report.modes.push_back(std::move(result));
            }
            report.layers = evaluator.layerSqnr(QuantMode::Static, stage(0.9, 0.1));
            return QVariant::fromValue(report);
        });
}

} // namespace quantscope::ui
