#include "GgmlBlockAnalysis.h"

#include "quantscope/Error.h"
#include "quantscope/io/GgmlBlocks.h"
#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/BlockLayout.h"
#include "quantscope/quant/GgmlBlockQuantizer.h"

#include "io/ElementConversion.h"

#include <cmath>
#include <limits>
#include <memory>
#include <span>

namespace quantscope {
namespace {

// The block's main scale d as stored (fp16; q6_K keeps it last), as a magnitude.
float storedScale(GgmlType type, const std::byte* block) {
    const std::byte* at = type == GgmlType::Q6_K ? block + 208 : block;
    const auto bits =
        static_cast<uint16_t>(std::to_integer<unsigned>(at[0]) | (std::to_integer<unsigned>(at[1]) << 8));
    return std::fabs(io::halfToFloat(bits));
}

} // namespace

TensorAnalysis analyzeGgmlBlocks(const TensorView& tensor, const QuantSpec& spec,
                                 const AnalysisOptions& options) {
    if (options.fixedParams)
        throw Error(tensor.name(),
                    spec.format.name() +
                        " takes the parameters ggml's quantizer chooses from each block's values; "
                        "given parameters cannot be applied");
    const BlockLayout layout(tensor.shape(), spec);
    const GgmlBlockQuantizer quantizer(ggmlTypeOf(spec.format));
    const auto blockSize = static_cast<int64_t>(quantizer.blockElements());
    const int64_t blocks = layout.blockCount();

    TensorAnalysis result;
    result.name = tensor.name();
    result.shape = tensor.shape();
    result.spec = spec;
    result.params.min.resize(static_cast<std::size_t>(blocks));
    result.params.max.resize(static_cast<std::size_t>(blocks));
    result.params.scale.resize(static_cast<std::size_t>(blocks));
    result.params.zeroPoint.assign(static_cast<std::size_t>(blocks), 0);

    const auto values = tensor.values();
    if (options.keepIntegers)
        result.integers.resize(values.size());
    if (options.keepDequantized)
        result.dequantized.resize(values.size());
    MetricsAccumulator total(quantizer.levelCount());
    std::vector<MetricsAccumulator> perBlock;
    if (options.perBlockMetrics)
        perBlock.assign(static_cast<std::size_t>(blocks), MetricsAccumulator(quantizer.levelCount()));

    std::vector<int64_t> positions(static_cast<std::size_t>(blockSize));
    std::vector<float> source(static_cast<std::size_t>(blockSize));
    std::vector<float> decoded(static_cast<std::size_t>(blockSize));
    std::vector<std::byte> bytes(quantizer.blockBytes());
    std::vector<uint8_t> levels(static_cast<std::size_t>(blockSize));
    const auto clippedFlags = std::make_unique<bool[]>(static_cast<std::size_t>(blockSize));
    const std::span<bool> clipped(clippedFlags.get(), static_cast<std::size_t>(blockSize));

    // Block b of the grid [outer, groupsPerAxis, inner] holds axis positions g*G .. g*G + G - 1.
    const int64_t perOuter = layout.groupsPerAxis() * layout.inner();
    const int64_t reportStride = std::max<int64_t>(1, (int64_t{1} << 20) / blockSize);
    reportProgress(options.progress, Stage::Results, 0.0);
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t outer = b / perOuter;
        const int64_t group = (b % perOuter) / layout.inner();
        const int64_t inner = b % layout.inner();
        float lowest = std::numeric_limits<float>::infinity();
        float highest = -std::numeric_limits<float>::infinity();
        for (int64_t a = 0; a < blockSize; ++a) {
            const int64_t at =
                ((outer * layout.axisLength() + group * blockSize + a) * layout.inner()) + inner;
            positions[static_cast<std::size_t>(a)] = at;
            const float x = values[static_cast<std::size_t>(at)];
            const bool finite = std::isfinite(x);
            source[static_cast<std::size_t>(a)] = finite ? x : 0.0f;
            if (finite) {
                lowest = std::min(lowest, x);
                highest = std::max(highest, x);
            }
        }
        quantizer.quantize(source, bytes, levels, clipped);
        dequantizeGgmlBlocks(quantizer.type(), bytes.data(), 1, decoded.data());

        const auto index = static_cast<std::size_t>(b);
        result.params.min[index] = lowest <= highest ? lowest : 0.0f;
        result.params.max[index] = lowest <= highest ? highest : 0.0f;
        result.params.scale[index] = storedScale(quantizer.type(), bytes.data());
        MetricsAccumulator* blockAccumulator = perBlock.empty() ? nullptr : &perBlock[index];
        for (int64_t a = 0; a < blockSize; ++a) {
            const auto i = static_cast<std::size_t>(a);
            const auto at = static_cast<std::size_t>(positions[i]);
            const float x = values[at];
            if (options.keepIntegers)
                result.integers[at] = levels[i];
            if (options.keepDequantized)
                result.dequantized[at] = decoded[i];
            if (!std::isfinite(x)) {
                total.addNonfinite();
                if (blockAccumulator)
                    blockAccumulator->addNonfinite();
                continue;
            }
            total.add(x, decoded[i], clippedFlags[i], levels[i]);
            if (blockAccumulator)
                blockAccumulator->add(x, decoded[i], clippedFlags[i], levels[i]);
        }
        if (b % reportStride == 0)
            reportProgress(options.progress, Stage::Results,
                           static_cast<double>(b) / static_cast<double>(blocks));
    }
    result.metrics = total.finish();
    for (const auto& accumulator : perBlock)
        result.blockMetrics.push_back(accumulator.finish());
    reportProgress(options.progress, Stage::Results, 1.0);
    return result;
}

} // namespace quantscope
