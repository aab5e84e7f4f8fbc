#include "quantscope/io/GgmlType.h"

#include <array>

namespace quantscope {
namespace {

// Block sizes and byte sizes of ggml-common.h's block structs (QK_K = 256 for the K and IQ types).
constexpr std::array<GgmlTypeTraits, 34> kTypes{{
    {GgmlType::F32, "f32", 1, 4, true},
    {GgmlType::F16, "f16", 1, 2, true},
    {GgmlType::BF16, "bf16", 1, 2, true},
    {GgmlType::F64, "f64", 1, 8, true},
    {GgmlType::I8, "i8", 1, 1, true},
    {GgmlType::I16, "i16", 1, 2, true},
    {GgmlType::I32, "i32", 1, 4, true},
    {GgmlType::I64, "i64", 1, 8, true},
    {GgmlType::Q4_0, "q4_0", 32, 18, true},
    {GgmlType::Q4_1, "q4_1", 32, 20, true},
    {GgmlType::Q5_0, "q5_0", 32, 22, true},
    {GgmlType::Q5_1, "q5_1", 32, 24, true},
    {GgmlType::Q8_0, "q8_0", 32, 34, true},
    {GgmlType::Q2_K, "q2_k", 256, 84, true},
    {GgmlType::Q3_K, "q3_k", 256, 110, true},
    {GgmlType::Q4_K, "q4_k", 256, 144, true},
    {GgmlType::Q5_K, "q5_k", 256, 176, true},
    {GgmlType::Q6_K, "q6_k", 256, 210, true},
    {GgmlType::IQ4_NL, "iq4_nl", 32, 18, true},
    {GgmlType::IQ4_XS, "iq4_xs", 256, 136, true},
    {GgmlType::MXFP4, "mxfp4", 32, 17, true},
    {GgmlType::Q8_1, "q8_1", 32, 36, false},
    {GgmlType::Q8_K, "q8_k", 256, 292, false},
    {GgmlType::IQ2_XXS, "iq2_xxs", 256, 66, false},
    {GgmlType::IQ2_XS, "iq2_xs", 256, 74, false},
    {GgmlType::IQ3_XXS, "iq3_xxs", 256, 98, false},
    {GgmlType::IQ1_S, "iq1_s", 256, 50, false},
    {GgmlType::IQ3_S, "iq3_s", 256, 110, false},
    {GgmlType::IQ2_S, "iq2_s", 256, 82, false},
    {GgmlType::IQ1_M, "iq1_m", 256, 56, false},
    {GgmlType::TQ1_0, "tq1_0", 256, 54, false},
    {GgmlType::TQ2_0, "tq2_0", 256, 66, false},
    {GgmlType::NVFP4, "nvfp4", 64, 36, false},
    {GgmlType::Q1_0, "q1_0", 128, 18, false},
}};

} // namespace

std::optional<GgmlTypeTraits> ggmlTypeTraits(uint32_t id) {
    for (const auto& traits : kTypes)
        if (static_cast<uint32_t>(traits.type) == id)
            return traits;
    return std::nullopt;
}

const GgmlTypeTraits& ggmlTypeTraits(GgmlType type) {
    for (const auto& traits : kTypes)
        if (traits.type == type)
            return traits;
    return kTypes[0]; // unreachable: every enumerator is in the table
}

std::string readableGgmlTypeNames() {
    std::string names;
    for (const auto& traits : kTypes) {
        if (!traits.readable)
            continue;
        if (!names.empty())
            names += ", ";
        names += traits.name;
    }
    return names;
}

} // namespace quantscope
