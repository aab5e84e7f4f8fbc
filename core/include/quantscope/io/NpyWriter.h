#pragma once

#include "quantscope/tensor/DType.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// Writes arrays as NumPy .npy files (format 1.0, little endian, C order) that np.load reads.
// Files are written atomically: a failure leaves any previous file untouched.
class NpyWriter {
public:
    // Throws Error naming `path` when the shape does not match the number of values or the file
    // cannot be written.
    static void writeFloat32(const std::string& path, const std::vector<int64_t>& shape,
                             std::span<const float> values);

    // Writes integers in the narrowest NumPy type that holds them all (see narrowestIntegerType)
    // and returns that type.
    static DType writeIntegers(const std::string& path, const std::vector<int64_t>& shape,
                               std::span<const int32_t> values);

    // The smallest of int8/uint8, int16/uint16 or int32 that holds every value, choosing the
    // unsigned type when no value is negative (NumPy's min_scalar_type rule). Empty: uint8.
    static DType narrowestIntegerType(std::span<const int32_t> values);

    // The complete file contents, for callers that store them elsewhere. `subject` names the
    // array in errors.
    static std::string encodeFloat32(const std::vector<int64_t>& shape, std::span<const float> values,
                                     const std::string& subject = "array");
    static std::string encodeIntegers(const std::vector<int64_t>& shape, std::span<const int32_t> values,
                                      const std::string& subject = "array");
};

} // namespace quantscope
