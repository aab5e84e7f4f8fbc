#include "interop/AimetLegacyFormat.h"

#include "interop/AimetGrid.h"
#include "interop/InteropJson.h"
#include "quantscope/Error.h"

namespace quantscope::interop {
namespace {

constexpr const char* kSections[] = {"param_encodings", "activation_encodings"};

TensorKind kindOfSection(const std::string& section) {
    return section == "param_encodings" ? TensorKind::Weight : TensorKind::Activation;
}

} // namespace

bool AimetLegacyFormat::recognizes(std::string_view text) const {
    const Json json = tryParseJson(text);
    if (!json.is_object())
        return false;
    for (const char* section : kSections)
        if (json.contains(section) && json[section].is_object())
            return true;
    return false;
}

QParamsDocument AimetLegacyFormat::read(std::string_view text, const std::string& fileName,
                                        std::vector<ConversionNote>& notes) const {
    const Json json = parseJson(text, fileName);
    if (!json.is_object() || (!json.contains("param_encodings") && !json.contains("activation_encodings")))
        throw Error(fileName, "not AIMET encodings (expected 'param_encodings' and 'activation_encodings')");
    QParamsDocument document;
    for (const char* section : kSections) {
        if (!json.contains(section))
            continue;
        const Json& encodings = json[section];
        if (!encodings.is_object())
            throw Error(fileName, std::string("'") + section +
                                      "' must map tensor names to lists of encodings (AIMET 0.6.1); "
                                      "a list of named encodings is AIMET 1.0.0 (--from aimet-1)");
        for (const auto& [name, list] : encodings.items()) {
            const std::string where = entryWhere(fileName, name);
            if (!list.is_array() || list.empty())
                throw Error(where, "must be a non-empty list of encodings");
            const EntryFields first(list[0], where);
            const std::string dtype = first.has("dtype") ? first.string("dtype") : "int";
            const int64_t bits = first.integer("bitwidth");
            if (dtype == "float") {
                if (bits != 16) {
                    notes.push_back(
                        {name, "float" + std::to_string(bits) + " is not quantized; left out", true});
                    continue;
                }
                QParamsEntry entry;
                entry.name = name;
                entry.kind = kindOfSection(section);
                entry.spec.format = QuantFormat::parse("fp16");
                entry.params = gridParams(entry.spec, {1.0f}, {0});
                document.tensors.push_back(std::move(entry));
                continue;
            }
            if (dtype != "int")
                first.fail("dtype", "is '" + dtype + "' (allowed: int, float)");
            std::vector<float> scales;
            std::vector<int64_t> offsets;
            bool symmetric = false;
            for (std::size_t i = 0; i < list.size(); ++i) {
                const EntryFields fields(list[i], where + "[" + std::to_string(i) + "]");
                if (fields.integer("bitwidth") != bits)
                    fields.fail("bitwidth", "differs between the channels of one tensor");
                symmetric = fields.boolean("is_symmetric");
                scales.push_back(fields.real("scale"));
                offsets.push_back(fields.integer("offset"));
            }
            QParamsEntry entry =
                aimetEntry(name, kindOfSection(section), bits, symmetric, std::move(scales), offsets, where);
            document.tensors.push_back(std::move(entry));
        }
    }
    requireEntries(document, fileName);
    checkImportedDocument(document, fileName);
    return document;
}

std::string AimetLegacyFormat::write(const QParamsDocument& document,
                                     std::vector<ConversionNote>& notes) const {
    Json json{
        {"version", "0.6.1"}, {"activation_encodings", Json::object()}, {"param_encodings", Json::object()}};
    for (const QParamsEntry* entry : entriesWithParams(document, notes)) {
        const QuantSpec& spec = entry->spec;
        const char* section = entry->kind == TensorKind::Weight ? "param_encodings" : "activation_encodings";
        if (spec.format.kind == FormatKind::Fp16) {
            json[section][entry->name] = Json::array({Json{{"bitwidth", 16}, {"dtype", "float"}}});
            continue;
        }
        if (!aimetCanWrite(*entry, notes))
            continue;
        if (spec.granularity == Granularity::Group) {
            dropEntry(notes, *entry,
                      "per-group parameters: AIMET 0.6.1 has per-tensor and per-channel encodings only");
            continue;
        }
        if (spec.granularity == Granularity::Channel && spec.axis != 0)
            noteEntry(
                notes, *entry,
                "channel axis " + std::to_string(spec.axis) +
                    " is not recorded: AIMET 0.6.1 per-channel encodings imply the output-channel axis");
        const auto offsets = aimetOffsets(*entry);
        const QParams& params = *entry->params;
        const int64_t levels = (int64_t{1} << spec.format.bits) - 1;
        Json list = Json::array();
        for (std::size_t i = 0; i < params.scale.size(); ++i) {
            const float scale = params.scale[i];
            const float offset = static_cast<float>(offsets[i]);
            // AIMET's min / max are the ends of the grid: offset * scale and (2^b - 1 + offset) * scale.
            list.push_back(Json{
                {"bitwidth", spec.format.bits},
                {"dtype", "int"},
                {"is_symmetric", spec.scheme == Scheme::Symmetric && spec.format.isSigned ? "True" : "False"},
                {"max", exactFloat((static_cast<float>(levels) + offset) * scale)},
                {"min", exactFloat(offset * scale)},
                {"offset", offsets[i]},
                {"scale", exactFloat(scale)}});
        }
        json[section][entry->name] = list;
    }
    return json.dump(4) + "\n";
}

} // namespace quantscope::interop
