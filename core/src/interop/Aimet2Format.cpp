#include "interop/Aimet2Format.h"

#include "interop/InteropJson.h"
#include "quantscope/Error.h"
#include "quantscope/quant/BlockLayout.h"

namespace quantscope::interop {
namespace {

// A flat row-major list as nested lists over `shape` (the block grid).
Json nest(const Json& flat, const std::vector<int64_t>& shape, std::size_t dim, std::size_t& next) {
    Json array = Json::array();
    for (int64_t i = 0; i < shape[dim]; ++i) {
        if (dim + 1 == shape.size())
            array.push_back(flat[next++]);
        else
            array.push_back(nest(flat, shape, dim + 1, next));
    }
    return array;
}

} // namespace

bool Aimet2Format::recognizes(std::string_view text) const {
    const Json json = tryParseJson(text);
    return json.is_object() && json.contains("encodings") && json["encodings"].is_array();
}

QParamsDocument Aimet2Format::read(std::string_view text, const std::string& fileName,
                                   std::vector<ConversionNote>& notes) const {
    const Json json = parseJson(text, fileName);
    if (!json.is_object() || !json.contains("encodings") || !json["encodings"].is_array())
        throw Error(fileName, "not AIMET 2.0.0 encodings (expected a list 'encodings')");
    if (!json.contains("version") || !json["version"].is_string() ||
        json["version"].get<std::string>().rfind("2.", 0) != 0)
        throw Error(fileName, "field 'version' must be \"2.0.0\" for AIMET 2.0.0 encodings");
    QParamsDocument document;
    std::size_t index = 0;
    for (const Json& item : json["encodings"]) {
        const EntryFields top(item, fileName + ": encodings[" + std::to_string(index++) + "]");
        const std::string name = top.string("name");
        const EntryFields fields(item, entryWhere(fileName, name));
        const std::string dtype = fields.string("output_dtype");
        QParamsEntry entry;
        entry.name = name;
        // 2.0.0 does not say which tensors are parameters; a per-channel or per-block one is.
        entry.kind = fields.has("axis") ? TensorKind::Weight : TensorKind::Activation;
        if (dtype == "float16" || dtype == "bfloat16") {
            entry.spec.format = QuantFormat::parse(dtype == "float16" ? "fp16" : "bf16");
            entry.params = gridParams(entry.spec, {1.0f}, {0});
            document.tensors.push_back(std::move(entry));
            continue;
        }
        const bool isSigned = dtype.rfind("int", 0) == 0;
        const std::string digits = dtype.substr(isSigned ? 3 : 4);
        if ((!isSigned && dtype.rfind("uint", 0) != 0) || digits.empty() ||
            digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 2)
            fields.fail("output_dtype",
                        "is '" + dtype + "' (allowed: int2..int16, uint2..uint16, float16, bfloat16)");
        entry.spec = integerSpec(std::stoi(digits), isSigned, Scheme::Affine, fields.where());
        std::vector<float> scales = fields.floats("y_scale");
        std::vector<int64_t> zeroPoints = fields.has("y_zero_point") ? fields.integers("y_zero_point")
                                                                     : std::vector<int64_t>(scales.size(), 0);
        if (zeroPoints.size() == 1 && scales.size() > 1)
            zeroPoints.assign(scales.size(), zeroPoints[0]);
        if (zeroPoints.size() != scales.size())
            fields.fail("y_zero_point", "has " + std::to_string(zeroPoints.size()) +
                                            " values but 'y_scale' has " + std::to_string(scales.size()));
        if (fields.has("block_size")) {
            entry.spec.granularity = Granularity::Group;
            entry.spec.groupSize = fields.integer("block_size");
            if (entry.spec.groupSize < 1)
                fields.fail("block_size", "must be at least 1");
            entry.spec.axis = static_cast<int>(fields.integer("axis"));
        } else if (fields.has("axis")) {
            entry.spec.granularity = Granularity::Channel;
            entry.spec.axis = static_cast<int>(fields.integer("axis"));
        } else if (scales.size() != 1) {
            fields.fail("axis",
                        "is missing: a list of " + std::to_string(scales.size()) + " scales needs an axis");
        }
        std::vector<int32_t> zp;
        for (std::size_t i = 0; i < zeroPoints.size(); ++i) {
            if (zeroPoints[i] < entry.spec.qmin() || zeroPoints[i] > entry.spec.qmax())
                fields.fail("y_zero_point", "value " + std::to_string(zeroPoints[i]) + " (entry " +
                                                std::to_string(i) + ") is outside " + dtype + "'s range [" +
                                                std::to_string(entry.spec.qmin()) + ", " +
                                                std::to_string(entry.spec.qmax()) + "]");
            zp.push_back(static_cast<int32_t>(zeroPoints[i]));
        }
        bool symmetric = true;
        for (int32_t z : zp)
            symmetric = symmetric && z == symmetricZeroPoint(entry.spec);
        entry.spec.scheme = symmetric ? Scheme::Symmetric : Scheme::Affine;
        entry.params = gridParams(entry.spec, std::move(scales), std::move(zp));
        document.tensors.push_back(std::move(entry));
    }
    (void)notes;
    requireEntries(document, fileName);
    checkImportedDocument(document, fileName);
    return document;
}

std::string Aimet2Format::write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const {
    Json json{{"version", "2.0.0"}, {"encodings", Json::array()}};
    for (const QParamsEntry* entry : entriesWithParams(document, notes)) {
        const QuantSpec& spec = entry->spec;
        Json item{{"name", entry->name}};
        if (spec.format.kind == FormatKind::Fp16 || spec.format.kind == FormatKind::Bf16) {
            item["output_dtype"] = spec.format.kind == FormatKind::Fp16 ? "float16" : "bfloat16";
            json["encodings"].push_back(item);
            continue;
        }
        if (!spec.format.isInteger()) {
            dropEntry(notes, *entry, spec.format.name() + " has no AIMET 2.0.0 output_dtype");
            continue;
        }
        if (spec.narrowRange || spec.reduceRange)
            noteEntry(notes, *entry,
                      "narrow / reduce range is not recorded: output_dtype implies the full range");
        const QParams& params = *entry->params;
        Json scale = exactFloats(params.scale);
        Json zeroPoint = params.zeroPoint;
        if (spec.granularity == Granularity::Tensor) {
            scale = scale[0];
            zeroPoint = zeroPoint[0];
        } else if (spec.granularity == Granularity::Group) {
            if (!entry->shape.empty()) {
                const auto grid = BlockLayout(entry->shape, spec).gridShape();
                int64_t count = 1;
                for (int64_t d : grid)
                    count *= d;
                if (count == static_cast<int64_t>(params.scale.size())) {
                    std::size_t next = 0;
                    scale = nest(scale, grid, 0, next);
                    next = 0;
                    zeroPoint = nest(zeroPoint, grid, 0, next);
                }
            } else {
                noteEntry(notes, *entry,
                          "the tensor's shape is unknown: per-block scales are written as a flat list");
            }
        }
        item["output_dtype"] = spec.format.name();
        item["y_scale"] = scale;
        item["y_zero_point"] = zeroPoint;
        if (spec.granularity != Granularity::Tensor)
            item["axis"] = spec.axis;
        if (spec.granularity == Granularity::Group)
            item["block_size"] = spec.groupSize;
        json["encodings"].push_back(item);
    }
    return json.dump(4) + "\n";
}

} // namespace quantscope::interop
