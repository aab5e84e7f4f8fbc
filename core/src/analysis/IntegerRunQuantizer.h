#pragma once

#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include "IntegerChunkQuantizer.h"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace quantscope {

// Integer formats in tensor analysis: quantizes runs of values of one block with the vectorised
// chunk quantizer, writes the integers / dequantized values the options ask for and adds the
// error sums and the levels used to the tensor's and the block's accumulators.
class IntegerRunQuantizer {
public:
    IntegerRunQuantizer(const AnalysisOptions& options, TensorAnalysis& result, MetricsAccumulator& total,
                        std::vector<MetricsAccumulator>& perBlock);

    bool writesOutputs() const { return m_outputs; }

    // Called about every million values processed, also inside one long run (a whole tensor per
    // tensor): the analysis checks there whether it was cancelled.
    void setCheckpoint(std::function<void()> checkpoint) { m_checkpoint = std::move(checkpoint); }
    // Counts `count` values as processed (the quantizer's own runs do this per chunk).
    void passed(int64_t count);

    // outputOffset: where the run's integers / dequantized values go, or -1 for nowhere.
    void run(const IntegerQuantizer& quantizer, int64_t block, const float* data, int64_t count,
             int64_t outputOffset);
    // The same for a run of finite values whose chunks' smallest and largest values are known
    // (IntegerChunkQuantizer::finiteRange of each kChunk values): see IntegerChunkQuantizer::runFinite.
    void runFinite(const IntegerQuantizer& quantizer, int64_t block, const float* data, int64_t count,
                   int64_t outputOffset, std::span<const float> chunkLowest,
                   std::span<const float> chunkHighest);

private:
    struct Outputs {
        int32_t* integers = nullptr;
        float* dequantized = nullptr;
    };
    Outputs outputs(int64_t outputOffset, int64_t begin);
    // Adds a chunk's sums and levels to the accumulators.
    void add(const IntegerChunkQuantizer::Result& chunk, const IntegerQuantizer& quantizer, int64_t block,
             const float* data, int count);
    const AnalysisOptions& m_options;
    TensorAnalysis& m_result;
    MetricsAccumulator& m_total;
    std::vector<MetricsAccumulator>& m_perBlock;
    bool m_outputs;
    IntegerChunkQuantizer m_chunkQuantizer;
    std::vector<uint32_t> m_codes;
    std::vector<int32_t> m_scratchIntegers;
    std::vector<float> m_scratchDequantized;
    std::function<void()> m_checkpoint;
    int64_t m_sinceCheckpoint = 0;
};

} // namespace quantscope
