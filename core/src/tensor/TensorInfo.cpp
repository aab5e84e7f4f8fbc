#include "quantscope/tensor/TensorInfo.h"

namespace quantscope {

bool checkedElementCount(const std::vector<int64_t>& shape, uint64_t& elements) {
    constexpr uint64_t kLimit = uint64_t{1} << 62;
    uint64_t count = 1;
    for (int64_t dim : shape) {
        if (dim < 0)
            return false;
        const auto d = static_cast<uint64_t>(dim);
        if (d != 0 && count > kLimit / d)
            return false;
        count *= d;
    }
    elements = count;
    return true;
}

std::string storageName(const TensorInfo& info) {
    return info.storage.empty() ? std::string(dtypeName(info.dtype)) : info.storage;
}

std::string shapeToString(const std::vector<int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0)
            text += ", ";
        text += std::to_string(shape[i]);
    }
    return text + "]";
}

} // namespace quantscope
