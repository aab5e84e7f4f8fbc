#include "session/CandidateAnalysis.h"
#include "session/AllCores.h"
#include "session/MainThreadCall.h"

#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/io/AtomicFile.h"

#include <QFileInfo>
#include <QPointer>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace quantscope::ui {

QString CandidateAnalysis::defaultCandidates() {
    return QStringLiteral("int8/channel,int4/g128,q4_k,q4_0,nvfp4,mxfp4");
}

CandidateAnalysis::CandidateAnalysis(Session* session, JobRunner* jobs, QObject* parent)
    : QObject(parent), m_session(session), m_jobs(jobs) {
    setCandidates(defaultCandidates());
    connect(session, &Session::fileChanged, this, &CandidateAnalysis::reset);
    reset();
}

QString CandidateAnalysis::setCandidates(const QString& list) {
    try {
        m_candidates = parsePlanCandidates(list.toStdString(), "Candidates");
    } catch (const Error& error) {
        return QString::fromStdString(error.what());
    }
    m_list = list;
    reset();
    emit candidatesChanged();
    return {};
}

QString CandidateAnalysis::candidateName(int candidate) const {
    return QString::fromStdString(m_candidates[static_cast<std::size_t>(candidate)].name);
}

void CandidateAnalysis::reset() {
    // A running job works for the old file or list: stopped, and forgotten so that a new one can
    // start at once (its late results carry the old generation and are dropped).
    if (m_job != 0) {
        m_jobs->cancel(m_job);
        m_job = 0;
        emit runningChanged(false);
    }
    ++m_generation;
    m_rows.clear();
    m_index.clear();
    for (int row = 0; row < m_session->weightCount(); ++row)
        if (m_session->info(row).shape.size() >= 2) {
            m_index.insert(row, static_cast<int>(m_rows.size()));
            m_rows.append(row);
        }
    m_results.assign(static_cast<std::size_t>(m_rows.size()), std::nullopt);
    m_done = 0;
    m_error.clear();
    updatePlan();
}

void CandidateAnalysis::cancel() {
    if (m_job != 0)
        m_jobs->cancel(m_job);
}

void CandidateAnalysis::start() {
    if (m_job != 0 || !m_session->hasFile() || isComplete() || m_rows.isEmpty())
        return;
    struct Item {
        int row;
        std::string name;
    };
    std::vector<Item> items;
    for (int i = 0; i < m_rows.size(); ++i)
        if (!m_results[static_cast<std::size_t>(i)])
            items.push_back({m_rows[i], m_session->info(m_rows[i]).name});
    const auto file = m_session->file();
    const std::vector<PlanCandidate> candidates = m_candidates;
    const int generation = m_generation;
    m_error.clear();
    QPointer<CandidateAnalysis> self(this);
    JobHandle* job = m_jobs->startJob(
        QStringLiteral("candidates"),
        tr("Analysing %n tensor(s) in %1 formats", nullptr, static_cast<int>(items.size()))
            .arg(candidates.size()),
        [items, file, candidates, generation, self](const ProgressCallback& progress) {
            // As the table's metrics: a few workers take the next tensor in file order, each read
            // once and analysed in every candidate, so the map fills in from the top.
            const std::size_t total = items.size();
            std::atomic<std::size_t> next{0};
            std::atomic<std::size_t> done{0};
            std::atomic<bool> stop{false};
            std::mutex failureMutex;
            std::exception_ptr failure;
            const auto stillWanted = [&] {
                return progress(Stage::Statistics, static_cast<double>(done) / static_cast<double>(total));
            };
            const auto work = [&] {
                for (std::size_t i = 0; !stop && (i = next++) < total;) {
                    try {
                        if (!stillWanted())
                            throw Cancelled();
                        const Tensor tensor = file->load(items[i].name);
                        Result result;
                        for (const PlanCandidate& candidate : candidates) {
                            Outcome outcome;
                            const QuantSpec spec =
                                candidateSpecFor(candidate.spec, tensor.shape(), &outcome.note);
                            AnalysisOptions options;
                            options.progress = [&](Stage, double) { return stillWanted(); };
                            const TensorAnalysis analysis = analyzeTensor(tensor, spec, options);
                            // The parameters (one set per channel or group) are left behind.
                            outcome.spec = analysis.spec;
                            outcome.metrics = analysis.metrics;
                            outcome.score = scoreCandidate(analysis);
                            result.outcomes.push_back(std::move(outcome));
                            result.elements = analysis.metrics.count + analysis.metrics.nonfinite;
                        }
                        postToMainThread(
                            [self, generation, row = items[i].row, result = std::move(result)]() mutable {
                                if (self)
                                    self->accept(generation, row, std::move(result));
                            });
                    } catch (...) {
                        const std::lock_guard lock(failureMutex);
                        if (!failure)
                            failure = std::current_exception();
                        stop = true;
                    }
                    ++done;
                }
            };
            runOnAllCores(total, work);
            if (failure)
                std::rethrow_exception(failure);
            reportProgress(progress, Stage::Results, 1.0);
            return QVariant();
        });
    m_job = job->id();
    connect(job, &JobHandle::failed, this, [this](const QString& message) { m_error = message; });
    connect(job, &JobHandle::ended, this, [this, id = job->id()] {
        if (m_job != id)
            return;
        m_job = 0;
        emit runningChanged(false);
    });
    emit runningChanged(true);
}

void CandidateAnalysis::accept(int generation, int row, Result result) {
    if (generation != m_generation || !m_index.contains(row))
        return;
    auto& slot = m_results[static_cast<std::size_t>(m_index.value(row))];
    if (slot)
        return;
    slot = std::move(result);
    ++m_done;
    emit tensorDone(row);
    if (isComplete()) {
        updatePlan();
        emit completed();
    }
}

const CandidateAnalysis::Outcome* CandidateAnalysis::outcome(int row, int candidate) const {
    const auto it = m_index.constFind(row);
    if (it == m_index.constEnd() || candidate < 0 || candidate >= candidateCount())
        return nullptr;
    const auto& result = m_results[static_cast<std::size_t>(*it)];
    return result ? &result->outcomes[static_cast<std::size_t>(candidate)] : nullptr;
}

std::optional<CandidateScore> CandidateAnalysis::score(int row, int candidate) const {
    const Outcome* found = outcome(row, candidate);
    return found ? std::optional(found->score) : std::nullopt;
}

QString CandidateAnalysis::note(int row, int candidate) const {
    const Outcome* found = outcome(row, candidate);
    return found ? QString::fromStdString(found->note) : QString();
}

std::vector<TensorCandidates> CandidateAnalysis::scored() const {
    std::vector<TensorCandidates> tensors;
    for (int i = 0; i < m_rows.size(); ++i) {
        const auto& result = m_results[static_cast<std::size_t>(i)];
        if (result) {
            TensorCandidates tensor{m_session->info(m_rows[i]).name, result->elements, {}};
            for (const Outcome& outcome : result->outcomes)
                tensor.scores.push_back(outcome.score);
            tensors.push_back(std::move(tensor));
        }
    }
    return tensors;
}

std::optional<PrecisionPlan> CandidateAnalysis::uniform(int candidate) const {
    if (!isComplete() || candidate < 0 || candidate >= candidateCount())
        return std::nullopt;
    return evaluatePlan(scored(), std::vector<std::size_t>(static_cast<std::size_t>(m_rows.size()),
                                                           static_cast<std::size_t>(candidate)));
}

void CandidateAnalysis::setBudget(double bitsPerWeight) {
    if (bitsPerWeight == m_budget)
        return;
    m_budget = bitsPerWeight;
    updatePlan();
}

void CandidateAnalysis::updatePlan() {
    m_plan.reset();
    m_planError.clear();
    if (isComplete()) {
        try {
            m_plan = planPrecision(scored(), m_budget);
        } catch (const Error& error) {
            m_planError = QString::fromStdString(error.detail());
        }
    }
    emit planChanged();
}

int CandidateAnalysis::plannedCandidate(int row) const {
    const auto it = m_index.constFind(row);
    if (!m_plan || it == m_index.constEnd())
        return -1;
    return static_cast<int>(m_plan->choice[static_cast<std::size_t>(*it)]);
}

void CandidateAnalysis::requirePlan() const {
    if (!m_plan)
        throw Error("plan",
                    m_planError.isEmpty() ? std::string("not computed yet") : m_planError.toStdString());
}

std::vector<QParamsEntry> CandidateAnalysis::plannedEntries() const {
    requirePlan();
    std::vector<QParamsEntry> entries;
    for (int i = 0; i < m_rows.size(); ++i) {
        const TensorInfo& info = m_session->info(m_rows[i]);
        const Outcome& chosen =
            m_results[static_cast<std::size_t>(i)]->outcomes[m_plan->choice[static_cast<std::size_t>(i)]];
        entries.push_back(
            {info.name, TensorKind::Weight, info.shape, chosen.spec, std::nullopt, chosen.metrics});
    }
    return entries;
}

std::string CandidateAnalysis::llamaTensorTypes() const {
    std::vector<std::pair<std::string, QuantFormat>> choices;
    for (const auto& entry : plannedEntries())
        choices.emplace_back(entry.name, entry.spec.format);
    return llamaTensorTypeLines(choices, "llama.cpp tensor types");
}

std::string CandidateAnalysis::compressedTensors(std::vector<ConversionNote>& notes) const {
    // A quantization_config holds settings only: no parameters needed (and the command line
    // records no source in it).
    QParamsDocument document;
    document.tensors = plannedEntries();
    return paramFileFormat("compressed-tensors", "compressed-tensors").write(document, notes);
}

QString CandidateAnalysis::exportPlan(const QString& kind, const QString& path) {
    try {
        if (kind == QLatin1String("llama") || kind == QLatin1String("compressed-tensors")) {
            std::vector<ConversionNote> notes;
            const std::string text =
                kind == QLatin1String("llama") ? llamaTensorTypes() : compressedTensors(notes);
            startExport(path, [text](const ProgressCallback&) { return text; });
            return {};
        }
        if (kind != QLatin1String("qparams"))
            return tr("unknown export '%1' (allowed: qparams, llama, compressed-tensors)").arg(kind);
        // What `plan --out-params` writes: the source file described (hashed), then each planned
        // tensor analysed again in the format the plan chose, for the parameters the results do
        // not keep. The same spec as the analysis gives the same numbers.
        struct Planned {
            std::string name;
            QuantSpec candidate;
        };
        requirePlan();
        std::vector<Planned> planned;
        for (int i = 0; i < m_rows.size(); ++i)
            planned.push_back({m_session->info(m_rows[i]).name,
                               m_candidates[m_plan->choice[static_cast<std::size_t>(i)]].spec});
        const auto file = m_session->file();
        startExport(path, [file, planned](const ProgressCallback& progress) {
            const std::size_t total = planned.size();
            QParamsDocument document;
            reportProgress(progress, Stage::Statistics, 0.0);
            document.source = FileReference::describe(file->path());
            std::vector<QParamsEntry> entries(total);
            std::atomic<std::size_t> next{0};
            std::atomic<std::size_t> done{0};
            std::atomic<bool> stop{false};
            std::mutex failureMutex;
            std::exception_ptr failure;
            // The hash counts as one tensor's share of the progress.
            const auto stillWanted = [&] {
                return progress(Stage::Statistics,
                                static_cast<double>(done + 1) / static_cast<double>(total + 1));
            };
            const auto work = [&] {
                for (std::size_t i = 0; !stop && (i = next++) < total;) {
                    try {
                        if (!stillWanted())
                            throw Cancelled();
                        const Tensor tensor = file->load(planned[i].name);
                        AnalysisOptions options;
                        options.progress = [&](Stage, double) { return stillWanted(); };
                        TensorAnalysis analysis = analyzeTensor(
                            tensor, candidateSpecFor(planned[i].candidate, tensor.shape()), options);
                        entries[i] = {analysis.name, TensorKind::Weight,         analysis.shape,
                                      analysis.spec, std::move(analysis.params), analysis.metrics};
                    } catch (...) {
                        const std::lock_guard lock(failureMutex);
                        if (!failure)
                            failure = std::current_exception();
                        stop = true;
                    }
                    ++done;
                }
            };
            runOnAllCores(total, work);
            if (failure)
                std::rethrow_exception(failure);
            document.tensors = std::move(entries);
            return document.toJson();
        });
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

void CandidateAnalysis::startExport(const QString& path,
                                    std::function<std::string(const ProgressCallback&)> write) {
    const std::string target = path.toStdString();
    JobHandle* job = m_jobs->startJob(
        QStringLiteral("plan-export"), tr("Exporting the plan to %1").arg(QFileInfo(path).fileName()),
        [target, write = std::move(write)](const ProgressCallback& progress) {
            const std::string text = write(progress);
            if (!progress(Stage::Results, 1.0))
                throw Cancelled(); // stopped at the last moment: nothing written
            writeFileAtomically(target, text);
            return QVariant();
        });
    const int id = job->id();
    m_exportJob = id;
    connect(job, &JobHandle::finished, this, [this, path] { emit planExported(path); });
    connect(job, &JobHandle::failed, this,
            [this, path](const QString& message) { emit planExportFailed(path, message); });
    connect(job, &JobHandle::ended, this, [this, id] {
        if (m_exportJob != id)
            return;
        m_exportJob = 0;
        emit exportingChanged(false);
    });
    emit exportingChanged(true);
}

void CandidateAnalysis::cancelExport() {
    if (m_exportJob != 0)
        m_jobs->cancel(m_exportJob);
}

} // namespace quantscope::ui
