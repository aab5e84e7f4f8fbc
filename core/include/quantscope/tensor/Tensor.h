#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// A named float32 tensor in row-major (C) order: what every analysis works on.
class Tensor {
public:
    Tensor() = default;
    Tensor(std::string name, std::vector<int64_t> shape, std::vector<float> values);

    const std::string& name() const { return m_name; }
    const std::vector<int64_t>& shape() const { return m_shape; }
    int rank() const { return static_cast<int>(m_shape.size()); }
    int64_t size() const { return static_cast<int64_t>(m_values.size()); }

    std::span<const float> values() const { return m_values; }
    std::span<float> values() { return m_values; }

private:
    std::string m_name;
    std::vector<int64_t> m_shape;
    std::vector<float> m_values;
};

} // namespace quantscope
