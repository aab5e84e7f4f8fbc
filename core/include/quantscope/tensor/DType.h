#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace quantscope {

// Element types of tensors as stored in files. Analysis always works on float32 copies.
// F8E4M3 / F8E5M2 are OCP fp8 (E4M3FN: no infinities, max 448; E5M2: IEEE-like, max 57344), the
// safetensors "F8_E4M3" / "F8_E5M2" of fp8 checkpoints.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, Bool, F8E4M3, F8E5M2 };

// The safetensors spelling: "F32", "BF16", "I8", "BOOL", "F8_E4M3"...
std::string_view dtypeName(DType dtype);
// Parses the safetensors spelling; nullopt for anything else.
std::optional<DType> dtypeFromName(std::string_view name);
std::size_t dtypeSize(DType dtype);
bool dtypeIsFloat(DType dtype);

} // namespace quantscope
