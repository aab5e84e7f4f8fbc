#include "TensorAnalysisRunner.h"
#include "quantscope/Error.h"
#include "quantscope/analysis/PlanCandidate.h"
#include "quantscope/quant/StoredParameters.h"

#include "TextTable.h"

#include <algorithm>
#include <cstdio>

namespace quantscope::cli {

namespace {

// Whole-file analysis gives a k-quant's row that 256 does not divide llama.cpp's fallback format
// and says so; a single tensor keeps the error that names the row length.
QuantSpec llamaCppFallbackNoted(const QuantSpec& spec, const std::string& tensorName,
                                const std::vector<int64_t>& shape, bool wholeFile) {
    const int64_t row = shape.empty() ? 1 : shape[static_cast<std::size_t>(spec.axis)];
    if (!wholeFile)
        return spec;
    const QuantSpec fallback = llamaCppFallback(spec, row);
    if (fallback.format.kind != spec.format.kind)
        std::fprintf(stderr,
                     "quantscope-cli: note: %s has rows of %lld values, not whole %s super-blocks: "
                     "analysed as %s, as llama.cpp quantizes it\n",
                     tensorName.c_str(), static_cast<long long>(row), spec.format.name().c_str(),
                     fallback.format.name().c_str());
    return fallback;
}

} // namespace

TensorAnalysisRunner::TensorAnalysisRunner(const WeightFile& file, const QuantSpec& spec,
                                           const std::optional<QParamsDocument>& params)
    : m_file(file), m_spec(spec), m_params(params) {}

TensorAnalysis TensorAnalysisRunner::run(const std::string& tensorName,
                                         const AnalysisOptions& options) const {
    return run(m_file.load(tensorName), options);
}

TensorAnalysis TensorAnalysisRunner::run(const std::string& tensorName, const AnalysisOptions& options,
                                         FloatBuffer& buffer) const {
    const TensorInfo* info = m_file.find(tensorName);
    if (!info || !m_file.decodesRanges())
        return run(m_file.loadInto(tensorName, buffer), options);
    // The settings come from the name and shape alone: settings that allow it read the tensor
    // slice by slice from the file (never whole in memory), others load it into the buffer.
    const std::vector<int64_t>& shape = info->shape;
    return analyse(tensorName, shape, options, [&](const QuantSpec& spec, const AnalysisOptions& effective) {
        if (!analysisGoesInSlices(shape, spec, effective))
            return analyzeTensor(m_file.loadInto(tensorName, buffer), spec, effective);
        return analyzeTensorInSlices(
            tensorName, shape, spec, effective,
            [&](int64_t first, int64_t count, float* destination) {
                m_file.decodeRange(tensorName, static_cast<uint64_t>(first), static_cast<uint64_t>(count),
                                   destination);
            },
            buffer);
    });
}

bool TensorAnalysisRunner::storedParameters(const std::string& tensorName, const std::vector<int64_t>& shape,
                                            QuantSpec& spec, QParams& params) const {
    if (!m_storedParametersUsed || (m_params && m_params->find(tensorName)))
        return false;
    // A QDQ weight's or a packed checkpoint's (scale, zero point) replace the settings, as in the
    // app; forms without an integer grid (nvfp4, fp8, GPTQ desc_act) keep the settings.
    const auto stored = m_file.storedQuantization(tensorName);
    return stored && applyStoredParameters(*stored, shape, spec, params);
}

bool TensorAnalysisRunner::usesStoredParameters(const std::string& tensorName,
                                                const std::vector<int64_t>& shape) const {
    QuantSpec spec = m_spec;
    QParams params;
    return storedParameters(tensorName, shape, spec, params);
}

TensorAnalysis TensorAnalysisRunner::run(const TensorView& tensor, const AnalysisOptions& options) const {
    return analyse(tensor.name(), tensor.shape(), options,
                   [&](const QuantSpec& spec, const AnalysisOptions& effective) {
                       return analyzeTensor(tensor, spec, effective);
                   });
}

TensorAnalysis TensorAnalysisRunner::analyse(const std::string& tensorName, const std::vector<int64_t>& shape,
                                             const AnalysisOptions& options,
                                             const Analyse& analyseWith) const {
    const int rank = static_cast<int>(shape.size());
    QuantSpec spec = m_spec;
    AnalysisOptions effective = options;
    if (m_params) {
        if (const QParamsEntry* entry = m_params->find(tensorName)) {
            spec = entry->spec;
            if (entry->params)
                effective.fixedParams = entry->params;
        }
    }
    if (!effective.fixedParams) {
        QParams storedParams;
        if (storedParameters(tensorName, shape, spec, storedParams)) {
            effective.fixedParams = storedParams;
            return analyseWith(spec, effective);
        }
    }
    if (m_groupAxisDefaulted && spec.granularity == Granularity::Group && rank == 1 &&
        (!m_params || !m_params->find(tensorName)))
        spec.axis = 0;
    if (spec.format.isGgml() && (!m_params || !m_params->find(tensorName))) {
        if (m_groupAxisDefaulted) // ggml's blocks run along a row: the last axis
            spec.axis = std::max(0, rank - 1);
        spec = llamaCppFallbackNoted(spec, tensorName, shape, m_perTensorForLowRank);
    }
    if (m_perTensorForLowRank && !effective.fixedParams && spec.granularity != Granularity::Tensor &&
        spec.axis >= rank) {
        std::fprintf(stderr, "quantscope-cli: note: %s has rank %d, no axis %d: analysed per tensor\n",
                     tensorName.c_str(), rank, spec.axis);
        spec.granularity = Granularity::Tensor;
    }
    try {
        return analyseWith(spec, effective);
    } catch (const Error& error) {
        // Name the tensor as well as the option: with many tensors the option alone is ambiguous.
        // An error naming the file and the tensor already (reading it) is passed on as it is.
        if (error.subject() == tensorName || error.subject() == m_file.path() + ": " + tensorName)
            throw;
        throw Error(m_file.path() + ": " + tensorName, error.what());
    }
}

QParamsEntry entryFor(const TensorAnalysis& analysis, TensorKind kind) {
    QParamsEntry entry;
    entry.name = analysis.name;
    entry.kind = kind;
    entry.shape = analysis.shape;
    entry.spec = analysis.spec;
    entry.params = analysis.params;
    entry.metrics = analysis.metrics;
    return entry;
}

namespace {

std::string describeValues(const std::vector<float>& values) {
    if (values.size() == 1)
        return formatNumber(values[0], 6);
    return std::to_string(values.size()) + " values";
}

std::string describeZeroPoints(const std::vector<int32_t>& values) {
    if (values.size() == 1)
        return std::to_string(values[0]);
    return std::to_string(values.size()) + " values";
}

} // namespace

std::string summaryTable(const std::vector<TensorAnalysis>& analyses) {
    TextTable table({"name", "shape", "format", "scheme", "granularity", "scale", "zero point", "SQNR dB",
                     "MSE", "max error", "clipped %", "levels"});
    for (const auto& a : analyses) {
        const ErrorMetrics& m = a.metrics;
        std::string granularity(granularityName(a.spec.granularity));
        if (a.spec.granularity == Granularity::Channel)
            granularity += " (axis " + std::to_string(a.spec.axis) + ")";
        else if (a.spec.granularity == Granularity::Group)
            granularity +=
                " (axis " + std::to_string(a.spec.axis) + ", " + std::to_string(a.spec.groupSize) + ")";
        // ggml's quantizer has its own scheme: a scale (and a minimum) per block, no zero point.
        const bool ggml = a.spec.format.isGgml();
        table.addRow({a.name, shapeToString(a.shape), a.spec.format.name(),
                      ggml ? std::string("llama.cpp") : std::string(schemeName(a.spec.scheme)), granularity,
                      describeValues(a.params.scale),
                      ggml ? std::string("-") : describeZeroPoints(a.params.zeroPoint),
                      m.sqnrNote.empty() ? formatNumber(m.sqnrDb, 4) : m.sqnrNote, formatNumber(m.mse, 4),
                      formatNumber(m.maxAbsError, 4), formatNumber(100.0 * m.clippedFraction, 3),
                      std::to_string(m.levelsUsed)});
    }
    return table.render({false, false, false, false, false, true, true, true, true, true, true, true});
}

} // namespace quantscope::cli
