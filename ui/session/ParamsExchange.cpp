#include "session/ParamsExchange.h"
#include "session/AllCores.h"

#include "quantscope/analysis/TensorResultBuilder.h"
#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/interop/ParamFileFormat.h"
#include "quantscope/interop/QdqExporter.h"
#include "quantscope/io/AtomicFile.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/samples/SampleFiles.h"

#include <QFileInfo>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace quantscope::ui {
namespace {

struct ImportResult {
    QList<int> rows;
    std::vector<TensorSettings> settings;
    ExchangeReport report;
};

bool sameParams(const QParams& a, const QParams& b) {
    return a.scale == b.scale && a.zeroPoint == b.zeroPoint;
}

// The settings that give `tensor` the entry's parameters: the spec (plus the entry's per-tensor
// range when calibration picks another) when they reproduce its scales and zero points bit for
// bit, the parameters as written otherwise. Throws Error when the entry does not fit the tensor.
TensorSettings settingsFor(const QParamsEntry& entry, const Tensor& tensor, QuantSpec spec) {
    spec.validateFor(tensor.shape());
    if (!entry.params)
        return TensorSettings{spec}; // settings only: calibrated here
    const QParams& written = *entry.params;
    const std::vector<Range> calibrated = calibrateBlocks(tensor, spec);
    if (calibrated.size() != written.blockCount())
        throw Error(tensor.name(), "the file holds " + std::to_string(written.blockCount()) +
                                       " scale(s), but " + std::string(granularityName(spec.granularity)) +
                                       " granularity on this tensor needs " +
                                       std::to_string(calibrated.size()));
    TensorSettings settings{spec};
    std::vector<Range> ranges = calibrated;
    if (spec.granularity == Granularity::Tensor && written.min.size() == 1 && written.max.size() == 1) {
        const Range range{written.min.front(), written.max.front()};
        if (std::isfinite(range.min) && std::isfinite(range.max) && range.min <= range.max &&
            (range.min != calibrated.front().min || range.max != calibrated.front().max)) {
            settings.manualRange = range; // a range other than calibration's: set by hand, or another tool's
            ranges = {range};
        }
    }
    if (sameParams(computeQParams(ranges, spec), written))
        return settings;
    QParams exact = written;
    exact.qmin = spec.qmin();
    exact.qmax = spec.qmax();
    return TensorSettings{spec, std::nullopt, exact};
}

} // namespace

ParamsExchange::ParamsExchange(Session* session, JobRunner* jobs, QObject* parent)
    : QObject(parent), m_session(session), m_jobs(jobs) {}

void ParamsExchange::watch(int id, const std::function<void(const QVariant&)>& onFinished) {
    JobHandle* job = m_jobs->handle(id);
    if (!job)
        return;
    connect(job, &JobHandle::finished, this, onFinished);
    connect(job, &JobHandle::failed, this, &ParamsExchange::failed);
}

int ParamsExchange::exportTo(const QString& path, const QString& format) {
    if (!m_session->hasTensors()) {
        emit failed(tr("Nothing to export: no file is open"));
        return 0;
    }
    try {
        paramFileFormat(format.toStdString(), "format");
    } catch (const Error& e) {
        emit failed(QString::fromStdString(e.what()));
        return 0;
    }
    struct Item {
        std::string name;
        TensorKind kind;
        std::vector<int64_t> shape;
        TensorSettings settings;
        std::shared_ptr<const WeightFile> source;
    };
    std::vector<Item> items;
    for (int row = 0; row < m_session->tensorCount(); ++row)
        items.push_back({m_session->info(row).name, m_session->kind(row), m_session->info(row).shape,
                         m_session->settings(row), m_session->source(row)});
    const auto file = m_session->file();
    const auto activations = m_session->activations();
    const std::string target = path.toStdString();
    const std::string formatName = format.toStdString();
    const int id = m_jobs->start(
        QStringLiteral("export"), tr("Exporting parameters"),
        [file, activations, items, target, formatName, path, format](const ProgressCallback& progress) {
            QParamsDocument document;
            if (file)
                document.source = FileReference::describe(file->path());
            if (activations) {
                // The calibration samples, and how many of them the activations hold.
                document.calibration = FileReference::describe(activations->path());
                const auto& metadata = activations->metadata();
                if (const auto found = metadata.find("samples_captured"); found != metadata.end())
                    document.calibration->samples = std::stoll(found->second);
            }
            // Tensors are independent: every core takes the next one (a large model's export is
            // bound by quantizing its weights, not by writing the file).
            std::vector<QParamsEntry> entries(items.size());
            std::atomic<std::size_t> next{0};
            std::atomic<std::size_t> done{0};
            std::atomic<bool> stop{false};
            std::mutex errorMutex;
            std::exception_ptr error;
            const auto work = [&] {
                for (std::size_t i = 0; !stop && (i = next++) < items.size();) {
                    try {
                        const auto& item = items[i];
                        if (!progress(Stage::Statistics, static_cast<double>(done) / (items.size() + 1)))
                            throw Cancelled();
                        const Tensor tensor = item.source->load(item.name);
                        AnalysisOptions options;
                        options.fixedParams = item.settings.fixedParams();
                        TensorAnalysis analysis = analyzeTensor(tensor, item.settings.spec, options);
                        QParamsEntry& entry = entries[i];
                        entry.name = item.name;
                        entry.kind = item.kind;
                        entry.shape = item.shape;
                        entry.spec = item.settings.spec;
                        entry.params = std::move(analysis.params);
                        entry.metrics = analysis.metrics;
                        entry.stored = item.settings.stored;
                        ++done;
                    } catch (...) {
                        const std::lock_guard lock(errorMutex);
                        if (!error)
                            error = std::current_exception();
                        stop = true;
                    }
                }
            };
            runOnAllCores(items.size(), work);
            if (error)
                std::rethrow_exception(error);
            document.tensors = std::move(entries);
            reportProgress(progress, Stage::Results, 1.0);
            ExchangeReport report;
            report.path = path;
            report.format = format;
            report.total = static_cast<int>(items.size());
            report.applied = report.total;
            if (formatName == "qparams") {
                // Long arrays (per-group scales of a large model) go to a binary sidecar.
                if (document.writeFile(target, true))
                    report.sidecar = QString::fromStdString(QParamsDocument::sidecarPath(target));
            } else {
                const std::string text = paramFileFormat(formatName, "format").write(document, report.notes);
                writeFileAtomically(target, text);
                for (const auto& note : report.notes)
                    report.applied -= note.dropped ? 1 : 0;
            }
            return QVariant::fromValue(report);
        });
    watch(id, [this, path](const QVariant& value) {
        m_lastReport = value.value<ExchangeReport>();
        emit exported(path, m_lastReport.applied, m_lastReport.sidecar, m_lastReport.exportText());
    });
    return id;
}

int ParamsExchange::importFrom(const QString& path, const QString& preferredFormat) {
    if (!m_session->hasTensors()) {
        emit failed(tr("Open the weights file (or a model and samples) before importing parameters"));
        return 0;
    }
    struct Row {
        int row;
        std::string name;
        TensorKind kind;
        std::shared_ptr<const WeightFile> source;
    };
    std::vector<Row> rows;
    for (int row = 0; row < m_session->tensorCount(); ++row)
        rows.push_back({row, m_session->info(row).name, m_session->kind(row), m_session->source(row)});
    const auto file = m_session->file();
    const auto activations = m_session->activations();
    const std::string source = path.toStdString();
    const std::string preferred = preferredFormat.toStdString();
    const int id = m_jobs->start(
        QStringLiteral("import"), tr("Importing parameters"),
        [rows, source, preferred, path](const ProgressCallback& progress) {
            ImportResult result;
            std::string formatRead;
            const QParamsDocument document =
                readParamFile(source, {}, result.report.notes, &formatRead, preferred);
            result.report.path = path;
            result.report.format = QString::fromStdString(formatRead);
            result.report.total = static_cast<int>(document.tensors.size());
            std::vector<bool> used(document.tensors.size(), false);
            // An entry of the same name and kind first; formats that cannot tell a weight from an
            // activation (a TensorRT cache lists both as one) match by name alone.
            const auto findEntry = [&](const std::string& name, TensorKind kind) -> int {
                int byName = -1;
                for (std::size_t i = 0; i < document.tensors.size(); ++i) {
                    if (document.tensors[i].name != name)
                        continue;
                    if (document.tensors[i].kind == kind)
                        return static_cast<int>(i);
                    if (byName < 0)
                        byName = static_cast<int>(i);
                }
                return byName;
            };
            int done = 0;
            for (const auto& [row, name, kind, tensors] : rows) {
                const int index = findEntry(name, kind);
                if (index < 0)
                    continue;
                used[static_cast<std::size_t>(index)] = true;
                const QParamsEntry& entry = document.tensors[static_cast<std::size_t>(index)];
                QuantSpec spec = entry.spec;
                try {
                    if (kind == TensorKind::Activation) {
                        if (entry.params && entry.params->blockCount() != 1)
                            throw Error(
                                name, "the file holds per-" + std::string(granularityName(spec.granularity)) +
                                          " parameters, but the model quantizes activations per tensor");
                        spec.granularity = Granularity::Tensor;
                    }
                    const TensorSettings settings = settingsFor(entry, tensors->load(name), spec);
                    result.report.exact += settings.exactParams ? 1 : 0;
                    result.rows.append(row);
                    result.settings.push_back(settings);
                } catch (const Error& e) {
                    result.report.skipped.append(QString::fromStdString(e.what()));
                }
                if (!progress(Stage::Results, static_cast<double>(++done) / (document.tensors.size() + 1)))
                    throw Cancelled();
            }
            for (std::size_t i = 0; i < document.tensors.size(); ++i)
                if (!used[i])
                    result.report.unmatched.append(QString::fromStdString(document.tensors[i].name));
            result.report.applied = static_cast<int>(result.rows.size());
            return QVariant::fromValue(result);
        });
    watch(id, [this, path, file, activations](const QVariant& value) {
        if (m_session->file() != file || m_session->activations() != activations)
            return;
        const auto result = value.value<ImportResult>();
        if (!result.rows.isEmpty())
            m_session->changeSettingsEach(result.rows, result.settings, tr("Import parameters"));
        m_lastReport = result.report;
        emit imported(path, static_cast<int>(result.rows.size()),
                      static_cast<int>(result.report.unmatched.size()), m_lastReport.importText());
    });
    return id;
}

int ParamsExchange::exportQdq(const QString& path, const QString& model, const QString& calibrationSamples) {
    if (model.isEmpty()) {
        emit failed(tr("Open a model (File ▸ Open model…) to export it in QDQ form"));
        return 0;
    }
    // The session's settings for the tensors the model has (by name), as the Compare view runs
    // them: imported parameters and ranges dragged by hand are applied as written.
    QParamsDocument settings;
    for (int row = 0; row < m_session->tensorCount(); ++row) {
        const TensorSettings& rowSettings = m_session->settings(row);
        QParamsEntry entry;
        entry.name = m_session->info(row).name;
        entry.kind = m_session->kind(row);
        entry.shape = m_session->info(row).shape;
        entry.spec = rowSettings.spec;
        entry.params = rowSettings.fixedParams();
        settings.tensors.push_back(std::move(entry));
    }
    const bool useSettings = m_session->hasTensors();
    const int id = m_jobs->start(
        QStringLiteral("export-qdq"), tr("Exporting the quantized model"),
        [path, model, calibrationSamples, settings, useSettings](const ProgressCallback& progress) {
            const std::string modelPath = model.toStdString();
            const Executor executor(loadOnnxGraph(modelPath));
            ModelQuantConfig config;
            if (useSettings)
                config.params = settings;
            QuantizedModel quantized(executor, config);
            const std::string samplesPath = calibrationSamples.toStdString();
            const SampleSet samples = calibrationSamples.endsWith(QLatin1String(".npz"), Qt::CaseInsensitive)
                                          ? SampleSet::loadForInputs(samplesPath, executor.graph().inputs)
                                          : loadSampleFile(samplesPath);
            quantized.calibrate(samples, 256, [&progress](Stage stage, double fraction) {
                return progress(stage, 0.9 * fraction);
            });
            ExchangeReport report;
            report.path = path;
            report.format = QStringLiteral("onnx-qdq");
            const QParamsDocument document = quantized.document();
            const std::string bytes = QdqExporter::exportModel(modelPath, document, report.notes);
            writeFileAtomically(path.toStdString(), bytes);
            report.total = static_cast<int>(document.tensors.size());
            report.applied = report.total;
            for (const auto& note : report.notes)
                report.applied -= note.dropped ? 1 : 0;
            reportProgress(progress, Stage::Results, 1.0);
            return QVariant::fromValue(report);
        });
    watch(id, [this, path](const QVariant& value) {
        m_lastReport = value.value<ExchangeReport>();
        QString text = tr("Exported the quantized model to %1: %2 of %n tensor(s) with QuantizeLinear / "
                          "DequantizeLinear",
                          nullptr, m_lastReport.total)
                           .arg(path)
                           .arg(m_lastReport.applied);
        const QStringList lines = describeNotes(m_lastReport.notes);
        if (!lines.isEmpty())
            text += QLatin1Char('\n') + tr("Left in float: %1").arg(lines.join(QStringLiteral("; ")));
        emit qdqExported(path, text);
    });
    return id;
}

} // namespace quantscope::ui
