#include "interop/OrtTableFormat.h"

#include "interop/InteropJson.h"
#include "quantscope/Error.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <cmath>
#include <sstream>

namespace quantscope::interop {
namespace {

QuantSpec ortDefaultSpec() {
    QuantSpec spec;
    spec.format = QuantFormat::integer(8, false);
    return spec;
}

// A number, or numpy's {"data": x, "dtype": ..., "CLS": "numpy.array"} of one value.
float rangeValue(const Json& value, const std::string& where, const char* key) {
    const Json* number = &value;
    if (value.is_object() && value.contains("data"))
        number = &value["data"];
    if (number->is_array() && number->size() == 1)
        number = &(*number)[0];
    if (!number->is_number())
        throw Error(where, std::string("field '") + key + "' must be a number (or a numpy.array of one)");
    return static_cast<float>(number->get<double>());
}

QParamsEntry rangeEntry(const std::string& name, float lowest, float highest, const std::string& where) {
    if (!std::isfinite(lowest) || !std::isfinite(highest))
        throw Error(where, "the range must be finite");
    if (lowest > highest)
        throw Error(where,
                    "lowest " + std::to_string(lowest) + " is above highest " + std::to_string(highest));
    QParamsEntry entry;
    entry.name = name;
    entry.kind = TensorKind::Activation;
    entry.spec = ortDefaultSpec();
    const Range range{lowest, highest};
    entry.params = computeQParams(std::span<const Range>(&range, 1), entry.spec);
    return entry;
}

bool isCacheText(std::string_view text) {
    std::istringstream lines{std::string(text)};
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        if (line.empty() || line == "\r")
            continue;
        std::istringstream fields(line);
        std::string name;
        double value = 0.0;
        std::string rest;
        if (!(fields >> name >> value) || (fields >> rest))
            return false;
        ++count;
    }
    return count > 0;
}

} // namespace

bool OrtTableFormat::recognizes(std::string_view text) const {
    const Json json = tryParseJson(text);
    if (json.is_discarded())
        return isCacheText(text);
    if (!json.is_object() || json.empty())
        return false;
    if (stringFieldIs(json, "CLS", "TensorsData"))
        return true;
    for (const auto& [name, value] : json.items())
        if (!(value.is_array() && value.size() == 2 && value[0].is_number()) &&
            !(value.is_object() && value.contains("lowest") && value.contains("highest")))
            return false;
    return true;
}

QParamsDocument OrtTableFormat::read(std::string_view text, const std::string& fileName,
                                     std::vector<ConversionNote>& notes) const {
    notes.push_back({"",
                     "ONNX Runtime's table holds ranges only: scales and zero points are computed as uint8 "
                     "affine (its default activation type)",
                     false});
    QParamsDocument document;
    const Json json = tryParseJson(text);
    if (json.is_discarded()) {
        // calibration.cache: "<name> <value>", value = max(highest, lowest).
        std::istringstream lines{std::string(text)};
        std::string line;
        int lineNumber = 0;
        while (std::getline(lines, line)) {
            ++lineNumber;
            if (line.empty() || line == "\r")
                continue;
            std::istringstream fields(line);
            std::string name;
            double value = 0.0;
            if (!(fields >> name >> value))
                throw Error(
                    fileName + ": line " + std::to_string(lineNumber),
                    "expected '<tensor name> <value>' (calibration.cache) or JSON (calibration.json)");
            const float amax = static_cast<float>(value);
            document.tensors.push_back(
                rangeEntry(name, -std::fabs(amax), std::fabs(amax), entryWhere(fileName, name)));
        }
        notes.push_back(
            {"", "calibration.cache holds one value per tensor: read as the range [-v, v]", false});
    } else {
        if (!json.is_object())
            throw Error(fileName, "not an ONNX Runtime calibration table (expected a JSON object)");
        const Json* data = &json;
        if (json.contains("CLS")) {
            if (json["CLS"] != "TensorsData" || !json.contains("data") || !json["data"].is_object())
                throw Error(fileName,
                            "not an ONNX Runtime calibration table (expected \"CLS\": \"TensorsData\" "
                            "with an object 'data')");
            data = &json["data"];
        }
        for (const auto& [name, value] : data->items()) {
            const std::string where = entryWhere(fileName, name);
            if (value.is_array()) {
                if (value.size() != 2)
                    throw Error(where, "must be [lowest, highest]");
                document.tensors.push_back(rangeEntry(name, rangeValue(value[0], where, "lowest"),
                                                      rangeValue(value[1], where, "highest"), where));
                continue;
            }
            if (!value.is_object())
                throw Error(where, "must be {\"lowest\", \"highest\"} or [lowest, highest]");
            for (const char* key : {"lowest", "highest"})
                if (!value.contains(key))
                    throw Error(where, std::string("field '") + key + "' is missing");
            document.tensors.push_back(rangeEntry(name, rangeValue(value["lowest"], where, "lowest"),
                                                  rangeValue(value["highest"], where, "highest"), where));
        }
    }
    requireEntries(document, fileName);
    checkImportedDocument(document, fileName);
    return document;
}

std::string OrtTableFormat::write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const {
    Json data = Json::object();
    notes.push_back(
        {"", "an ONNX Runtime table holds ranges only: scales, zero points and dtypes are not written",
         false});
    auto array = [](float value) {
        return Json{{"data", exactFloat(value)}, {"dtype", "float32"}, {"CLS", "numpy.array"}};
    };
    for (const QParamsEntry* entry : entriesWithParams(document, notes)) {
        if (entry->spec.granularity != Granularity::Tensor) {
            dropEntry(notes, *entry,
                      "per-" + std::string(granularityName(entry->spec.granularity)) +
                          " parameters: the table holds one range per tensor");
            continue;
        }
        const QParams& params = *entry->params;
        // An entry without a calibrated range (imported from a format with scales only) has the
        // ends of its grid as its range.
        float lowest = params.min.empty() ? 0.0f : params.min[0];
        float highest = params.max.empty() ? 0.0f : params.max[0];
        if (lowest == 0.0f && highest == 0.0f && entry->spec.format.isInteger()) {
            lowest = static_cast<float>(params.qmin - params.zeroPoint[0]) * params.scale[0];
            highest = static_cast<float>(params.qmax - params.zeroPoint[0]) * params.scale[0];
        }
        data[entry->name] =
            Json{{"lowest", array(lowest)}, {"highest", array(highest)}, {"CLS", "TensorData"}};
    }
    const Json json{
        {"CLS", "TensorsData"},
        {"data", data},
        {"calibration_method", Json{{"CLS", "CalibrationMethod"}, {"value", "CalibrationMethod.MinMax"}}}};
    return json.dump(4) + "\n";
}

} // namespace quantscope::interop
