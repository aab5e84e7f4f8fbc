#pragma once

#include <cstdint>
#include <vector>

namespace quantscope {

// A tensor flowing through a model graph: float32 values in row-major order. Integer tensors
// (shapes, axes) also keep their exact int64 values in `ints`, since float32 cannot hold every
// int64 and ops such as Reshape need them exactly.
struct Value {
    std::vector<int64_t> shape;
    std::vector<float> data;
    std::vector<int64_t> ints; // exact values of an integer tensor; empty for float tensors
    bool isInteger = false;

    int64_t size() const { return static_cast<int64_t>(data.size()); }
    int rank() const { return static_cast<int>(shape.size()); }
};

} // namespace quantscope
