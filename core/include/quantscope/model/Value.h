#pragma once

#include "quantscope/tensor/DType.h"

#include <cstdint>
#include <vector>

namespace quantscope {

// A tensor flowing through a model graph, row-major, with its element type. Floating-point
// tensors (F32, F64, F16, BF16) keep their elements as float32 in `data`; integer and Bool
// tensors keep them exactly as int64 in `ints` (Bool as 0 / 1), since float32 cannot hold every
// int64 and ops such as Reshape need shapes exactly. Only one of the two vectors is filled.
struct Value {
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    std::vector<float> data;   // elements of a floating-point tensor
    std::vector<int64_t> ints; // elements of an integer or Bool tensor

    bool isInteger() const { return !dtypeIsFloat(dtype); }
    bool isBool() const { return dtype == DType::Bool; }
    int64_t size() const { return static_cast<int64_t>(isInteger() ? ints.size() : data.size()); }
    int rank() const { return static_cast<int>(shape.size()); }
    // Element i as a double (exact for floats and for integers below 2^53).
    double number(int64_t i) const {
        return isInteger() ? static_cast<double>(ints[i]) : static_cast<double>(data[i]);
    }
    // The elements as float32, whatever the type (for callers that only handle floats).
    std::vector<float> toFloats() const;

    static Value floats(std::vector<int64_t> shape, std::vector<float> values);
    static Value integers(DType dtype, std::vector<int64_t> shape, std::vector<int64_t> values);
};

} // namespace quantscope
