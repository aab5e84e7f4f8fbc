#include "quantscope/io/WeightFile.h"

#include <algorithm>

namespace quantscope {

std::optional<StoredQuantization> WeightFile::storedQuantization(const std::string&) const {
    return std::nullopt;
}

const TensorInfo* WeightFile::find(const std::string& name) const {
    const auto& all = tensors();
    const auto it =
        std::find_if(all.begin(), all.end(), [&](const TensorInfo& info) { return info.name == name; });
    return it == all.end() ? nullptr : &*it;
}

} // namespace quantscope
