#include "session/ParamsExchange.h"

#include "quantscope/analysis/TensorResultBuilder.h"
#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <QFileInfo>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace quantscope::ui {
namespace {

struct ImportResult {
    QList<int> rows;
    std::vector<TensorSettings> settings;
    int unknown = 0;
};

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

int ParamsExchange::exportTo(const QString& path) {
    if (!m_session->hasTensors()) {
        emit failed(tr("Nothing to export: no file is open"));
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
    const int id = m_jobs->start(
        QStringLiteral("export"), tr("Exporting parameters"),
        [file, activations, items, target](const ProgressCallback& progress) {
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
                        if (item.settings.manualRange &&
                            item.settings.spec.granularity == Granularity::Tensor) {
                            const std::array<Range, 1> ranges{*item.settings.manualRange};
                            options.fixedParams = computeQParams(ranges, item.settings.spec);
                        }
                        TensorAnalysis analysis = analyzeTensor(tensor, item.settings.spec, options);
                        QParamsEntry& entry = entries[i];
                        entry.name = item.name;
                        entry.kind = item.kind;
                        entry.shape = item.shape;
                        entry.spec = item.settings.spec;
                        entry.params = std::move(analysis.params);
                        entry.metrics = analysis.metrics;
                        ++done;
                    } catch (...) {
                        const std::lock_guard lock(errorMutex);
                        if (!error)
                            error = std::current_exception();
                        stop = true;
                    }
                }
            };
            const std::size_t workers =
                std::min<std::size_t>(items.size(), std::max(1u, std::thread::hardware_concurrency()));
            std::vector<std::thread> threads;
            for (std::size_t t = 1; t < workers; ++t)
                threads.emplace_back(work);
            work();
            for (auto& thread : threads)
                thread.join();
            if (error)
                std::rethrow_exception(error);
            document.tensors = std::move(entries);
            reportProgress(progress, Stage::Results, 1.0);
            // Long arrays (per-group scales of a large model) go to a binary sidecar.
            const bool wroteSidecar = document.writeFile(target, true);
            return QVariant(QVariantList{
                static_cast<int>(items.size()),
                wroteSidecar ? QString::fromStdString(QParamsDocument::sidecarPath(target)) : QString()});
        });
    watch(id, [this, path](const QVariant& value) {
        const QVariantList result = value.toList();
        emit exported(path, result.value(0).toInt(), result.value(1).toString());
    });
    return id;
}

int ParamsExchange::importFrom(const QString& path) {
    if (!m_session->hasTensors()) {
        emit failed(tr("Open the weights file (or a model and samples) before importing parameters"));
        return 0;
    }
    struct Row {
        int row;
        std::string name;
        TensorKind kind;
        std::vector<int64_t> shape;
        std::shared_ptr<const WeightFile> source;
    };
    std::vector<Row> rows;
    for (int row = 0; row < m_session->tensorCount(); ++row)
        rows.push_back({row, m_session->info(row).name, m_session->kind(row), m_session->info(row).shape,
                        m_session->source(row)});
    const auto file = m_session->file();
    const auto activations = m_session->activations();
    const std::string source = path.toStdString();
    const int id = m_jobs->start(
        QStringLiteral("import"), tr("Importing parameters"),
        [rows, source](const ProgressCallback& progress) {
            const QParamsDocument document = QParamsDocument::readFile(source);
            ImportResult result;
            int matched = 0;
            for (const auto& [row, name, kind, shape, tensors] : rows) {
                const auto found =
                    std::find_if(document.tensors.begin(), document.tensors.end(),
                                 [&](const QParamsEntry& e) { return e.name == name && e.kind == kind; });
                if (found == document.tensors.end())
                    continue;
                const QParamsEntry* entry = &*found;
                ++matched;
                QuantSpec spec = entry->spec;
                if (kind == TensorKind::Activation)
                    spec.granularity = Granularity::Tensor; // the model quantizes activations per tensor
                spec.validateFor(shape);
                TensorSettings settings{spec, std::nullopt};
                // A per-tensor range other than what calibration picks was set by hand.
                if (entry->params && spec.granularity == Granularity::Tensor &&
                    entry->params->blockCount() == 1) {
                    const Range written{entry->params->min.front(), entry->params->max.front()};
                    const auto calibrated = calibrateBlocks(tensors->load(name), spec);
                    if (calibrated.size() == 1 &&
                        (calibrated.front().min != written.min || calibrated.front().max != written.max))
                        settings.manualRange = written;
                }
                result.rows.append(row);
                result.settings.push_back(settings);
                reportProgress(progress, Stage::Results,
                               static_cast<double>(matched) / document.tensors.size());
            }
            result.unknown = static_cast<int>(document.tensors.size()) - matched;
            return QVariant::fromValue(result);
        });
    watch(id, [this, path, file, activations](const QVariant& value) {
        if (m_session->file() != file || m_session->activations() != activations)
            return;
        const auto result = value.value<ImportResult>();
        m_session->changeSettingsEach(result.rows, result.settings, tr("Import parameters"));
        emit imported(path, static_cast<int>(result.rows.size()), result.unknown);
    });
    return id;
}

} // namespace quantscope::ui
