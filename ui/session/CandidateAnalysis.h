#pragma once

#include "quantscope/analysis/PlanCandidate.h"
#include "quantscope/analysis/PrecisionPlan.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/interop/ParamFileFormat.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

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
class CandidateAnalysis : public QObject {
    Q_OBJECT
public:
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
    // One tensor's result in one candidate (the spec it ran with, parameters, metrics); null
    // while unknown.
    const QParamsEntry* entry(int row, int candidate) const;
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

    // The plan as the command line writes it (--out-params, --llama-tensor-types,
    // --compressed-tensors). Throw Error when there is no plan or a format cannot be written.
    QParamsDocument planDocument() const;
    std::string llamaTensorTypes() const;
    std::string compressedTensors(std::vector<ConversionNote>& notes) const;
    // Writes one of them ("qparams", "llama", "compressed-tensors") to a file; an error message,
    // empty on success.
    QString exportPlan(const QString& kind, const QString& path) const;

signals:
    void candidatesChanged();
    void tensorDone(int row);
    void runningChanged(bool running);
    void completed();
    void planChanged();

private:
    struct Result {
        std::vector<QParamsEntry> entries; // one per candidate
        std::vector<CandidateScore> scores;
        std::vector<std::string> notes;
        int64_t elements = 0; // finite and non-finite values, the plan's weight
    };
    void reset();
    void accept(int generation, int row, Result result);
    void updatePlan();
    std::vector<TensorCandidates> scored() const;

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
    QString m_error;
    double m_budget = 4.5;
    std::optional<PrecisionPlan> m_plan;
    QString m_planError;
};

} // namespace quantscope::ui
