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
    for (int64_t begin = 0; begin < count; begin += IntegerChunkQuantizer::kChunk) {
        const int n = static_cast<int>(std::min<int64_t>(IntegerChunkQuantizer::kChunk, count - begin));
        const Outputs out = outputs(outputOffset, begin);
        add(m_chunkQuantizer.run(data + begin, n, quantizer, out.integers, out.dequantized), quantizer, block,
            data + begin, n);
        passed(n);
    }
}

void IntegerRunQuantizer::passed(int64_t count) {
    constexpr int64_t kCheckpointStride = int64_t{1} << 20;
    m_sinceCheckpoint += count;
    if (m_sinceCheckpoint >= kCheckpointStride && m_checkpoint) {
        m_sinceCheckpoint = 0;
        m_checkpoint();
    }
}

void IntegerRunQuantizer::runFinite(const IntegerQuantizer& quantizer, int64_t block, const float* data,
                                    int64_t count, int64_t outputOffset, std::span<const float> chunkLowest,
                                    std::span<const float> chunkHighest) {
    for (int64_t begin = 0, chunk = 0; begin < count; begin += IntegerChunkQuantizer::kChunk, ++chunk) {
        const int n = static_cast<int>(std::min<int64_t>(IntegerChunkQuantizer::kChunk, count - begin));
        const Outputs out = outputs(outputOffset, begin);
        const auto c = static_cast<std::size_t>(chunk);
        add(IntegerChunkQuantizer::runFinite(data + begin, n, quantizer, chunkLowest[c], chunkHighest[c],
                                             out.integers, out.dequantized),
            quantizer, block, data + begin, n);
        passed(n);
    }
}

IntegerRunQuantizer::Outputs IntegerRunQuantizer::outputs(int64_t outputOffset, int64_t begin) {
    if (outputOffset < 0 || !m_outputs)
        return {};
    const auto at = static_cast<std::size_t>(outputOffset + begin);
    return {m_options.keepIntegers ? m_result.integers.data() + at : m_scratchIntegers.data(),
            m_options.keepDequantized ? m_result.dequantized.data() + at : m_scratchDequantized.data()};
}

void IntegerRunQuantizer::add(const IntegerChunkQuantizer::Result& chunk, const IntegerQuantizer& quantizer,
                              int64_t block, const float* data, int count) {
    MetricsAccumulator* blockAccumulator =
        m_perBlock.empty() ? nullptr : &m_perBlock[static_cast<std::size_t>(block)];
    m_total.addSums(chunk.sums);
    if (blockAccumulator)
        blockAccumulator->addSums(chunk.sums);
    // Levels: once a tensor's first chunks are in, a chunk rarely lands on a new one.
    const bool totalMarked = m_total.levelsMarked(chunk.lowestCode, chunk.highestCode);
    const bool blockMarked =
        !blockAccumulator || blockAccumulator->levelsMarked(chunk.lowestCode, chunk.highestCode);
    if (totalMarked && blockMarked)
        return;
    IntegerChunkQuantizer::codes(data, count, quantizer, m_codes.data());
    if (!totalMarked)
        m_total.addCodes(m_codes.data(), static_cast<std::size_t>(count));
    if (!blockMarked)
        blockAccumulator->addCodes(m_codes.data(), static_cast<std::size_t>(count));
}

} // namespace quantscope
