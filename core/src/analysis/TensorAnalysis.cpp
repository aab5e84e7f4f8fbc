#include "quantscope/analysis/TensorAnalysis.h"

#include "quantscope/Error.h"
#include "quantscope/calib/Observer.h"
#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/BlockLayout.h"
#include "quantscope/quant/FloatCodes.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"
#include "quantscope/tensor/TensorInfo.h"

#include "GgmlBlockAnalysis.h"
#include "IntegerRunQuantizer.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <span>

namespace quantscope {
namespace {

// Progress is reported about every this many elements.
constexpr int64_t kProgressStride = int64_t{1} << 20;

// Reorders the values so that each block's values are contiguous (a counting sort by block),
// for observers that need all of one block at once.
struct BlockValues {
    std::vector<float> values;
    std::vector<int64_t> offsets; // block b holds values[offsets[b], offsets[b + 1])

    BlockValues(std::span<const float> source, const BlockLayout& layout) {
        const int64_t blocks = layout.blockCount();
        offsets.assign(static_cast<std::size_t>(blocks) + 1, 0);
        layout.forEachRun([&](int64_t block, int64_t, int64_t count) {
            offsets[static_cast<std::size_t>(block) + 1] += count;
        });
        for (std::size_t b = 1; b < offsets.size(); ++b)
            offsets[b] += offsets[b - 1];
        values.resize(source.size());
        std::vector<int64_t> cursor(offsets.begin(), offsets.end() - 1);
        layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
            int64_t& at = cursor[static_cast<std::size_t>(block)];
            std::copy_n(source.begin() + first, count, values.begin() + at);
            at += count;
        });
    }

    std::span<const float> block(int64_t b) const {
        const auto begin = offsets[static_cast<std::size_t>(b)];
        const auto end = offsets[static_cast<std::size_t>(b) + 1];
        return std::span<const float>(values).subspan(static_cast<std::size_t>(begin),
                                                      static_cast<std::size_t>(end - begin));
    }
};

// Observers can read a block in place when every block is one contiguous run of the tensor.
bool blocksAreContiguous(const BlockLayout& layout) {
    return layout.granularity() == Granularity::Tensor ||
           (layout.granularity() == Granularity::Channel && layout.outer() == 1) ||
           (layout.granularity() == Granularity::Group && layout.inner() == 1);
}

// Elements in a run of consecutive values that share a block. The vectorised quantizer wants
// long runs; shorter ones (channels or groups across the last axis) are gathered first.
int64_t runLength(const BlockLayout& layout) {
    if (layout.granularity() == Granularity::Tensor)
        return layout.elementCount();
    if (layout.granularity() == Granularity::Channel)
        return layout.inner();
    return layout.inner() == 1 ? layout.groupSize() : 1;
}

constexpr int64_t kShortestQuantizedRun = 64;

std::vector<Range> rangesOf(const std::vector<std::unique_ptr<Observer>>& observers) {
    std::vector<Range> ranges;
    ranges.reserve(observers.size());
    for (const auto& observer : observers)
        ranges.push_back(observer->range());
    return ranges;
}

std::vector<std::unique_ptr<Observer>> makeObservers(const QuantSpec& spec, int64_t count) {
    std::vector<std::unique_ptr<Observer>> observers;
    observers.reserve(static_cast<std::size_t>(count));
    for (int64_t b = 0; b < count; ++b)
        observers.push_back(makeObserver(spec));
    return observers;
}

// Moving average: the leading axis indexes the batches, observed in order; each block sees
// the part of it that lies in the batch.
std::vector<Range> calibrateMovingAverage(const TensorView& tensor, const QuantSpec& spec,
                                          const BlockLayout& layout, const ProgressCallback& progress) {
    auto observers = makeObservers(spec, layout.blockCount());
    const auto values = tensor.values();
    const int64_t batches = tensor.rank() == 0 ? 1 : std::max<int64_t>(tensor.shape()[0], 1);
    const int64_t batchSize = tensor.size() / batches;
    std::vector<std::vector<float>> pending(static_cast<std::size_t>(layout.blockCount()));
    std::vector<int64_t> touched;
    int64_t currentBatch = 0;
    auto flush = [&] {
        for (int64_t block : touched) {
            auto& list = pending[static_cast<std::size_t>(block)];
            observers[static_cast<std::size_t>(block)]->observe(list);
            list.clear();
        }
        touched.clear();
    };
    layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
        // A run never crosses a batch boundary unless the layout is per-tensor; split it then.
        while (count > 0) {
            const int64_t batch = batchSize == 0 ? 0 : first / batchSize;
            if (batch != currentBatch) {
                flush();
                currentBatch = batch;
                reportProgress(progress, Stage::Statistics, 0.5 * static_cast<double>(batch) / batches);
            }
            const int64_t inBatch = batchSize == 0 ? count : std::min(count, (batch + 1) * batchSize - first);
            auto& list = pending[static_cast<std::size_t>(block)];
            if (list.empty())
                touched.push_back(block);
            list.insert(list.end(), values.begin() + first, values.begin() + first + inBatch);
            first += inBatch;
            count -= inBatch;
        }
    });
    flush();
    return rangesOf(observers);
}

std::vector<IntegerQuantizer> integerQuantizers(const QParams& params) {
    std::vector<IntegerQuantizer> quantizers;
    quantizers.reserve(params.blockCount());
    for (std::size_t b = 0; b < params.blockCount(); ++b)
        quantizers.emplace_back(params.scale[b], params.zeroPoint[b], static_cast<int32_t>(params.qmin),
                                static_cast<int32_t>(params.qmax));
    return quantizers;
}

// Integer formats: contiguous runs go through the vectorised chunk quantizer. Layouts whose runs
// are short (channels or groups across the last axis) use `grouped`, the values block by block.
template <class Advance>
void quantizeIntegerBlocks(std::span<const float> values, const BlockLayout& layout, const QParams& params,
                           IntegerRunQuantizer& quantizer, TensorAnalysis& result, const BlockValues* grouped,
                           Advance&& advance) {
    const auto quantizers = integerQuantizers(params);
    if (runLength(layout) >= kShortestQuantizedRun) {
        layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
            quantizer.run(quantizers[static_cast<std::size_t>(block)], block, values.data() + first, count,
                          first);
            advance(count);
        });
        return;
    }
    for (int64_t b = 0; b < layout.blockCount(); ++b) {
        const auto blockValues = grouped->block(b);
        quantizer.run(quantizers[static_cast<std::size_t>(b)], b, blockValues.data(),
                      static_cast<int64_t>(blockValues.size()), -1);
        advance(static_cast<int64_t>(blockValues.size()));
    }
    if (quantizer.writesOutputs()) {
        const bool keepIntegers = !result.integers.empty();
        const bool keepDequantized = !result.dequantized.empty();
        layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
            const IntegerQuantizer& blockQuantizer = quantizers[static_cast<std::size_t>(block)];
            for (int64_t i = first; i < first + count; ++i) {
                const int32_t q = blockQuantizer.quantize(values[static_cast<std::size_t>(i)]);
                if (keepIntegers)
                    result.integers[static_cast<std::size_t>(i)] = q;
                if (keepDequantized)
                    result.dequantized[static_cast<std::size_t>(i)] = blockQuantizer.dequantize(q);
            }
        });
    }
}

// The quantizer of one block calibrated to `range`.
IntegerQuantizer quantizerFor(Range range, const QuantSpec& spec) {
    float scale = 1.0f;
    int32_t zeroPoint = 0;
    computeBlockParams(range, spec, scale, zeroPoint);
    return IntegerQuantizer(scale, zeroPoint, static_cast<int32_t>(spec.qmin()),
                            static_cast<int32_t>(spec.qmax()));
}

// Blocks that are long contiguous runs (channels of the leading axis, groups along the last
// axis): each block is calibrated and quantized right away, while its values are still in the
// cache, so the tensor is read from memory once instead of twice. Every block's parameters and
// sums are those of calibrating all blocks first. Returns the calibrated ranges.
template <class Advance>
std::vector<Range> calibrateAndQuantizeIntegerBlocks(std::span<const float> values, const QuantSpec& spec,
                                                     const BlockLayout& layout,
                                                     IntegerRunQuantizer& quantizer, Advance&& advance) {
    std::vector<Range> ranges(static_cast<std::size_t>(layout.blockCount()));
    layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
        const auto blockValues =
            values.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
        const auto observer = makeObserver(spec);
        observer->observe(blockValues);
        const Range range = observer->range();
        ranges[static_cast<std::size_t>(block)] = range;
        const IntegerQuantizer blockQuantizer = quantizerFor(range, spec);
        quantizer.run(blockQuantizer, block, blockValues.data(), count, first);
        advance(count);
    });
    return ranges;
}

// Min-max calibration of blocks that are long contiguous runs, per tensor included: the block's
// range is taken chunk by chunk (IntegerChunkQuantizer::finiteRange), and each chunk's own range
// then tells the quantizer whether it can clip and which levels it uses, so it tracks neither.
// A block holding non-finite values, or whose minimum or maximum is zero (which of +0 / -0 a
// tie keeps depends on the lane order), is calibrated by the observer instead. The ranges equal
// MinMaxObserver's. Advances twice per value (calibration, then quantization).
// `fetch(first, count)` gives the run's values (runs come in increasing order of `first`).
template <class Fetch, class Advance>
std::vector<Range>
minMaxCalibrateAndQuantizeIntegerBlocks(Fetch&& fetch, const QuantSpec& spec, const BlockLayout& layout,
                                        IntegerRunQuantizer& quantizer, Advance&& advance) {
    std::vector<Range> ranges(static_cast<std::size_t>(layout.blockCount()));
    std::vector<float> chunkLowest;
    std::vector<float> chunkHighest;
    layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
        const float* data = fetch(first, count);
        const auto chunks = static_cast<std::size_t>((count + IntegerChunkQuantizer::kChunk - 1) /
                                                     IntegerChunkQuantizer::kChunk);
        chunkLowest.resize(chunks);
        chunkHighest.resize(chunks);
        bool finite = chunks > 0;
        for (std::size_t c = 0; c < chunks && finite; ++c) {
            const int64_t begin = static_cast<int64_t>(c) * IntegerChunkQuantizer::kChunk;
            const int n = static_cast<int>(std::min<int64_t>(IntegerChunkQuantizer::kChunk, count - begin));
            finite = IntegerChunkQuantizer::finiteRange(data + begin, n, chunkLowest[c], chunkHighest[c]);
            quantizer.passed(n);
        }
        Range range;
        if (finite) {
            range.min = *std::min_element(chunkLowest.begin(), chunkLowest.end());
            range.max = *std::max_element(chunkHighest.begin(), chunkHighest.end());
        }
        const bool fromChunks = finite && range.min != 0.0f && range.max != 0.0f;
        if (!fromChunks) {
            const auto observer = makeObserver(spec);
            observer->observe(std::span<const float>(data, static_cast<std::size_t>(count)));
            range = observer->range();
        }
        advance(count);
        ranges[static_cast<std::size_t>(block)] = range;
        const IntegerQuantizer blockQuantizer = quantizerFor(range, spec);
        if (fromChunks)
            quantizer.runFinite(blockQuantizer, block, data, count, first, chunkLowest, chunkHighest);
        else
            quantizer.run(blockQuantizer, block, data, count, first);
        advance(count);
    });
    return ranges;
}

// One accumulator per block when options.perBlockMetrics asks for them (none otherwise).
std::vector<MetricsAccumulator> blockAccumulators(const AnalysisOptions& options, const BlockLayout& layout,
                                                  uint32_t codes) {
    if (!options.perBlockMetrics)
        return {};
    // Level counting per block costs codeCount bits each: skip it where that would be large.
    const bool trackLevels = static_cast<double>(codes) * static_cast<double>(layout.blockCount()) <= 1 << 27;
    return std::vector<MetricsAccumulator>(static_cast<std::size_t>(layout.blockCount()),
                                           MetricsAccumulator(trackLevels ? codes : 0));
}

// Sizes the integer and dequantized outputs the options ask to keep.
void keepOutputs(const AnalysisOptions& options, std::size_t size, TensorAnalysis& result) {
    if (options.keepIntegers)
        result.integers.resize(size);
    if (options.keepDequantized)
        result.dequantized.resize(size);
}

// Integer formats calibrated min-max on blocks that are long contiguous runs (per tensor too):
// the whole analysis, the values of each run from `fetch` (see minMaxCalibrateAndQuantizeIntegerBlocks).
template <class Fetch>
TensorAnalysis analyzeMinMaxRuns(const std::string& name, const std::vector<int64_t>& shape,
                                 const QuantSpec& spec, const BlockLayout& layout,
                                 const AnalysisOptions& options, Fetch&& fetch) {
    TensorAnalysis result;
    result.name = name;
    result.shape = shape;
    result.spec = spec;
    reportProgress(options.progress, Stage::Statistics, 0.0);
    result.params.qmin = spec.qmin();
    result.params.qmax = spec.qmax();
    const int64_t size = layout.elementCount();
    const uint32_t codes = codeCount(spec.format, result.params.qmin, result.params.qmax);
    MetricsAccumulator total(codes);
    std::vector<MetricsAccumulator> perBlock = blockAccumulators(options, layout, codes);
    keepOutputs(options, static_cast<std::size_t>(size), result);
    // Calibration and quantization both advance over every value: the results stage is all the job.
    const double work = 2.0 * static_cast<double>(size);
    int64_t done = 0;
    int64_t nextReport = kProgressStride;
    auto advance = [&](int64_t count) {
        done += count;
        if (done >= nextReport) {
            nextReport = done + kProgressStride;
            reportProgress(options.progress, Stage::Results, static_cast<double>(done) / work);
        }
    };
    reportProgress(options.progress, Stage::Results, 0.0);
    IntegerRunQuantizer quantizer(options, result, total, perBlock);
    quantizer.setCheckpoint(
        [&] { reportProgress(options.progress, Stage::Results, static_cast<double>(done) / work); });
    result.params = computeQParams(
        minMaxCalibrateAndQuantizeIntegerBlocks(fetch, spec, layout, quantizer, advance), spec);
    result.metrics = total.finish();
    for (const auto& accumulator : perBlock)
        result.blockMetrics.push_back(accumulator.finish());
    reportProgress(options.progress, Stage::Results, 1.0);
    return result;
}

// Which of the loops analyzeTensor runs for these settings.
struct AnalysisRoute {
    bool contiguousIntegerRuns = false;
    bool minMaxWhileQuantizing = false;
    bool calibrateWhileQuantizing = false;
};

AnalysisRoute routeFor(const QuantSpec& spec, const BlockLayout& layout, const AnalysisOptions& options) {
    AnalysisRoute route;
    // Integer formats whose blocks are long contiguous runs are calibrated block by block while
    // they are quantized (min-max: per tensor too; see the two functions).
    route.contiguousIntegerRuns = !options.fixedParams && spec.format.isInteger() &&
                                  blocksAreContiguous(layout) && runLength(layout) >= kShortestQuantizedRun;
    route.minMaxWhileQuantizing = route.contiguousIntegerRuns && spec.calib == CalibMethod::MinMax;
    route.calibrateWhileQuantizing =
        route.minMaxWhileQuantizing ||
        (route.contiguousIntegerRuns && spec.calib != CalibMethod::MovingAverage &&
         layout.granularity() != Granularity::Tensor);
    return route;
}

// The runs of a tensor read from a file slice by slice: each fetch that leaves the current slice
// reads the next one from the run's start, whole runs of about kSliceValues values at a time.
class SliceReader {
public:
    static constexpr int64_t kSliceValues = int64_t{64} << 10; // 256 KB of float32: stays in L2

    SliceReader(const ValueRangeReader& read, int64_t size, FloatBuffer& buffer)
        : m_read(read), m_size(size), m_buffer(buffer) {}

    const float* fetch(int64_t first, int64_t count) {
        if (first < m_first || first + count > m_first + m_count) {
            m_first = first;
            m_count = std::min(m_size - first, std::max(count, kSliceValues));
            m_slice = m_buffer.prepare(static_cast<std::size_t>(m_count)).data();
            m_read(m_first, m_count, m_slice);
        }
        return m_slice + (first - m_first);
    }

private:
    const ValueRangeReader& m_read;
    int64_t m_size = 0;
    FloatBuffer& m_buffer;
    int64_t m_first = 0;
    int64_t m_count = 0;
    float* m_slice = nullptr;
};

// Float codes (fp16, bf16, fp8, nf4): element by element.
template <class Advance>
void quantizeFloatBlocks(std::span<const float> values, const BlockLayout& layout, const QParams& params,
                         const QuantSpec& spec, const AnalysisOptions& options, TensorAnalysis& result,
                         MetricsAccumulator& total, std::vector<MetricsAccumulator>& perBlock,
                         Advance&& advance) {
    layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
        MetricsAccumulator* blockAccumulator =
            perBlock.empty() ? nullptr : &perBlock[static_cast<std::size_t>(block)];
        const float scale = params.scale[static_cast<std::size_t>(block)];
        for (int64_t i = first; i < first + count; ++i) {
            const float x = values[static_cast<std::size_t>(i)];
            uint32_t code = 0;
            bool clipped = false;
            const float xhat = fakeQuantizeFloat(x, scale, spec.format, code, clipped);
            if (options.keepIntegers)
                result.integers[static_cast<std::size_t>(i)] = static_cast<int32_t>(code);
            if (options.keepDequantized)
                result.dequantized[static_cast<std::size_t>(i)] = xhat;
            if (!std::isfinite(x)) {
                total.addNonfinite();
                if (blockAccumulator)
                    blockAccumulator->addNonfinite();
                continue;
            }
            total.add(x, xhat, clipped, code);
            if (blockAccumulator)
                blockAccumulator->add(x, xhat, clipped, code);
        }
        advance(count);
    });
}

// Calibrates every block; `grouped` holds the values block by block when the blocks are not
// contiguous (and is unused otherwise).
std::vector<Range> calibrateLayout(const TensorView& tensor, const QuantSpec& spec, const BlockLayout& layout,
                                   const ProgressCallback& progress, const BlockValues* grouped) {
    reportProgress(progress, Stage::Statistics, 0.0);
    if (spec.calib == CalibMethod::MovingAverage)
        return calibrateMovingAverage(tensor, spec, layout, progress);

    auto observers = makeObservers(spec, layout.blockCount());
    if (blocksAreContiguous(layout)) {
        const auto values = tensor.values();
        int64_t done = 0;
        layout.forEachRun([&](int64_t block, int64_t first, int64_t count) {
            observers[static_cast<std::size_t>(block)]->observe(
                values.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count)));
            done += count;
            reportProgress(progress, Stage::Statistics,
                           0.5 * static_cast<double>(done) / static_cast<double>(values.size()));
        });
    } else {
        for (int64_t b = 0; b < layout.blockCount(); ++b) {
            observers[static_cast<std::size_t>(b)]->observe(grouped->block(b));
            if (b % 256 == 0)
                reportProgress(progress, Stage::Statistics,
                               0.5 * static_cast<double>(b) / layout.blockCount());
        }
    }
    return rangesOf(observers);
}

} // namespace

std::vector<Range> calibrateBlocks(const TensorView& tensor, const QuantSpec& spec,
                                   const ProgressCallback& progress) {
    spec.validateFor(tensor.shape());
    const BlockLayout layout(tensor.shape(), spec);
    std::optional<BlockValues> grouped;
    if (spec.calib != CalibMethod::MovingAverage && !blocksAreContiguous(layout))
        grouped.emplace(tensor.values(), layout);
    return calibrateLayout(tensor, spec, layout, progress, grouped ? &*grouped : nullptr);
}

TensorAnalysis analyzeTensor(const TensorView& tensor, const QuantSpec& spec,
                             const AnalysisOptions& options) {
    spec.validateFor(tensor.shape());
    if (spec.format.isGgml())
        return analyzeGgmlBlocks(tensor, spec, options);
    const BlockLayout layout(tensor.shape(), spec);
    const AnalysisRoute route = routeFor(spec, layout, options);
    if (route.minMaxWhileQuantizing) {
        const float* values = tensor.values().data();
        return analyzeMinMaxRuns(tensor.name(), tensor.shape(), spec, layout, options,
                                 [values](int64_t first, int64_t) { return values + first; });
    }

    // The values block by block, gathered once if calibration or quantization needs them.
    const bool calibrationNeedsGroups =
        !options.fixedParams && spec.calib != CalibMethod::MovingAverage && !blocksAreContiguous(layout);
    const bool quantizationNeedsGroups = spec.format.isInteger() && runLength(layout) < kShortestQuantizedRun;
    std::optional<BlockValues> grouped;
    if (calibrationNeedsGroups || quantizationNeedsGroups)
        grouped.emplace(tensor.values(), layout);
    const BlockValues* groupedValues = grouped ? &*grouped : nullptr;

    TensorAnalysis result;
    result.name = tensor.name();
    result.shape = tensor.shape();
    result.spec = spec;
    const bool calibrateWhileQuantizing = route.calibrateWhileQuantizing;
    if (options.fixedParams) {
        const auto expected = static_cast<std::size_t>(layout.blockCount());
        const QParams& fixed = *options.fixedParams;
        if (fixed.scale.size() != expected || fixed.zeroPoint.size() != expected)
            throw Error(tensor.name(),
                        "the parameters hold " + std::to_string(fixed.scale.size()) + " scales and " +
                            std::to_string(fixed.zeroPoint.size()) + " zero points, but " +
                            std::string(granularityName(spec.granularity)) + " granularity on shape " +
                            shapeToString(tensor.shape()) + " needs " + std::to_string(expected));
        for (std::size_t b = 0; b < expected; ++b)
            if (!(std::isfinite(fixed.scale[b]) && fixed.scale[b] > 0.0f))
                throw Error(tensor.name(), "scale " + std::to_string(fixed.scale[b]) + " of block " +
                                               std::to_string(b) + " is not a positive finite number");
        result.params = fixed;
        result.params.qmin = spec.qmin();
        result.params.qmax = spec.qmax();
    } else if (calibrateWhileQuantizing) {
        reportProgress(options.progress, Stage::Statistics, 0.0);
        result.params.qmin = spec.qmin();
        result.params.qmax = spec.qmax();
    } else {
        const auto ranges = calibrateLayout(tensor, spec, layout, options.progress, groupedValues);
        result.params = computeQParams(ranges, spec);
    }

    const auto values = tensor.values();
    const bool isInteger = spec.format.isInteger();
    const uint32_t codes = codeCount(spec.format, result.params.qmin, result.params.qmax);
    MetricsAccumulator total(codes);
    std::vector<MetricsAccumulator> perBlock = blockAccumulators(options, layout, codes);
    keepOutputs(options, values.size(), result);

    // The results stage takes the second half of the job, or all of it when calibration happens
    // block by block along the way.
    const double resultsStart = calibrateWhileQuantizing ? 0.0 : 0.5;
    const double work = static_cast<double>(values.size());
    int64_t done = 0;
    int64_t nextReport = kProgressStride;
    auto advance = [&](int64_t count) {
        done += count;
        if (done >= nextReport) {
            nextReport = done + kProgressStride;
            reportProgress(options.progress, Stage::Results,
                           resultsStart + (1.0 - resultsStart) * static_cast<double>(done) / work);
        }
    };
    reportProgress(options.progress, Stage::Results, resultsStart);
    if (isInteger) {
        IntegerRunQuantizer quantizer(options, result, total, perBlock);
        // A run can be a whole tensor of hundreds of millions of values: cancellation is checked
        // inside it too, not only between runs.
        quantizer.setCheckpoint([&] {
            reportProgress(options.progress, Stage::Results,
                           resultsStart + (1.0 - resultsStart) * static_cast<double>(done) / work);
        });
        if (calibrateWhileQuantizing)
            result.params = computeQParams(
                calibrateAndQuantizeIntegerBlocks(values, spec, layout, quantizer, advance), spec);
        else
            quantizeIntegerBlocks(values, layout, result.params, quantizer, result, groupedValues, advance);
    } else {
        quantizeFloatBlocks(values, layout, result.params, spec, options, result, total, perBlock, advance);
    }
    result.metrics = total.finish();
    for (const auto& accumulator : perBlock)
        result.blockMetrics.push_back(accumulator.finish());
    reportProgress(options.progress, Stage::Results, 1.0);
    return result;
}

bool analysisGoesInSlices(const std::vector<int64_t>& shape, const QuantSpec& spec,
                          const AnalysisOptions& options) {
    if (options.fixedParams || spec.format.isGgml() || !spec.format.isInteger() ||
        spec.calib != CalibMethod::MinMax || spec.granularity == Granularity::Tensor)
        return false;
    spec.validateFor(shape);
    return routeFor(spec, BlockLayout(shape, spec), options).minMaxWhileQuantizing;
}

TensorAnalysis analyzeTensorInSlices(const std::string& name, const std::vector<int64_t>& shape,
                                     const QuantSpec& spec, const AnalysisOptions& options,
                                     const ValueRangeReader& read, FloatBuffer& buffer) {
    if (!analysisGoesInSlices(shape, spec, options))
        throw Error(name, "these settings need the whole tensor in memory (see analysisGoesInSlices)");
    const BlockLayout layout(shape, spec);
    SliceReader slices(read, layout.elementCount(), buffer);
    return analyzeMinMaxRuns(name, shape, spec, layout, options,
                             [&](int64_t first, int64_t count) { return slices.fetch(first, count); });
}

} // namespace quantscope
