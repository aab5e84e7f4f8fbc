#pragma once

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/io/WeightFile.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace quantscope::cli {

// Analyses the named tensors of a file with the command line's settings, or with the settings
// (and, where present, the exact scale and zero point) of a --params document's entry.
class TensorAnalysisRunner {
public:
    TensorAnalysisRunner(const WeightFile& file, const QuantSpec& spec,
                         const std::optional<QParamsDocument>& params);

    TensorAnalysis run(const std::string& tensorName, const AnalysisOptions& options) const;
    // The same, the tensor loaded into `buffer` (one per thread, reused across tensors).
    TensorAnalysis run(const std::string& tensorName, const AnalysisOptions& options,
                       FloatBuffer& buffer) const;
    // The same for a tensor of the file already loaded (one load for several settings).
    TensorAnalysis run(const TensorView& tensor, const AnalysisOptions& options) const;

    // When analysing every tensor of a file, a tensor whose rank has no --axis (a bias under
    // per-channel axis 1) is analysed per tensor, with a note on stderr, instead of failing.
    void setPerTensorForLowRank(bool enabled) { m_perTensorForLowRank = enabled; }
    // No --axis was given: a 1-D tensor under per-group settings groups along its only axis.
    void setGroupAxisDefaulted(bool defaulted) { m_groupAxisDefaulted = defaulted; }
    // A tensor the file stores as integers with a scale and zero point (an ONNX QDQ weight, a GPTQ /
    // AWQ / compressed-tensors packed weight) and no --params entry is analysed with its stored
    // type, granularity and parameters, exactly.
    void setStoredParametersUsed(bool used) { m_storedParametersUsed = used; }
    // Whether run() analyses this tensor with the parameters its file stores.
    bool usesStoredParameters(const std::string& tensorName, const std::vector<int64_t>& shape) const;

private:
    using Analyse = std::function<TensorAnalysis(const QuantSpec& spec, const AnalysisOptions& options)>;
    // Works out the tensor's settings from its name and shape (the --params entry, stored
    // parameters, the whole-file rules) and calls `analyseWith` with them.
    TensorAnalysis analyse(const std::string& tensorName, const std::vector<int64_t>& shape,
                           const AnalysisOptions& options, const Analyse& analyseWith) const;
    // The stored settings and parameters replacing `spec` for this tensor, when they apply.
    bool storedParameters(const std::string& tensorName, const std::vector<int64_t>& shape, QuantSpec& spec,
                          QParams& params) const;

    const WeightFile& m_file;
    QuantSpec m_spec;
    const std::optional<QParamsDocument>& m_params;
    bool m_perTensorForLowRank = false;
    bool m_groupAxisDefaulted = false;
    bool m_storedParametersUsed = false;
};

QParamsEntry entryFor(const TensorAnalysis& analysis, TensorKind kind = TensorKind::Weight);
std::string summaryTable(const std::vector<TensorAnalysis>& analyses);

} // namespace quantscope::cli
