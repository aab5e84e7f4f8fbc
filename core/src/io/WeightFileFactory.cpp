#include "quantscope/io/WeightFile.h"

#include "quantscope/Error.h"

namespace quantscope {

const TensorInfo* WeightFile::find(const std::string& name) const {
    for (const auto& info : tensors())
        if (info.name == name)
            return &info;
    return nullptr;
}

std::unique_ptr<WeightFile> openWeightFile(const std::string& path) {
    throw Error(path, "unsupported format: no weight-file readers are built in yet");
}

} // namespace quantscope
