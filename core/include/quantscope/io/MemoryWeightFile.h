#pragma once

#include "quantscope/io/WeightFile.h"

#include <map>
#include <string>
#include <vector>

namespace quantscope {

// Tensors held in memory behind the WeightFile interface, so that values computed at run time
// (a model's activations) are browsed, analysed and exported like the tensors of a file.
class MemoryWeightFile : public WeightFile {
public:
    MemoryWeightFile(std::string path, std::string format, std::map<std::string, std::string> metadata = {});

    // Adds a float32 tensor; a second tensor with the same name is refused (Error).
    void add(Tensor tensor);

    const std::string& path() const override { return m_path; }
    std::string format() const override { return m_format; }
    const std::map<std::string, std::string>& metadata() const override { return m_metadata; }
    const std::vector<TensorInfo>& tensors() const override { return m_infos; }
    Tensor load(const std::string& name) const override;

private:
    std::string m_path;
    std::string m_format;
    std::map<std::string, std::string> m_metadata;
    std::vector<TensorInfo> m_infos;
    std::vector<Tensor> m_tensors;
    std::map<std::string, std::size_t> m_indexByName;
};

} // namespace quantscope
