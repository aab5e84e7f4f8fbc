#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace quantscope {

// Element types of tensors as stored in files. Analysis always works on float32 copies.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, Bool };

// The safetensors spelling: "F32", "BF16", "I8", "BOOL"...
std::string_view dtypeName(DType dtype);
// Parses the safetensors spelling; nullopt for anything else.
std::optional<DType> dtypeFromName(std::string_view name);
std::size_t dtypeSize(DType dtype);
bool dtypeIsFloat(DType dtype);

} // namespace quantscope
