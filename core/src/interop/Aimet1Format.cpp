#include "interop/Aimet1Format.h"

#include "interop/AimetGrid.h"
#include "interop/InteropJson.h"
#include "quantscope/Error.h"

namespace quantscope::interop {
namespace {

constexpr const char* kSections[] = {"param_encodings", "activation_encodings"};
constexpr int kBlockAxis = 1;

} // namespace

bool Aimet1Format::recognizes(std::string_view text) const {
    const Json json = tryParseJson(text);
    if (!json.is_object())
        return false;
    for (const char* section : kSections)
        if (json.contains(section) && json[section].is_array())
            return true;
    return false;
}

QParamsDocument Aimet1Format::read(std::string_view text, const std::string& fileName,
                                   std::vector<ConversionNote>& notes) const {
    const Json json = parseJson(text, fileName);
    if (!json.is_object() || (!json.contains("param_encodings") && !json.contains("activation_encodings")))
        throw Error(fileName,
                    "not AIMET 1.0.0 encodings (expected 'param_encodings' and 'activation_encodings')");
    if (json.contains("version") &&
        !(json["version"].is_string() && json["version"].get<std::string>().rfind("1.", 0) == 0))
        throw Error(fileName, "field 'version' must be \"1.0.0\" for AIMET 1.0.0 encodings (got " +
                                  json["version"].dump() + ")");
    QParamsDocument document;
    for (const char* section : kSections) {
        if (!json.contains(section))
            continue;
        const Json& list = json[section];
        if (!list.is_array())
            throw Error(fileName,
                        std::string("'") + section + "' must be a list of named encodings (AIMET 1.0.0)");
        std::size_t index = 0;
        for (const Json& item : list) {
            const std::string at = fileName + ": " + section + "[" + std::to_string(index++) + "]";
            const EntryFields top(item, at);
            const std::string name = top.string("name");
            const EntryFields fields(item, entryWhere(fileName, name));
            const TensorKind kind =
                std::string(section) == "param_encodings" ? TensorKind::Weight : TensorKind::Activation;
            const std::string dtype = fields.string("dtype");
            const int64_t bits = fields.integer("bw");
            if (dtype == "FLOAT") {
                if (bits != 16) {
                    notes.push_back(
                        {name, "FLOAT" + std::to_string(bits) + " is not quantized; left out", true});
                    continue;
                }
                QParamsEntry entry;
                entry.name = name;
                entry.kind = kind;
                entry.spec.format = QuantFormat::parse("fp16");
                entry.params = gridParams(entry.spec, {1.0f}, {0});
                document.tensors.push_back(std::move(entry));
                continue;
            }
            if (dtype != "INT")
                fields.fail("dtype", "is '" + dtype + "' (allowed: INT, FLOAT)");
            const std::string encType = fields.string("enc_type");
            QParamsEntry entry =
                aimetEntry(name, kind, bits, fields.boolean("is_sym"), fields.floats("scale"),
                           fields.integers("offset"), fields.where());
            if (encType == "PER_TENSOR") {
                if (entry.params->scale.size() != 1)
                    fields.fail("scale", "must hold one value for PER_TENSOR");
                entry.spec.granularity = Granularity::Tensor;
            } else if (encType == "PER_CHANNEL") {
                entry.spec.granularity = Granularity::Channel;
                entry.spec.axis = fields.has("axis") ? static_cast<int>(fields.integer("axis")) : 0;
            } else if (encType == "PER_BLOCK") {
                entry.spec.granularity = Granularity::Group;
                entry.spec.axis = fields.has("axis") ? static_cast<int>(fields.integer("axis")) : kBlockAxis;
                entry.spec.groupSize = fields.integer("block_size");
                if (entry.spec.groupSize < 1)
                    fields.fail("block_size", "must be at least 1");
            } else {
                fields.fail("enc_type",
                            "is '" + encType + "' (supported: PER_TENSOR, PER_CHANNEL, PER_BLOCK)");
            }
            document.tensors.push_back(std::move(entry));
        }
    }
    requireEntries(document, fileName);
    checkImportedDocument(document, fileName);
    return document;
}

std::string Aimet1Format::write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const {
    Json json{
        {"version", "1.0.0"}, {"activation_encodings", Json::array()}, {"param_encodings", Json::array()}};
    for (const QParamsEntry* entry : entriesWithParams(document, notes)) {
        const QuantSpec& spec = entry->spec;
        const char* section = entry->kind == TensorKind::Weight ? "param_encodings" : "activation_encodings";
        if (spec.format.kind == FormatKind::Fp16) {
            json[section].push_back(
                Json{{"name", entry->name}, {"dtype", "FLOAT"}, {"enc_type", "PER_TENSOR"}, {"bw", 16}});
            continue;
        }
        if (!aimetCanWrite(*entry, notes))
            continue;
        Json item{{"name", entry->name}, {"dtype", "INT"}};
        switch (spec.granularity) {
        case Granularity::Tensor:
            item["enc_type"] = "PER_TENSOR";
            break;
        case Granularity::Channel:
            item["enc_type"] = "PER_CHANNEL";
            if (spec.axis != 0)
                noteEntry(
                    notes, *entry,
                    "channel axis " + std::to_string(spec.axis) +
                        " is not part of AIMET 1.0.0 (consumers assume 0); written as an extra 'axis' field");
            break;
        case Granularity::Group:
            item["enc_type"] = "PER_BLOCK";
            if (spec.axis != kBlockAxis)
                noteEntry(
                    notes, *entry,
                    "block axis " + std::to_string(spec.axis) +
                        " is not part of AIMET 1.0.0 (consumers assume 1); written as an extra 'axis' field");
            item["block_size"] = spec.groupSize;
            break;
        }
        if ((spec.granularity == Granularity::Channel && spec.axis != 0) ||
            (spec.granularity == Granularity::Group && spec.axis != kBlockAxis))
            item["axis"] = spec.axis;
        item["is_sym"] = spec.scheme == Scheme::Symmetric && spec.format.isSigned;
        item["bw"] = spec.format.bits;
        item["scale"] = exactFloats(entry->params->scale);
        item["offset"] = aimetOffsets(*entry);
        json[section].push_back(item);
    }
    return json.dump(4) + "\n";
}

} // namespace quantscope::interop
