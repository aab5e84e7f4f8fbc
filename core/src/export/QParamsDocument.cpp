#include "quantscope/export/QParamsDocument.h"

#include "quantscope/Error.h"
#include "quantscope/io/AtomicFile.h"
#include "quantscope/io/AtomicFileSet.h"
#include "quantscope/io/NpyWriter.h"
#include "quantscope/io/NpzReader.h"
#include "quantscope/io/NpzWriter.h"
#include "quantscope/io/ReadOnlyFile.h"
#include "quantscope/io/Sha256.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <sys/stat.h>

namespace quantscope {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kFormatName = "quantscope-qparams";
constexpr int kVersion = 1;

Json fileJson(const std::optional<FileReference>& file) {
    if (!file)
        return nullptr;
    Json json{{"path", file->path}, {"sha256", file->sha256}, {"bytes", file->bytes}};
    if (file->samples)
        json["samples"] = *file->samples;
    return json;
}

// JSON numbers cannot be NaN or infinite; such values are written as null.
Json number(double value) {
    return std::isfinite(value) ? Json(value) : Json(nullptr);
}

Json floatArray(const std::vector<float>& values) {
    Json array = Json::array();
    for (float v : values)
        array.push_back(number(static_cast<double>(v)));
    return array;
}

Json metricsJson(const ErrorMetrics& m) {
    Json json{{"mse", number(m.mse)},
              {"rmse", number(m.rmse)},
              {"mean_abs_error", number(m.meanAbsError)},
              {"max_abs_error", number(m.maxAbsError)},
              {"sqnr_db", m.sqnrNote.empty() ? number(m.sqnrDb) : Json(nullptr)}};
    if (!m.sqnrNote.empty())
        json["sqnr_note"] = m.sqnrNote;
    json["cosine"] = number(m.cosine);
    json["clipped_fraction"] = number(m.clippedFraction);
    json["clip_mse"] = number(m.clipMse);
    json["round_mse"] = number(m.roundMse);
    json["levels_used"] = m.levelsUsed;
    json["count"] = m.count;
    json["nonfinite"] = m.nonfinite;
    return json;
}

// Collects the long arrays of a document for its .npz sidecar; the JSON refers to each by file and key.
class SidecarWriter {
public:
    explicit SidecarWriter(std::string fileName) : m_fileName(std::move(fileName)) {}

    // The entry's array inline, or a reference to it in the sidecar when it is long.
    Json floats(const QParamsEntry& entry, const char* field, const std::vector<float>& values) {
        if (values.size() <= QParamsDocument::kSidecarThreshold)
            return floatArray(values);
        const std::string key = keyFor(entry, field);
        m_arrays.emplace_back(key,
                              NpyWriter::encodeFloat32({static_cast<int64_t>(values.size())}, values, key));
        return reference(key);
    }
    Json integers(const QParamsEntry& entry, const char* field, const std::vector<int32_t>& values) {
        if (values.size() <= QParamsDocument::kSidecarThreshold)
            return Json(values);
        const std::string key = keyFor(entry, field);
        m_arrays.emplace_back(key,
                              NpyWriter::encodeIntegers({static_cast<int64_t>(values.size())}, values, key));
        return reference(key);
    }
    bool empty() const { return m_arrays.empty(); }
    std::string encode() const { return NpzWriter::encode(m_arrays, m_fileName); }

private:
    // "<tensor>/<field>"; an activation sharing a weight's name gets "#activation" after its name.
    std::string keyFor(const QParamsEntry& entry, const char* field) {
        std::string base = entry.name;
        if (entry.kind == TensorKind::Activation && m_bases.count(base + "/" + field))
            base += "#activation";
        m_bases.insert(base + "/" + field);
        return base + "/" + field;
    }
    Json reference(const std::string& key) const { return Json{{"file", m_fileName}, {"key", key}}; }

    std::string m_fileName;
    std::vector<std::pair<std::string, std::string>> m_arrays;
    std::set<std::string> m_bases;
};

// Opens the sidecars a document refers to (each once) and reads arrays from them. A sidecar must
// be a plain .npz file name beside the JSON: a hostile document cannot point elsewhere.
class SidecarReader {
public:
    explicit SidecarReader(const std::string& documentPath) {
        const auto slash = documentPath.find_last_of('/');
        m_directory = slash == std::string::npos ? std::string() : documentPath.substr(0, slash + 1);
    }

    std::vector<float> load(const Json& reference, const std::string& where, const std::string& field) {
        const auto fail = [&](const std::string& what) -> void {
            throw Error(where, "field '" + field + "' " + what);
        };
        if (!reference.contains("file") || !reference.at("file").is_string() || !reference.contains("key") ||
            !reference.at("key").is_string())
            fail("must be an array, or an object {\"file\": \"NAME.qparams.npz\", \"key\": \"...\"}");
        const std::string file = reference.at("file").get<std::string>();
        if (file.empty() || file.find('/') != std::string::npos || file.find('\\') != std::string::npos ||
            file == "." || file == ".." || file.size() < 4 || file.compare(file.size() - 4, 4, ".npz") != 0)
            fail("refers to '" + file + "'; a sidecar must be an .npz file beside the document");
        try {
            auto& archive = m_open[file];
            if (!archive)
                archive = std::make_unique<NpzReader>(m_directory + file);
            const Tensor array = archive->load(reference.at("key").get<std::string>());
            return {array.values().begin(), array.values().end()};
        } catch (const Error& error) {
            throw Error(where, "field '" + field + "': " + error.what());
        }
    }

private:
    std::string m_directory;
    std::map<std::string, std::unique_ptr<NpzReader>> m_open;
};

Json entryJson(const QParamsEntry& entry, SidecarWriter* sidecar) {
    const QuantSpec& spec = entry.spec;
    Json json{{"name", entry.name},
              {"kind", std::string(tensorKindName(entry.kind))},
              {"shape", entry.shape},
              {"dtype", spec.format.name()},
              {"bits", spec.format.storageBits()},
              {"signed", spec.format.isSigned},
              {"scheme", std::string(schemeName(spec.scheme))},
              {"granularity", std::string(granularityName(spec.granularity))},
              {"axis", spec.granularity == Granularity::Tensor ? Json(nullptr) : Json(spec.axis)},
              {"group_size", spec.granularity == Granularity::Group ? Json(spec.groupSize) : Json(nullptr)},
              {"qmin", spec.qmin()},
              {"qmax", spec.qmax()},
              {"narrow_range", spec.narrowRange},
              {"reduce_range", spec.reduceRange}};
    Json calib{{"method", std::string(calibMethodName(spec.calib))},
               {"percentile", spec.calib == CalibMethod::Percentile ? Json(spec.percentile) : Json(nullptr)}};
    if (spec.calib == CalibMethod::MovingAverage)
        calib["ema_constant"] = spec.emaConstant;
    json["calib"] = calib;
    // ggml's block formats are settings only: the quantizer chooses every block's parameters itself.
    const bool writesParams = entry.params && !spec.format.isGgml();
    if (writesParams && sidecar) {
        json["min"] = sidecar->floats(entry, "min", entry.params->min);
        json["max"] = sidecar->floats(entry, "max", entry.params->max);
        json["scale"] = sidecar->floats(entry, "scale", entry.params->scale);
        json["zero_point"] = sidecar->integers(entry, "zero_point", entry.params->zeroPoint);
    } else if (writesParams) {
        json["min"] = floatArray(entry.params->min);
        json["max"] = floatArray(entry.params->max);
        json["scale"] = floatArray(entry.params->scale);
        json["zero_point"] = entry.params->zeroPoint;
    }
    if (entry.metrics)
        json["metrics"] = metricsJson(*entry.metrics);
    if (entry.stored)
        json["stored"] = true;
    return json;
}

// Reads fields of one JSON object, naming the document, the entry and the field in errors.
class FieldReader {
public:
    FieldReader(const Json& object, std::string where, SidecarReader* sidecar = nullptr)
        : m_object(object), m_where(std::move(where)), m_sidecar(sidecar) {}

    bool has(const char* key) const { return m_object.contains(key) && !m_object.at(key).is_null(); }

    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw Error(m_where, "field '" + key + "' " + what);
    }

    const Json& get(const char* key) const {
        if (!m_object.contains(key))
            fail(key, "is missing");
        return m_object.at(key);
    }
    std::string string(const char* key) const {
        const Json& value = get(key);
        if (!value.is_string())
            fail(key, "must be a string");
        return value.get<std::string>();
    }
    std::string string(const char* key, const std::string& fallback) const {
        return has(key) ? string(key) : fallback;
    }
    int64_t integer(const char* key) const {
        const Json& value = get(key);
        if (!value.is_number_integer())
            fail(key, "must be a whole number");
        return value.get<int64_t>();
    }
    double real(const char* key) const {
        const Json& value = get(key);
        if (!value.is_number())
            fail(key, "must be a number");
        return value.get<double>();
    }
    bool boolean(const char* key, bool fallback) const {
        if (!has(key))
            return fallback;
        const Json& value = get(key);
        if (!value.is_boolean())
            fail(key, "must be true or false");
        return value.get<bool>();
    }
    std::vector<float> floats(const char* key) const {
        const Json& value = get(key);
        if (value.is_object() && m_sidecar)
            return m_sidecar->load(value, m_where, key);
        if (!value.is_array())
            fail(key, "must be an array of numbers");
        std::vector<float> result;
        result.reserve(value.size());
        for (const Json& item : value) {
            if (item.is_null()) {
                result.push_back(std::nanf(""));
                continue;
            }
            if (!item.is_number())
                fail(key, "must be an array of numbers");
            result.push_back(static_cast<float>(item.get<double>()));
        }
        return result;
    }
    std::vector<int64_t> integers(const char* key) const {
        const Json& value = get(key);
        if (value.is_object() && m_sidecar) {
            std::vector<int64_t> result;
            for (const float v : m_sidecar->load(value, m_where, key)) {
                if (!(std::isfinite(v) && v == std::nearbyint(v) && std::abs(v) < 16777216.0f))
                    fail(key, "must hold whole numbers");
                result.push_back(static_cast<int64_t>(v));
            }
            return result;
        }
        if (!value.is_array())
            fail(key, "must be an array of whole numbers");
        std::vector<int64_t> result;
        for (const Json& item : value) {
            if (!item.is_number_integer())
                fail(key, "must be an array of whole numbers");
            result.push_back(item.get<int64_t>());
        }
        return result;
    }
    const std::string& where() const { return m_where; }

private:
    const Json& m_object;
    std::string m_where;
    SidecarReader* m_sidecar;
};

std::optional<FileReference> readFileReference(const Json& document, const char* key,
                                               const std::string& where) {
    if (!document.contains(key) || document.at(key).is_null())
        return std::nullopt;
    const Json& object = document.at(key);
    if (!object.is_object())
        throw Error(where, "field '" + std::string(key) + "' must be an object or null");
    const FieldReader reader(object, where + ": " + key);
    FileReference file;
    file.path = reader.string("path", "");
    file.sha256 = reader.string("sha256", "");
    file.bytes =
        reader.has("bytes") ? static_cast<uint64_t>(std::max<int64_t>(reader.integer("bytes"), 0)) : 0;
    if (reader.has("samples"))
        file.samples = reader.integer("samples");
    return file;
}

ErrorMetrics readMetrics(const FieldReader& reader) {
    ErrorMetrics m;
    auto real = [&](const char* key) { return reader.has(key) ? reader.real(key) : std::nan(""); };
    m.mse = real("mse");
    m.rmse = real("rmse");
    m.meanAbsError = real("mean_abs_error");
    m.maxAbsError = real("max_abs_error");
    m.sqnrDb = real("sqnr_db");
    m.sqnrNote = reader.string("sqnr_note", "");
    m.cosine = real("cosine");
    m.clippedFraction = real("clipped_fraction");
    m.clipMse = real("clip_mse");
    m.roundMse = real("round_mse");
    m.levelsUsed = reader.has("levels_used") ? reader.integer("levels_used") : 0;
    m.count = reader.has("count") ? reader.integer("count") : 0;
    m.nonfinite = reader.has("nonfinite") ? reader.integer("nonfinite") : 0;
    return m;
}

QParamsEntry readEntry(const Json& object, const std::string& where, SidecarReader& sidecar) {
    if (!object.is_object())
        throw Error(where, "must be an object");
    QParamsEntry entry;
    const FieldReader top(object, where);
    entry.name = top.string("name");
    const FieldReader reader(object, where + " '" + entry.name + "'", &sidecar);
    auto rethrowNamed = [&](auto&& parse) {
        try {
            return parse();
        } catch (const Error& error) {
            throw Error(reader.where(), error.what());
        }
    };
    entry.kind = rethrowNamed([&] { return parseTensorKind(reader.string("kind", "weight"), "kind"); });
    if (reader.has("shape"))
        entry.shape = reader.integers("shape");
    QuantSpec& spec = entry.spec;
    spec.format = rethrowNamed([&] { return QuantFormat::parse(reader.string("dtype")); });
    spec.scheme = rethrowNamed([&] { return parseScheme(reader.string("scheme", "affine"), "scheme"); });
    spec.granularity =
        rethrowNamed([&] { return parseGranularity(reader.string("granularity", "tensor"), "granularity"); });
    if (reader.has("axis"))
        spec.axis = static_cast<int>(reader.integer("axis"));
    if (reader.has("group_size"))
        spec.groupSize = reader.integer("group_size");
    spec.narrowRange = reader.boolean("narrow_range", false);
    spec.reduceRange = reader.boolean("reduce_range", false);
    if (reader.has("calib")) {
        const Json& calib = reader.get("calib");
        if (!calib.is_object())
            reader.fail("calib", "must be an object");
        const FieldReader calibReader(calib, reader.where() + ": calib");
        spec.calib =
            rethrowNamed([&] { return parseCalibMethod(calibReader.string("method", "minmax"), "calib"); });
        if (calibReader.has("percentile"))
            spec.percentile = calibReader.real("percentile");
        if (calibReader.has("ema_constant"))
            spec.emaConstant = calibReader.real("ema_constant");
    }
    rethrowNamed([&] {
        spec.validate();
        return 0;
    });
    if (reader.has("qmin") && reader.integer("qmin") != spec.qmin())
        reader.fail("qmin", "is " + std::to_string(reader.integer("qmin")) + " but " + spec.format.name() +
                                " with these range options has " + std::to_string(spec.qmin()));
    if (reader.has("qmax") && reader.integer("qmax") != spec.qmax())
        reader.fail("qmax", "is " + std::to_string(reader.integer("qmax")) + " but " + spec.format.name() +
                                " with these range options has " + std::to_string(spec.qmax()));

    if (spec.format.isGgml() && (reader.has("scale") || reader.has("zero_point")))
        reader.fail("scale", "is not taken by " + spec.format.name() +
                                 ": ggml's quantizer chooses every block's parameters from its values");
    if (reader.has("scale") || reader.has("zero_point")) {
        QParams params;
        params.scale = reader.floats("scale");
        const auto zeroPoints = reader.integers("zero_point");
        if (zeroPoints.size() != params.scale.size())
            reader.fail("zero_point", "has " + std::to_string(zeroPoints.size()) +
                                          " entries but 'scale' has " + std::to_string(params.scale.size()));
        for (std::size_t i = 0; i < params.scale.size(); ++i) {
            if (!(std::isfinite(params.scale[i]) && params.scale[i] > 0.0f))
                reader.fail("scale", "entry " + std::to_string(i) + " must be a positive finite number");
            if (spec.format.isInteger() &&
                (zeroPoints[i] < spec.qmin() - 65536 || zeroPoints[i] > spec.qmax() + 65536))
                reader.fail("zero_point", "entry " + std::to_string(i) + " is far outside [qmin, qmax]");
            params.zeroPoint.push_back(static_cast<int32_t>(zeroPoints[i]));
        }
        params.min = reader.has("min") ? reader.floats("min") : std::vector<float>(params.scale.size(), 0.0f);
        params.max = reader.has("max") ? reader.floats("max") : std::vector<float>(params.scale.size(), 0.0f);
        params.qmin = spec.qmin();
        params.qmax = spec.qmax();
        entry.params = std::move(params);
    }
    entry.stored = reader.boolean("stored", false);
    if (reader.has("metrics")) {
        const Json& metrics = reader.get("metrics");
        if (!metrics.is_object())
            reader.fail("metrics", "must be an object");
        entry.metrics = readMetrics(FieldReader(metrics, reader.where() + ": metrics"));
    }
    return entry;
}

} // namespace

FileReference FileReference::describe(const std::string& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0)
        throw Error(path, "cannot read the file");
    FileReference file;
    file.path = path;
    file.bytes = static_cast<uint64_t>(status.st_size);
    file.sha256 = sha256OfFile(path);
    return file;
}

const QParamsEntry* QParamsDocument::find(std::string_view name) const {
    for (const auto& entry : tensors)
        if (entry.name == name)
            return &entry;
    return nullptr;
}

std::string QParamsDocument::toJson() const {
    Json document{{"format", kFormatName}, {"version", kVersion}, {"generator", generator}};
    document["source"] = fileJson(source);
    document["calibration"] = fileJson(calibration);
    document["tensors"] = Json::array();
    for (const auto& entry : tensors)
        document["tensors"].push_back(entryJson(entry, nullptr));
    return document.dump(2) + "\n";
}

std::string QParamsDocument::sidecarPath(const std::string& jsonPath) {
    std::string base = jsonPath;
    for (const std::string suffix : {".json", ".qparams"})
        if (base.size() > suffix.size() &&
            base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0)
            base.resize(base.size() - suffix.size());
    return base + ".qparams.npz";
}

QParamsDocument QParamsDocument::fromJson(std::string_view text, const std::string& fileName) {
    Json document;
    try {
        document = Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& error) { // parse_error, or out_of_range for 1e309
        throw Error(fileName, std::string("not valid JSON: ") + error.what());
    }
    if (!document.is_object())
        throw Error(fileName, "not a quantscope-qparams document (expected a JSON object)");
    if (!document.contains("format") || document["format"] != kFormatName)
        throw Error(fileName,
                    "not a quantscope-qparams document (field 'format' must be \"quantscope-qparams\")");
    if (!document.contains("version") || !document["version"].is_number_integer() ||
        document["version"] != kVersion)
        throw Error(fileName, "unsupported quantscope-qparams version (this program reads version 1)");
    QParamsDocument result;
    if (document.contains("generator") && document["generator"].is_string())
        result.generator = document["generator"].get<std::string>();
    result.source = readFileReference(document, "source", fileName);
    result.calibration = readFileReference(document, "calibration", fileName);
    if (!document.contains("tensors") || !document["tensors"].is_array())
        throw Error(fileName, "field 'tensors' must be an array");
    std::size_t index = 0;
    SidecarReader sidecar(fileName);
    for (const Json& item : document["tensors"])
        result.tensors.push_back(
            readEntry(item, fileName + ": tensors[" + std::to_string(index++) + "]", sidecar));
    return result;
}

QParamsDocument QParamsDocument::readFile(const std::string& path) {
    // A real document is kilobytes to tens of megabytes; the bound keeps a hostile one finite.
    constexpr uint64_t kMaxDocumentBytes = uint64_t{1} << 30;
    return fromJson(ReadOnlyFile::readAll(path, kMaxDocumentBytes), path);
}

bool QParamsDocument::writeFile(const std::string& path, bool sidecar) const {
    if (!sidecar) {
        writeFileAtomically(path, toJson());
        return false;
    }
    const std::string sidecarFile = sidecarPath(path);
    const auto slash = sidecarFile.find_last_of('/');
    SidecarWriter arrays(slash == std::string::npos ? sidecarFile : sidecarFile.substr(slash + 1));
    Json document{{"format", kFormatName}, {"version", kVersion}, {"generator", generator}};
    document["source"] = fileJson(source);
    document["calibration"] = fileJson(calibration);
    document["tensors"] = Json::array();
    for (const auto& entry : tensors)
        document["tensors"].push_back(entryJson(entry, &arrays));
    if (arrays.empty()) {
        writeFileAtomically(path, document.dump(2) + "\n");
        return false;
    }
    // Both files or neither: a JSON never refers to a sidecar that was not written.
    AtomicFileSet files;
    files.stage(sidecarFile, arrays.encode());
    files.stage(path, document.dump(2) + "\n");
    files.commit();
    return true;
}

} // namespace quantscope
