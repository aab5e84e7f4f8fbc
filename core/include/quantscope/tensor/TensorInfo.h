#pragma once

#include "quantscope/tensor/DType.h"

#include <cstdint>
#include <string>
#include <vector>

namespace quantscope {

// What a file says about one tensor, known without reading its data.
struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t elements = 0;
    uint64_t bytes = 0;
    // How the file stores the values when that is more than packed elements of `dtype`: the ggml
    // type of a GGUF tensor ("q4_k", "f16"...). load() still gives float32. Empty otherwise.
    std::string storage;
};

// What `info` shows as a tensor's type: its storage when set, else the dtype's name.
std::string storageName(const TensorInfo& info);

// Product of the dimensions, or nullopt-like failure through the return flag when it overflows
// 2^62 or a dimension is negative. Loaders use it before trusting a shape.
bool checkedElementCount(const std::vector<int64_t>& shape, uint64_t& elements);

std::string shapeToString(const std::vector<int64_t>& shape); // "[256, 64]"

} // namespace quantscope
