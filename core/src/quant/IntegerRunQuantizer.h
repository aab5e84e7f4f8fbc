#pragma once

#include "quantscope/metrics/MetricsAccumulator.h"
#include "quantscope/quant/TensorAnalysis.h"
#include "quantscope/quant/ValueQuantizer.h"

#include "IntegerChunkQuantizer.h"

#include <cstdint>
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

    // outputOffset: where the run's integers / dequantized values go, or -1 for nowhere.
    void run(const IntegerQuantizer& quantizer, int64_t block, const float* data, int64_t count,
             int64_t outputOffset);

private:
    const AnalysisOptions& m_options;
    TensorAnalysis& m_result;
    MetricsAccumulator& m_total;
    std::vector<MetricsAccumulator>& m_perBlock;
    bool m_outputs;
    IntegerChunkQuantizer m_chunkQuantizer;
    std::vector<uint32_t> m_codes;
    std::vector<int32_t> m_scratchIntegers;
    std::vector<float> m_scratchDequantized;
};

} // namespace quantscope
