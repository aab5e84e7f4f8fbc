#include "quantscope/tensor/DType.h"

#include <array>
#include <utility>

namespace quantscope {
namespace {

struct DTypeEntry {
    DType dtype;
    std::string_view name;
    std::size_t size;
    bool isFloat;
};

constexpr std::array<DTypeEntry, 15> kDTypes{{
    {DType::F64, "F64", 8, true},
    {DType::F32, "F32", 4, true},
    {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},
    {DType::I64, "I64", 8, false},
    {DType::I32, "I32", 4, false},
    {DType::I16, "I16", 2, false},
    {DType::I8, "I8", 1, false},
    {DType::U64, "U64", 8, false},
    {DType::U32, "U32", 4, false},
    {DType::U16, "U16", 2, false},
    {DType::U8, "U8", 1, false},
    {DType::Bool, "BOOL", 1, false},
    {DType::F8E4M3, "F8_E4M3", 1, true},
    {DType::F8E5M2, "F8_E5M2", 1, true},
}};

const DTypeEntry& entryOf(DType dtype) {
    for (const auto& entry : kDTypes)
        if (entry.dtype == dtype)
            return entry;
    return kDTypes[1];
}

} // namespace

std::string_view dtypeName(DType dtype) {
    return entryOf(dtype).name;
}
std::size_t dtypeSize(DType dtype) {
    return entryOf(dtype).size;
}
bool dtypeIsFloat(DType dtype) {
    return entryOf(dtype).isFloat;
}

std::optional<DType> dtypeFromName(std::string_view name) {
    for (const auto& entry : kDTypes)
        if (entry.name == name)
            return entry.dtype;
    return std::nullopt;
}

} // namespace quantscope
