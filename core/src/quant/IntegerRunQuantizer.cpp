#include "IntegerRunQuantizer.h"

#include <algorithm>

namespace quantscope {

IntegerRunQuantizer::IntegerRunQuantizer(const AnalysisOptions& options, TensorAnalysis& result,
                                         MetricsAccumulator& total, std::vector<MetricsAccumulator>& perBlock)
    : m_options(options), m_result(result), m_total(total), m_perBlock(perBlock),
      m_outputs(options.keepIntegers || options.keepDequantized), m_codes(IntegerChunkQuantizer::kChunk),
      m_scratchIntegers(m_outputs && !options.keepIntegers ? IntegerChunkQuantizer::kChunk : 0),
      m_scratchDequantized(m_outputs && !options.keepDequantized ? IntegerChunkQuantizer::kChunk : 0) {}

void IntegerRunQuantizer::run(const IntegerQuantizer& quantizer, int64_t block, const float* data,
                              int64_t count, int64_t outputOffset) {
    MetricsAccumulator* blockAccumulator =
        m_perBlock.empty() ? nullptr : &m_perBlock[static_cast<std::size_t>(block)];
    for (int64_t begin = 0; begin < count; begin += IntegerChunkQuantizer::kChunk) {
        const int n = static_cast<int>(std::min<int64_t>(IntegerChunkQuantizer::kChunk, count - begin));
        int32_t* integers = nullptr;
        float* dequantized = nullptr;
        if (outputOffset >= 0 && m_outputs) {
            const auto at = static_cast<std::size_t>(outputOffset + begin);
            integers = m_options.keepIntegers ? m_result.integers.data() + at : m_scratchIntegers.data();
            dequantized =
                m_options.keepDequantized ? m_result.dequantized.data() + at : m_scratchDequantized.data();
        }
        const auto chunk = m_chunkQuantizer.run(data + begin, n, quantizer, integers, dequantized);
        m_total.addSums(chunk.sums);
        if (blockAccumulator)
            blockAccumulator->addSums(chunk.sums);
        // Levels: once a tensor's first chunks are in, a chunk rarely lands on a new one.
        const bool totalMarked = m_total.levelsMarked(chunk.lowestCode, chunk.highestCode);
        const bool blockMarked =
            !blockAccumulator || blockAccumulator->levelsMarked(chunk.lowestCode, chunk.highestCode);
        if (totalMarked && blockMarked)
            continue;
        IntegerChunkQuantizer::codes(data + begin, n, quantizer, m_codes.data());
        if (!totalMarked)
            m_total.addCodes(m_codes.data(), static_cast<std::size_t>(n));
        if (!blockMarked)
            blockAccumulator->addCodes(m_codes.data(), static_cast<std::size_t>(n));
    }
}

} // namespace quantscope
