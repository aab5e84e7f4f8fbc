#pragma once

#include <cstdint>
#include <vector>

namespace quantscope {

// The clipping range seen by calibration for one block (a tensor, a channel or a group).
struct Range {
    float min = 0.0f;
    float max = 0.0f;
};

// Quantization parameters, one entry per block (row-major over the block grid of BlockLayout).
// For float formats zero_point is 0 and scale multiplies the code (1 for fp16 / bf16).
struct QParams {
    std::vector<float> min; // calibrated range, before zero is included
    std::vector<float> max;
    std::vector<float> scale;
    std::vector<int32_t> zeroPoint;
    int64_t qmin = 0; // integer range; 0, 0 for float formats
    int64_t qmax = 0;

    std::size_t blockCount() const { return scale.size(); }
};

} // namespace quantscope
