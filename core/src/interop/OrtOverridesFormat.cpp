#include "interop/OrtOverridesFormat.h"

#include "interop/InteropJson.h"
#include "quantscope/Error.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <cmath>

namespace quantscope::interop {
namespace {

// ONNX Runtime's QuantType names (quant_utils.py) and the formats they are.
struct QuantTypeName {
    const char* name;
    int bits;
    bool isSigned;
};
constexpr QuantTypeName kQuantTypes[] = {{"QInt8", 8, true},     {"QUInt8", 8, false}, {"QInt16", 16, true},
                                         {"QUInt16", 16, false}, {"QInt4", 4, true},   {"QUInt4", 4, false}};

const char* quantTypeName(const QuantFormat& format) {
    for (const auto& type : kQuantTypes)
        if (format == QuantFormat::integer(type.bits, type.isSigned))
            return type.name;
    return nullptr;
}

bool looksLikeOverride(const Json& value) {
    if (!value.is_array() || value.empty() || !value[0].is_object())
        return false;
    for (const char* key :
         {"quant_type", "scale", "zero_point", "symmetric", "axis", "rmin", "rmax", "reduce_range"})
        if (value[0].contains(key))
            return true;
    return false;
}

} // namespace

bool OrtOverridesFormat::recognizes(std::string_view text) const {
    const Json json = tryParseJson(text);
    if (!json.is_object() || json.empty())
        return false;
    for (const auto& [name, value] : json.items())
        if (!looksLikeOverride(value))
            return false;
    return true;
}

QParamsDocument OrtOverridesFormat::read(std::string_view text, const std::string& fileName,
                                         std::vector<ConversionNote>& notes) const {
    const Json json = parseJson(text, fileName);
    if (!json.is_object())
        throw Error(fileName, "not TensorQuantOverrides (expected an object mapping tensor names to lists)");
    QParamsDocument document;
    for (const auto& [name, list] : json.items()) {
        const std::string where = entryWhere(fileName, name);
        if (!list.is_array() || list.empty())
            throw Error(where, "must be a non-empty list of overrides");
        if (list.size() > 1)
            notes.push_back(
                {name, "only the first override is read (the others apply to single consumers)", false});
        const EntryFields fields(list[0], where);
        QParamsEntry entry;
        entry.name = name;
        std::string type = fields.has("quant_type") ? fields.string("quant_type") : "QUInt8";
        if (type.rfind("QuantType.", 0) == 0)
            type = type.substr(10);
        const QuantTypeName* known = nullptr;
        for (const auto& candidate : kQuantTypes)
            if (type == candidate.name)
                known = &candidate;
        if (!known)
            fields.fail("quant_type",
                        "is '" + type + "' (allowed: QInt8, QUInt8, QInt16, QUInt16, QInt4, QUInt4)");
        const bool symmetric = fields.has("symmetric") && fields.boolean("symmetric");
        entry.spec =
            integerSpec(known->bits, known->isSigned, symmetric ? Scheme::Symmetric : Scheme::Affine, where);
        entry.spec.reduceRange = fields.has("reduce_range") && fields.boolean("reduce_range");
        if (fields.has("axis")) {
            entry.kind = TensorKind::Weight;
            entry.spec.granularity = Granularity::Channel;
            entry.spec.axis = static_cast<int>(fields.integer("axis"));
        } else {
            entry.kind = TensorKind::Activation;
        }
        if (fields.has("scale") != fields.has("zero_point"))
            fields.fail(fields.has("scale") ? "zero_point" : "scale",
                        "is missing: scale and zero_point come together");
        if (fields.has("scale")) {
            if (entry.spec.granularity != Granularity::Tensor)
                fields.fail("scale",
                            "cannot be given with 'axis' (ONNX Runtime overrides scales per tensor only)");
            const int64_t zp = fields.integer("zero_point");
            if (zp < entry.spec.qmin() || zp > entry.spec.qmax())
                fields.fail("zero_point", "is " + std::to_string(zp) + ", outside " + type + "'s range [" +
                                              std::to_string(entry.spec.qmin()) + ", " +
                                              std::to_string(entry.spec.qmax()) + "]");
            entry.params = gridParams(entry.spec, {fields.real("scale")}, {static_cast<int32_t>(zp)});
        } else if (fields.has("rmin") && fields.has("rmax") &&
                   entry.spec.granularity == Granularity::Tensor) {
            const Range range{fields.real("rmin"), fields.real("rmax")};
            if (!std::isfinite(range.min) || !std::isfinite(range.max) || range.min > range.max)
                fields.fail("rmin", "and 'rmax' must be a finite range with rmin <= rmax");
            entry.params = computeQParams(std::span<const Range>(&range, 1), entry.spec);
            notes.push_back({name, "scale and zero point computed from rmin / rmax", false});
        } else {
            notes.push_back({name, "settings only: ONNX Runtime computes the scale", false});
        }
        document.tensors.push_back(std::move(entry));
    }
    requireEntries(document, fileName);
    checkImportedDocument(document, fileName);
    return document;
}

std::string OrtOverridesFormat::write(const QParamsDocument& document,
                                      std::vector<ConversionNote>& notes) const {
    Json json = Json::object();
    for (const auto& entry : document.tensors) {
        const QuantSpec& spec = entry.spec;
        const char* type = quantTypeName(spec.format);
        if (!type) {
            dropEntry(notes, entry, spec.format.name() + " has no ONNX Runtime QuantType");
            continue;
        }
        Json item{{"quant_type", type}, {"symmetric", spec.scheme == Scheme::Symmetric}};
        if (spec.reduceRange)
            item["reduce_range"] = true;
        if (spec.narrowRange)
            noteEntry(notes, entry,
                      "narrow range is not an override (ONNX Runtime's symmetric int8 weights use it)");
        if (spec.granularity == Granularity::Group) {
            dropEntry(notes, entry, "per-group parameters have no TensorQuantOverrides form");
            continue;
        }
        if (spec.granularity == Granularity::Channel) {
            item["axis"] = spec.axis;
            if (entry.params)
                noteEntry(notes, entry,
                          "per-channel scales are not written: an override with an axis lets ONNX "
                          "Runtime compute them");
        } else if (entry.params) {
            item["scale"] = exactFloat(entry.params->scale[0]);
            item["zero_point"] = entry.params->zeroPoint[0];
        }
        json[entry.name] = Json::array({item});
    }
    return json.dump(4) + "\n";
}

} // namespace quantscope::interop
