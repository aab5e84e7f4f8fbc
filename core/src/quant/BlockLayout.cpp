#include "quantscope/quant/BlockLayout.h"

namespace quantscope {

BlockLayout::BlockLayout(const std::vector<int64_t>& shape, Granularity granularity, int axis,
                         int64_t groupSize)
    : m_granularity(granularity), m_shape(shape), m_axis(axis) {
    int64_t total = 1;
    for (int64_t dim : shape)
        total *= dim;
    if (granularity == Granularity::Tensor || shape.empty()) {
        // A scalar has a single block whatever the granularity asks for.
        m_granularity = Granularity::Tensor;
        m_outer = 1;
        m_axisLength = total;
        m_inner = 1;
        m_blockCount = 1;
        return;
    }
    for (int i = 0; i < axis; ++i)
        m_outer *= shape[static_cast<std::size_t>(i)];
    m_axisLength = shape[static_cast<std::size_t>(axis)];
    for (std::size_t i = static_cast<std::size_t>(axis) + 1; i < shape.size(); ++i)
        m_inner *= shape[i];
    if (granularity == Granularity::Channel) {
        m_blockCount = m_axisLength;
        return;
    }
    m_groupSize = groupSize;
    m_groupsPerAxis = (m_axisLength + groupSize - 1) / groupSize;
    m_blockCount = m_outer * m_groupsPerAxis * m_inner;
}

std::vector<int64_t> BlockLayout::gridShape() const {
    switch (m_granularity) {
    case Granularity::Tensor:
        return {};
    case Granularity::Channel:
        return {m_axisLength};
    case Granularity::Group: {
        std::vector<int64_t> grid = m_shape;
        grid[static_cast<std::size_t>(m_axis)] = m_groupsPerAxis;
        return grid;
    }
    }
    return {};
}

int64_t BlockLayout::blockOf(int64_t element) const {
    switch (m_granularity) {
    case Granularity::Tensor:
        return 0;
    case Granularity::Channel:
        return (element / m_inner) % m_axisLength;
    case Granularity::Group: {
        const int64_t i = element % m_inner;
        const int64_t a = (element / m_inner) % m_axisLength;
        const int64_t o = element / (m_inner * m_axisLength);
        return (o * m_groupsPerAxis + a / m_groupSize) * m_inner + i;
    }
    }
    return 0;
}

} // namespace quantscope
