#include "quantscope/model/Value.h"

namespace quantscope {

std::vector<float> Value::toFloats() const {
    if (!isInteger())
        return data;
    return std::vector<float>(ints.begin(), ints.end());
}

Value Value::floats(std::vector<int64_t> shape, std::vector<float> values) {
    Value v;
    v.shape = std::move(shape);
    v.data = std::move(values);
    return v;
}

Value Value::integers(DType dtype, std::vector<int64_t> shape, std::vector<int64_t> values) {
    Value v;
    v.dtype = dtype;
    v.shape = std::move(shape);
    v.ints = std::move(values);
    return v;
}

} // namespace quantscope
