#include "TensorBlockInfo.h"

#include "OutputFiles.h"
#include "TextTable.h"

#include "quantscope/Error.h"
#include "quantscope/io/GgufReader.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace quantscope::cli {
namespace {

// Values with 17 significant digits read back to the same double; whole numbers print as such.
std::string formatExact(double value) {
    return formatNumber(value, 17);
}

std::string formatValues(const std::vector<double>& values) {
    if (values.size() == 1)
        return formatExact(values[0]);
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i)
        text += (i > 0 ? ", " : "") + formatExact(values[i]);
    return text + "]";
}

// Where block `block` lies in a row-major tensor: its first element as coordinates.
std::string coordinatesOf(const std::vector<int64_t>& shape, uint64_t element) {
    std::vector<int64_t> index(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        const auto extent = static_cast<uint64_t>(shape[d]);
        index[d] = extent == 0 ? 0 : static_cast<int64_t>(element % extent);
        element = extent == 0 ? 0 : element / extent;
    }
    return shapeToString(index);
}

} // namespace

int showTensorInfo(const WeightFile& file, const std::string& name, std::optional<uint64_t> block,
                   const std::optional<std::string>& jsonPath) {
    const TensorInfo* info = file.find(name);
    if (!info)
        throw Error(file.path() + ": " + name,
                    "no such tensor (see 'quantscope-cli info " + file.path() + "')");
    const auto* gguf = dynamic_cast<const GgufReader*>(&file);
    const uint64_t blockCount = gguf ? gguf->blockCount(name) : 0;
    if (block && blockCount == 0)
        throw Error(file.path() + ": " + name,
                    "has no stored blocks (--block applies to block-quantized GGUF tensors such as q4_k, "
                    "stored here as " +
                        storageName(*info) + ")");
    const std::vector<GgmlBlockField> fields =
        block ? gguf->blockFields(name, *block) : std::vector<GgmlBlockField>{};
    const uint32_t blockElements = gguf ? ggmlTypeTraits(gguf->ggmlType(name)).blockElements : 1;
    const uint64_t first = block ? *block * blockElements : 0;

    if (jsonPath) {
        nlohmann::ordered_json document;
        document["file"] = file.path();
        document["format"] = file.format();
        document["tensor"] = {{"name", info->name},   {"dtype", storageName(*info)},
                              {"shape", info->shape}, {"elements", info->elements},
                              {"bytes", info->bytes}, {"blocks", blockCount}};
        if (block) {
            nlohmann::ordered_json stored = nlohmann::ordered_json::object();
            for (const auto& field : fields)
                stored[field.name] = field.values.size() == 1 ? nlohmann::ordered_json(field.values[0])
                                                              : nlohmann::ordered_json(field.values);
            document["block"] = {{"index", *block},
                                 {"first_element", first},
                                 {"elements", blockElements},
                                 {"start", coordinatesOf(info->shape, first)},
                                 {"fields", stored}};
        }
        // GGUF strings are bytes: invalid UTF-8 is written as U+FFFD rather than failing.
        writeOutput(*jsonPath,
                    document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
        if (*jsonPath == "-")
            return 0;
    }

    std::printf("%s: %s, %s %s, %llu elements, %llu bytes", file.path().c_str(), name.c_str(),
                storageName(*info).c_str(), shapeToString(info->shape).c_str(),
                static_cast<unsigned long long>(info->elements),
                static_cast<unsigned long long>(info->bytes));
    if (blockCount > 0)
        std::printf(", %llu blocks of %u elements", static_cast<unsigned long long>(blockCount),
                    blockElements);
    std::printf("\n");
    if (!block)
        return 0;
    std::printf("block %llu: elements %llu to %llu, starting at %s\n",
                static_cast<unsigned long long>(*block), static_cast<unsigned long long>(first),
                static_cast<unsigned long long>(first + blockElements - 1),
                coordinatesOf(info->shape, first).c_str());
    TextTable table({"field", "values"});
    for (const auto& field : fields)
        table.addRow({field.name, formatValues(field.values)});
    std::printf("%s", table.render().c_str());
    return 0;
}

} // namespace quantscope::cli
