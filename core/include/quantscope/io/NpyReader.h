#pragma once

#include "quantscope/io/NpyHeader.h"
#include "quantscope/io/ReadOnlyFile.h"
#include "quantscope/io/WeightFile.h"

namespace quantscope {

// A NumPy .npy file: one array, named after the file's stem (w.npy holds the tensor "w").
// Opening reads only the header.
class NpyReader : public WeightFile {
public:
    // Parses the header and checks that the file holds all of the array's data. Throws Error
    // naming the file on a bad magic, an unsupported version or dtype, a malformed header, an
    // overflowing shape or truncated data.
    explicit NpyReader(const std::string& path);

    const std::string& path() const override { return m_file.path(); }
    std::string format() const override { return "npy"; }
    const std::map<std::string, std::string>& metadata() const override { return m_metadata; }
    const std::vector<TensorInfo>& tensors() const override { return m_tensors; }
    Tensor load(const std::string& name) const override;

    const NpyHeader& header() const { return m_header; }

private:
    ReadOnlyFile m_file;
    NpyHeader m_header;
    std::map<std::string, std::string> m_metadata; // .npy has none
    std::vector<TensorInfo> m_tensors;
};

} // namespace quantscope
