#include "learn/LearnTensorStudy.h"

#include "quantscope/analysis/TensorResultBuilder.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/StorageSize.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace quantscope::ui {

std::string LearnTensorStudy::GranularityPoint::label() const {
    switch (granularity) {
    case Granularity::Tensor:
        return "tensor";
    case Granularity::Channel:
        return "channel";
    case Granularity::Group:
        return "group " + std::to_string(groupSize);
    }
    return {};
}

QuantSpec LearnTensorStudy::lessonSpec(const QuantSpec& spec) {
    QuantSpec lesson = spec;
    if (!lesson.format.isInteger())
        lesson.format = QuantFormat::integer(8, true);
    lesson.granularity = Granularity::Tensor;
    // Narrow range is allowed only for signed symmetric formats.
    if (lesson.scheme != Scheme::Symmetric || !lesson.format.isSigned)
        lesson.narrowRange = false;
    // moving-average reads the leading axis as batches: fine for the tensor lessons too.
    return lesson;
}

Range LearnTensorStudy::perTensorRange(const Tensor& tensor, const QuantSpec& spec,
                                       const TensorSettings& settings) {
    if (settings.manualRange)
        return *settings.manualRange;
    QuantSpec perTensor = spec;
    perTensor.granularity = Granularity::Tensor;
    return calibrateBlocks(tensor, perTensor).front();
}

namespace {

// analyzeTensor with a manual range turned into fixed parameters (per tensor only).
ErrorMetrics measure(const Tensor& tensor, const QuantSpec& spec, const TensorSettings& settings) {
    AnalysisOptions options;
    if (settings.manualRange && spec.granularity == Granularity::Tensor) {
        const std::array<Range, 1> ranges{*settings.manualRange};
        options.fixedParams = computeQParams(ranges, spec);
    }
    return analyzeTensor(tensor, spec, options).metrics;
}

} // namespace

LearnTensorStudy LearnTensorStudy::compute(const Tensor& tensor, const TensorSettings& settings,
                                           const ProgressCallback& progress) {
    LearnTensorStudy study;
    study.tensorName = tensor.name();
    study.settings = settings;
    study.baseSpec = lessonSpec(settings.spec);
    const QuantSpec& base = study.baseSpec;

    QuantSpec symmetric = base;
    symmetric.scheme = Scheme::Symmetric;
    QuantSpec affine = base;
    affine.scheme = Scheme::Affine;
    affine.narrowRange = false;
    study.symmetricRange = perTensorRange(tensor, symmetric, settings);
    study.affineRange = perTensorRange(tensor, affine, settings);

    const int steps = (kHighestBits - kLowestBits + 1) + 15 + 5;
    int done = 0;
    const auto tick = [&] { reportProgress(progress, Stage::Results, static_cast<double>(++done) / steps); };

    // The sweep keeps the settings' granularity (the mapping lesson is per tensor, the sweep is not).
    QuantSpec sweepBase = base;
    sweepBase.granularity = settings.spec.granularity;
    sweepBase.axis = settings.spec.axis;
    sweepBase.groupSize = settings.spec.groupSize;
    for (int bits = kHighestBits; bits >= kLowestBits; --bits) {
        QuantSpec spec = sweepBase;
        spec.format = QuantFormat::integer(bits, base.format.isSigned);
        study.bitSweep.push_back({bits, measure(tensor, spec, settings)});
        tick();
    }

    // Granularity: channels along axis 0 (output channels of a weight), groups along the last
    // axis (the reduction axis of a Linear weight, as GPTQ and MatMulNBits cut them).
    const int lastAxis = std::max(0, tensor.rank() - 1);
    for (int bits : {8, 4, 3}) {
        const std::array<std::tuple<Granularity, int, int64_t>, 5> choices{
            std::tuple{Granularity::Tensor, 0, int64_t{0}}, std::tuple{Granularity::Channel, 0, int64_t{0}},
            std::tuple{Granularity::Group, lastAxis, int64_t{128}},
            std::tuple{Granularity::Group, lastAxis, int64_t{64}},
            std::tuple{Granularity::Group, lastAxis, int64_t{32}}};
        for (const auto& [granularity, axis, groupSize] : choices) {
            QuantSpec spec = base;
            spec.format = QuantFormat::integer(bits, base.format.isSigned);
            spec.granularity = granularity;
            spec.axis = axis;
            if (groupSize > 0)
                spec.groupSize = groupSize;
            if (spec.calib == CalibMethod::MovingAverage)
                spec.calib = CalibMethod::MinMax; // per block the batches would be the block's rows
            // Groups as long as the axis are one group per row: the same blocks as per channel.
            const bool sameAsChannel = groupSize > 0 && tensor.rank() == 2 &&
                                       groupSize >= tensor.shape()[static_cast<std::size_t>(lastAxis)];
            if ((tensor.rank() == 0 && granularity != Granularity::Tensor) || sameAsChannel) {
                tick();
                continue;
            }
            GranularityPoint point;
            point.bits = bits;
            point.granularity = granularity;
            point.axis = axis;
            point.groupSize = groupSize;
            const TensorAnalysis analysis = analyzeTensor(tensor, spec);
            point.blocks = static_cast<int64_t>(analysis.params.blockCount());
            point.metrics = analysis.metrics;
            point.bitsPerValue =
                tensor.size() > 0
                    ? 8.0 * static_cast<double>(quantizedStorageBytes(tensor.size(), spec, point.blocks)) /
                          static_cast<double>(tensor.size())
                    : 0.0;
            study.granularity.push_back(point);
            tick();
        }
    }

    for (CalibMethod method : {CalibMethod::MinMax, CalibMethod::Percentile, CalibMethod::Mse,
                               CalibMethod::Entropy, CalibMethod::Histogram}) {
        QuantSpec spec = base;
        spec.calib = method;
        try {
            const TensorAnalysis analysis = analyzeTensor(tensor, spec);
            study.calibration.push_back(
                {method, {analysis.params.min.front(), analysis.params.max.front()}, analysis.metrics});
        } catch (const Cancelled&) {
            throw;
        } catch (const Error&) {
            // A method the core refuses for these settings is left out of the comparison.
        }
        tick();
    }
    return study;
}

} // namespace quantscope::ui
