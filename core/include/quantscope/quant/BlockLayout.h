#pragma once

#include "quantscope/quant/QuantSpec.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace quantscope {

// Maps the elements of a row-major tensor to the blocks that share one set of parameters.
// The tensor is viewed as [outer, axisLength, inner] around `axis`:
//   tensor:  one block;
//   channel: block = index along the axis;
//   group:   the axis is cut into groups of G (the last one may be shorter); blocks are
//            numbered row-major over the grid [outer, groupsPerAxis, inner].
class BlockLayout {
public:
    BlockLayout(const std::vector<int64_t>& shape, Granularity granularity, int axis, int64_t groupSize);
    BlockLayout(const std::vector<int64_t>& shape, const QuantSpec& spec)
        : BlockLayout(shape, spec.granularity, spec.axis, spec.groupSize) {}

    Granularity granularity() const { return m_granularity; }
    int64_t blockCount() const { return m_blockCount; }
    int64_t elementCount() const { return m_outer * m_axisLength * m_inner; }
    int64_t outer() const { return m_outer; }
    int64_t axisLength() const { return m_axisLength; }
    int64_t inner() const { return m_inner; }
    int64_t groupSize() const { return m_groupSize; }
    int64_t groupsPerAxis() const { return m_groupsPerAxis; }
    // Shape of the block grid: [] for tensor, [C] for channel, the tensor's shape with the axis
    // dimension replaced by the number of groups for group.
    std::vector<int64_t> gridShape() const;

    int64_t blockOf(int64_t element) const;

    // Calls f(block, firstElement, count) for every maximal run of consecutive elements that
    // belong to one block, in element order.
    template <class F> void forEachRun(F&& f) const {
        switch (m_granularity) {
        case Granularity::Tensor:
            f(int64_t{0}, int64_t{0}, elementCount());
            return;
        case Granularity::Channel:
            if (m_inner == 1) {
                // Channels along the last axis: a run is one element; callers that care
                // about speed can use blockOf over rows instead.
                for (int64_t o = 0; o < m_outer; ++o)
                    for (int64_t a = 0; a < m_axisLength; ++a)
                        f(a, o * m_axisLength + a, int64_t{1});
            } else {
                for (int64_t o = 0; o < m_outer; ++o)
                    for (int64_t a = 0; a < m_axisLength; ++a)
                        f(a, (o * m_axisLength + a) * m_inner, m_inner);
            }
            return;
        case Granularity::Group:
            if (m_inner == 1) {
                for (int64_t o = 0; o < m_outer; ++o)
                    for (int64_t g = 0; g < m_groupsPerAxis; ++g) {
                        const int64_t begin = g * m_groupSize;
                        const int64_t count = std::min(m_groupSize, m_axisLength - begin);
                        f(o * m_groupsPerAxis + g, o * m_axisLength + begin, count);
                    }
            } else {
                for (int64_t o = 0; o < m_outer; ++o)
                    for (int64_t a = 0; a < m_axisLength; ++a)
                        for (int64_t i = 0; i < m_inner; ++i)
                            f((o * m_groupsPerAxis + a / m_groupSize) * m_inner + i,
                              (o * m_axisLength + a) * m_inner + i, int64_t{1});
            }
            return;
        }
    }

private:
    Granularity m_granularity;
    std::vector<int64_t> m_shape;
    int m_axis = 0;
    int64_t m_outer = 1;
    int64_t m_axisLength = 1;
    int64_t m_inner = 1;
    int64_t m_groupSize = 1;
    int64_t m_groupsPerAxis = 1;
    int64_t m_blockCount = 1;
};

} // namespace quantscope
