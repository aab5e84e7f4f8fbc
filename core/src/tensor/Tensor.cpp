#include "quantscope/tensor/Tensor.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

namespace quantscope {

Tensor::Tensor(std::string name, std::vector<int64_t> shape, std::vector<float> values)
    : m_name(std::move(name)), m_shape(std::move(shape)), m_values(std::move(values)) {
    uint64_t elements = 0;
    if (!checkedElementCount(m_shape, elements) || elements != m_values.size())
        throw Error(m_name, "shape " + shapeToString(m_shape) + " does not match its " +
                                std::to_string(m_values.size()) + " values");
}

} // namespace quantscope
