#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quantscope {

// ggml's tensor types with ggml's own enum values (ggml.h `enum ggml_type`): a GGUF tensor info
// stores these numbers. Ids that ggml removed (4, 5, 31-33, 36-38) are not listed.
enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
};

// What a ggml type stores: `blockElements` values in `blockBytes` bytes (1 and the element size
// for plain types), from ggml's type traits and the block structs of ggml-common.h.
struct GgmlTypeTraits {
    GgmlType type;
    std::string_view name; // ggml_type_name(): "f32", "q4_K"... lowercased here: "q4_k"
    uint32_t blockElements;
    uint32_t blockBytes;
    bool readable; // quantscope decodes it to float32 (GgmlBlocks.h)
};

// The traits of ggml type id `id`, nullopt for an id ggml does not define.
std::optional<GgmlTypeTraits> ggmlTypeTraits(uint32_t id);
const GgmlTypeTraits& ggmlTypeTraits(GgmlType type);

// "f32, f16, bf16, q4_0, ..." — the types quantscope reads, for error messages.
std::string readableGgmlTypeNames();

} // namespace quantscope
