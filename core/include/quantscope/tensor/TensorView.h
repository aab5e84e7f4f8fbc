#pragma once

#include "quantscope/tensor/Tensor.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// A named float32 tensor whose values are held elsewhere (a Tensor, a FloatBuffer reused across
// tensors): what analysis reads. A Tensor converts to it implicitly; the view is valid while the
// values it points to are.
class TensorView {
public:
    TensorView(const Tensor& tensor) // NOLINT(google-explicit-constructor): a Tensor is a view's source
        : m_name(tensor.name()), m_shape(tensor.shape()), m_values(tensor.values()) {}
    TensorView(std::string name, std::vector<int64_t> shape, std::span<const float> values)
        : m_name(std::move(name)), m_shape(std::move(shape)), m_values(values) {}

    const std::string& name() const { return m_name; }
    const std::vector<int64_t>& shape() const { return m_shape; }
    int rank() const { return static_cast<int>(m_shape.size()); }
    int64_t size() const { return static_cast<int64_t>(m_values.size()); }
    std::span<const float> values() const { return m_values; }

private:
    std::string m_name;
    std::vector<int64_t> m_shape;
    std::span<const float> m_values;
};

} // namespace quantscope
