#include "TensorAnalysisRunner.h"
#include "quantscope/Error.h"
#include "quantscope/analysis/PlanCandidate.h"

#include "TextTable.h"

#include <algorithm>
#include <cstdio>

namespace quantscope::cli {

namespace {

// Whole-file analysis gives a k-quant's row that 256 does not divide llama.cpp's fallback format
// and says so; a single tensor keeps the error that names the row length.
QuantSpec llamaCppFallbackNoted(const QuantSpec& spec, const Tensor& tensor, bool wholeFile) {
    const int64_t row = tensor.rank() == 0 ? 1 : tensor.shape()[static_cast<std::size_t>(spec.axis)];
    if (!wholeFile)
        return spec;
    const QuantSpec fallback = llamaCppFallback(spec, row);
    if (fallback.format.kind != spec.format.kind)
        std::fprintf(stderr,
                     "quantscope-cli: note: %s has rows of %lld values, not whole %s super-blocks: "
                     "analysed as %s, as llama.cpp quantizes it\n",
                     tensor.name().c_str(), static_cast<long long>(row), spec.format.name().c_str(),
                     fallback.format.name().c_str());
    return fallback;
}

// The stored settings and parameters of an integer weight dequantized by scale and zero point:
// its type, per tensor / per channel / per group, and the scale and zero point as written. The
// range recorded is the one the stored grid covers.
bool applyStoredParameters(const StoredQuantization& stored, QuantSpec& spec, QParams& params) {
    if (!stored.affine || stored.parameters.empty())
        return false;
    const auto& affine = *stored.affine;
    spec.format = QuantFormat::parse(affine.dtype);
    spec.granularity = affine.axis < 0        ? Granularity::Tensor
                       : affine.blockSize > 0 ? Granularity::Group
                                              : Granularity::Channel;
    spec.axis = static_cast<int>(std::max<int64_t>(affine.axis, 0));
    if (affine.blockSize > 0)
        spec.groupSize = affine.blockSize;
    spec.narrowRange = false;
    spec.reduceRange = false;
    const auto scales = stored.parameters[0].values();
    params.scale.assign(scales.begin(), scales.end());
    params.zeroPoint.assign(params.scale.size(), 0);
    if (stored.parameters.size() > 1) {
        const auto zeros = stored.parameters[1].values();
        for (std::size_t i = 0; i < params.zeroPoint.size() && i < zeros.size(); ++i)
            params.zeroPoint[i] = static_cast<int32_t>(zeros[i]);
    }
    const bool allZero =
        std::all_of(params.zeroPoint.begin(), params.zeroPoint.end(), [](int32_t z) { return z == 0; });
    spec.scheme = allZero && spec.format.isSigned ? Scheme::Symmetric : Scheme::Affine;
    params.qmin = spec.qmin();
    params.qmax = spec.qmax();
    params.min.resize(params.scale.size());
    params.max.resize(params.scale.size());
    for (std::size_t i = 0; i < params.scale.size(); ++i) {
        params.min[i] = static_cast<float>(params.qmin - params.zeroPoint[i]) * params.scale[i];
        params.max[i] = static_cast<float>(params.qmax - params.zeroPoint[i]) * params.scale[i];
    }
    return true;
}

} // namespace

TensorAnalysisRunner::TensorAnalysisRunner(const WeightFile& file, const QuantSpec& spec,
                                           const std::optional<QParamsDocument>& params)
    : m_file(file), m_spec(spec), m_params(params) {}

TensorAnalysis TensorAnalysisRunner::run(const std::string& tensorName,
                                         const AnalysisOptions& options) const {
    return run(m_file.load(tensorName), options);
}

TensorAnalysis TensorAnalysisRunner::run(const Tensor& tensor, const AnalysisOptions& options) const {
    const std::string& tensorName = tensor.name();
    QuantSpec spec = m_spec;
    AnalysisOptions effective = options;
    if (m_params) {
        if (const QParamsEntry* entry = m_params->find(tensorName)) {
            spec = entry->spec;
            if (entry->params)
                effective.fixedParams = entry->params;
        }
    }
    if (m_storedParametersUsed && !effective.fixedParams && (!m_params || !m_params->find(tensorName))) {
        if (const auto stored = m_file.storedQuantization(tensorName)) {
            QParams storedParams;
            if (applyStoredParameters(*stored, spec, storedParams)) {
                effective.fixedParams = storedParams;
                return analyzeTensor(tensor, spec, effective);
            }
        }
    }
    if (m_groupAxisDefaulted && spec.granularity == Granularity::Group && tensor.rank() == 1 &&
        (!m_params || !m_params->find(tensorName)))
        spec.axis = 0;
    if (spec.format.isGgml() && (!m_params || !m_params->find(tensorName))) {
        if (m_groupAxisDefaulted) // ggml's blocks run along a row: the last axis
            spec.axis = std::max(0, tensor.rank() - 1);
        spec = llamaCppFallbackNoted(spec, tensor, m_perTensorForLowRank);
    }
    if (m_perTensorForLowRank && !effective.fixedParams && spec.granularity != Granularity::Tensor &&
        spec.axis >= tensor.rank()) {
        std::fprintf(stderr, "quantscope-cli: note: %s has rank %d, no axis %d: analysed per tensor\n",
                     tensorName.c_str(), tensor.rank(), spec.axis);
        spec.granularity = Granularity::Tensor;
    }
    try {
        return analyzeTensor(tensor, spec, effective);
    } catch (const Error& error) {
        // Name the tensor as well as the option: with many tensors the option alone is ambiguous.
        if (error.subject() == tensorName)
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
