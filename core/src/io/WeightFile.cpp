#include "quantscope/io/WeightFile.h"

#include "quantscope/Error.h"

#include <algorithm>

namespace quantscope {

TensorView WeightFile::loadInto(const std::string& name, FloatBuffer& buffer) const {
    Tensor tensor = load(name);
    std::string tensorName = tensor.name();
    std::vector<int64_t> shape = tensor.shape();
    return TensorView(std::move(tensorName), std::move(shape), buffer.adopt(std::move(tensor)));
}

void WeightFile::decodeRange(const std::string& name, uint64_t, uint64_t, float*) const {
    throw Error(path() + ": " + name, "this " + format() + " reader cannot read part of a tensor");
}

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
