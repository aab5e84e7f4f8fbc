#include "ModelComparison.h"

#include "JobRunner.h"
#include "Session.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QFileInfo>

#include <array>
#include <cstdlib>

namespace quantscope::ui {

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
    connect(jobs, &JobRunner::finished, this, [this](int id, const QVariant& value) {
        if (id != m_job)
            return;
        m_running = false;
        m_error.clear();
        m_report = value.value<ModelReport>();
        emit changed();
    });
    connect(jobs, &JobRunner::failed, this, [this](int id, const QString& message) {
        if (id != m_job)
            return;
        m_running = false;
        m_error = message;
        emit changed();
    });
    connect(jobs, &JobRunner::cancelled, this, [this](int id) {
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
    run();
}

void ModelComparison::run() {
    if (!m_setup)
        return;
    const ModelSetup setup = *m_setup;
    // The session's settings for tensors the model has (by name) quantize its weights.
    QParamsDocument document;
    QString weightSettings;
    for (int row = 0; row < m_session->tensorCount(); ++row) {
        const TensorSettings& settings = m_session->settings(row);
        QParamsEntry entry;
        entry.name = m_session->info(row).name;
        entry.shape = m_session->info(row).shape;
        entry.spec = settings.spec;
        if (settings.manualRange && settings.spec.granularity == Granularity::Tensor) {
            const std::array<Range, 1> ranges{*settings.manualRange};
            entry.params = computeQParams(ranges, settings.spec);
        }
        document.tensors.push_back(std::move(entry));
        if (row == m_session->currentRow())
            weightSettings = QString::fromStdString(settings.spec.format.name()) + QLatin1Char(' ') +
                             QString::fromLatin1(schemeName(settings.spec.scheme)) + QLatin1Char(' ') +
                             QString::fromLatin1(granularityName(settings.spec.granularity));
    }
    const bool useParams = m_session->hasFile();
    m_running = true;
    m_error.clear();
    emit changed();
    m_job = m_jobs->start(QStringLiteral("model"), tr("Running %1 in four modes").arg(QFileInfo(setup.model).fileName()),
                          [setup, document, useParams, weightSettings](const ProgressCallback& progress) {
        ModelReport report;
        report.blasThreads = 1;
        Executor::setBlasThreads(report.blasThreads);
        report.isaPath = QString::fromLatin1(kernels::isaName(kernels::KernelRegistry::choose(std::getenv("QUANTSCOPE_ISA"))));
        report.weightSettings = useParams ? weightSettings : tr("int8 symmetric channel (default)");
        const Executor executor(loadOnnxGraph(setup.model.toStdString()));
        const SampleSet samples = SampleSet::load(setup.samples.toStdString());
        std::optional<std::vector<int64_t>> labels;
        if (!setup.labels.isEmpty())
            labels = loadLabels(setup.labels.toStdString());
        ModelQuantConfig config;
        if (useParams)
            config.params = document;
        QuantizedModel model(executor, config);
        const auto stage = [&progress](double from, double share) {
            return ProgressCallback([&progress, from, share](Stage s, double f) { return progress(s, from + share * f); });
        };
        if (setup.calibration.isEmpty())
            model.calibrate(samples, 256, stage(0.0, 0.1));
        else
            model.calibrate(SampleSet::load(setup.calibration.toStdString()), 256, stage(0.0, 0.1));
        EvalOptions options;
        options.minSeconds = 0.15; // short timed passes: the view re-runs as settings change
        ModelEvaluator evaluator(model, samples, labels, options);
        const std::array modes{QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly};
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
