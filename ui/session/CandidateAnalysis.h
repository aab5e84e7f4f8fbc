#pragma once

#include "quantscope/Progress.h"
#include "quantscope/analysis/PlanCandidate.h"
#include "quantscope/analysis/PrecisionPlan.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/interop/ParamFileFormat.h"
#include "quantscope/metrics/ErrorMetrics.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace quantscope::ui {

class JobRunner;
class Session;

// Every weight of rank 2 or more of the open file analysed in each of a set of candidate formats
// (what `quantscope-cli plan` computes, through the same core functions): the results fill in
// tensor by tensor from a cancellable background job, and once all are in, the whole model's
// figure per candidate (bits per weight, weighted SQNR) and the mixed-precision plan under a
// budget (planPrecision), exportable with the writers the command line uses.
// Only what the map, the chart and the plan read is kept per tensor and candidate (the spec it
// ran with, its metrics and score): no per-channel or per-group array, so that the results of a
// multi-GB model stay a few hundred bytes per tensor. The parameters a qparams export writes are
// computed again, for the chosen candidate only, by the export's own job.
class CandidateAnalysis : public QObject {
    Q_OBJECT
public:
    // One tensor in one candidate: what it ran as and what it gives.
    struct Outcome {
        QuantSpec spec;       // as analysed (llama.cpp's k-quant fallback applied)
        ErrorMetrics metrics; // over the whole tensor
        CandidateScore score;
        std::string note; // why the format differs from the candidate's, empty when it does not
    };

    static QString defaultCandidates();

    CandidateAnalysis(Session* session, JobRunner* jobs, QObject* parent = nullptr);

    // Parses a comma-separated list ("int8/channel,q4_k,..."); an empty string when accepted,
    // else the error (the old list stays). Accepting a new list drops the results.
    QString setCandidates(const QString& list);
    QString candidateList() const { return m_list; }
    const std::vector<PlanCandidate>& candidates() const { return m_candidates; }
    int candidateCount() const { return static_cast<int>(m_candidates.size()); }
    QString candidateName(int candidate) const;

    // Starts the analysis of what is missing (nothing when all is known or a job runs).
    void start();
    void cancel();
    bool isRunning() const { return m_job != 0; }
    QString lastError() const { return m_error; }

    // The planned weights (rank 2 or more) by session row, in file order; 1-D tensors stay float.
    const QList<int>& plannedRows() const { return m_rows; }
    bool isPlanned(int row) const { return m_index.contains(row); }
    int doneCount() const { return m_done; }
    bool isComplete() const { return !m_rows.isEmpty() && m_done == m_rows.size(); }
    // One tensor's result in one candidate; null while unknown.
    const Outcome* outcome(int row, int candidate) const;
    std::optional<CandidateScore> score(int row, int candidate) const;
    // Why a tensor ran in another format than its candidate (llama.cpp's k-quant fallback).
    QString note(int row, int candidate) const;

    // The whole model in one candidate (all tensors known), as `plan --json` lists it.
    std::optional<PrecisionPlan> uniform(int candidate) const;
    // The budget in bits per weight and the plan under it (none until all is known, or when the
    // budget is below the cheapest choice: planError() says why).
    void setBudget(double bitsPerWeight);
    double budget() const { return m_budget; }
    const std::optional<PrecisionPlan>& plan() const { return m_plan; }
    QString planError() const { return m_planError; }
    // The candidate the plan chose for a session row, -1 when none.
    int plannedCandidate(int row) const;

    // The plan as the command line writes it (--llama-tensor-types, --compressed-tensors). Throw
    // Error when there is no plan or a format cannot be written.
    std::string llamaTensorTypes() const;
    std::string compressedTensors(std::vector<ConversionNote>& notes) const;
    // Writes one of "qparams" (--out-params), "llama" or "compressed-tensors" to `path` from a job
    // on the runner (with progress and Stop in the status bar): a qparams export hashes the source
    // file and analyses every planned tensor again in its chosen format for the parameters, the
    // others only write. The file appears whole when the job is done (written atomically), and
    // planExported or planExportFailed follows; stopped, nothing is written and neither is sent.
    // Returns at once: an error message when nothing could start (no plan, a format the kind
    // cannot store, an unknown kind), else empty. A newer export stops an older one.
    QString exportPlan(const QString& kind, const QString& path);
    bool isExporting() const { return m_exportJob != 0; }
    void cancelExport();

signals:
    void candidatesChanged();
    void tensorDone(int row);
    void runningChanged(bool running);
    void completed();
    void planChanged();
    void exportingChanged(bool exporting);
    void planExported(const QString& path);
    void planExportFailed(const QString& path, const QString& message);

private:
    struct Result {
        std::vector<Outcome> outcomes; // one per candidate
        int64_t elements = 0;          // finite and non-finite values, the plan's weight
    };
    void reset();
    void accept(int generation, int row, Result result);
    void updatePlan();
    std::vector<TensorCandidates> scored() const;
    void requirePlan() const; // throws Error saying why there is no plan
    // The plan's entries with their settings and metrics but no parameters; throws Error when
    // there is no plan.
    std::vector<QParamsEntry> plannedEntries() const;
    void startExport(const QString& path, std::function<std::string(const ProgressCallback&)> write);

    Session* m_session;
    JobRunner* m_jobs;
    QString m_list;
    std::vector<PlanCandidate> m_candidates;
    QList<int> m_rows;
    QHash<int, int> m_index; // session row -> position in m_rows
    std::vector<std::optional<Result>> m_results;
    int m_done = 0;
    int m_generation = 0;
    int m_job = 0;
    int m_exportJob = 0;
    QString m_error;
    double m_budget = 4.5;
    std::optional<PrecisionPlan> m_plan;
    QString m_planError;
};

} // namespace quantscope::ui
