#pragma once

#include "quantscope/tensor/DType.h"
#include "quantscope/tensor/Tensor.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quantscope {

// The header of a NumPy .npy array (format versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a
// version, a little-endian header length, then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. Shared by the .npy and .npz readers
// and the .npy writer. Parsing treats the bytes as hostile; errors name `subject` (the file, or
// "archive: entry" for .npz).
class NpyHeader {
public:
    // Enough leading bytes to know the whole header's length (magic, version, length field).
    static constexpr std::size_t kPrefixBytes = 12;
    // Longest header text accepted; NumPy writes well under a kilobyte even for many dimensions.
    static constexpr uint64_t kMaxHeaderTextBytes = 1 << 20;

    // From the first bytes of a file (at least 10; 12 for versions 2 and 3), the offset at which
    // the data starts: the size of the whole header. Checks magic and version.
    static uint64_t headerSize(std::span<const std::byte> prefix, const std::string& subject);

    // Parses a complete header; `bytes` holds at least headerSize(bytes) bytes.
    static NpyHeader parse(std::span<const std::byte> bytes, const std::string& subject);

    // A version 1.0 header for a little-endian C-order array of `descr` (such as "<f4"), padded
    // with spaces so the data starts on a 64-byte boundary as NumPy does.
    static std::string encode(std::string_view descr, const std::vector<int64_t>& shape);

    // The NumPy type string of a dtype in little-endian order: "<f4", "|i1", "|b1"...
    static std::string descrOf(DType dtype);

    int majorVersion() const { return m_majorVersion; }
    const std::string& descr() const { return m_descr; }
    DType dtype() const { return m_dtype; }
    bool bigEndian() const { return m_bigEndian; }
    bool fortranOrder() const { return m_fortranOrder; }
    const std::vector<int64_t>& shape() const { return m_shape; }
    uint64_t elements() const { return m_elements; }
    uint64_t dataOffset() const { return m_dataOffset; }
    uint64_t dataBytes() const { return m_dataBytes; }

    TensorInfo info(const std::string& name) const;

    // Converts the array's data (at least dataBytes() bytes) to a row-major float32 tensor,
    // reordering Fortran-order arrays.
    Tensor decode(const std::string& name, std::span<const std::byte> data) const;

private:
    int m_majorVersion = 1;
    std::string m_descr;
    DType m_dtype = DType::F32;
    bool m_bigEndian = false;
    bool m_fortranOrder = false;
    std::vector<int64_t> m_shape;
    uint64_t m_elements = 0;
    uint64_t m_dataOffset = 0;
    uint64_t m_dataBytes = 0;
};

} // namespace quantscope
