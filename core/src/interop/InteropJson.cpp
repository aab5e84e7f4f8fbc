#include "interop/InteropJson.h"

#include "quantscope/Error.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace quantscope::interop {

Json exactFloat(float value) {
    if (!std::isfinite(value))
        return nullptr;
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    const double shortest = std::strtod(std::string(buffer, result.ptr).c_str(), nullptr);
    // A decimal read as double then float could in principle round twice; fall back to the
    // float's exact double value then (longer, still exact).
    if (static_cast<float>(shortest) != value)
        return static_cast<double>(value);
    return shortest;
}

Json exactFloats(const std::vector<float>& values) {
    Json array = Json::array();
    for (float value : values)
        array.push_back(exactFloat(value));
    return array;
}

Json parseJson(std::string_view text, const std::string& fileName) {
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& error) { // parse_error, or out_of_range for 1e309
        throw Error(fileName, std::string("not valid JSON: ") + error.what());
    }
}

Json tryParseJson(std::string_view text) {
    return Json::parse(text.begin(), text.end(), nullptr, false);
}

bool stringFieldIs(const Json& object, const char* key, std::string_view expected) {
    if (!object.is_object())
        return false;
    const auto found = object.find(key);
    return found != object.end() && found->is_string() && found->get_ref<const std::string&>() == expected;
}

EntryFields::EntryFields(const Json& object, std::string where)
    : m_object(object), m_where(std::move(where)) {
    if (!m_object.is_object())
        throw Error(m_where, "must be a JSON object");
}

bool EntryFields::has(const char* key) const {
    return m_object.contains(key) && !m_object.at(key).is_null();
}

void EntryFields::fail(const std::string& key, const std::string& what) const {
    throw Error(m_where, "field '" + key + "' " + what);
}

const Json& EntryFields::get(const char* key) const {
    if (!m_object.contains(key))
        fail(key, "is missing");
    return m_object.at(key);
}

std::string EntryFields::string(const char* key) const {
    const Json& value = get(key);
    if (!value.is_string())
        fail(key, "must be a string");
    return value.get<std::string>();
}

int64_t EntryFields::integer(const char* key) const {
    const Json& value = get(key);
    // AIMET 0.x writes offsets as 12.0; a whole float is accepted, a fraction is not.
    if (value.is_number_integer())
        return value.get<int64_t>();
    if (value.is_number_float()) {
        const double d = value.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
            return static_cast<int64_t>(d);
    }
    fail(key, "must be a whole number");
}

float EntryFields::real(const char* key) const {
    const Json& value = get(key);
    if (value.is_null())
        return std::nanf("");
    if (!value.is_number())
        fail(key, "must be a number");
    return static_cast<float>(value.get<double>());
}

bool EntryFields::boolean(const char* key) const {
    const Json& value = get(key);
    if (value.is_boolean())
        return value.get<bool>();
    if (value.is_string()) {
        const auto text = value.get<std::string>();
        if (text == "True" || text == "true")
            return true;
        if (text == "False" || text == "false")
            return false;
    }
    fail(key, "must be true or false");
}

namespace {

template <class T, class Convert>
void flatten(const Json& value, std::vector<T>& out, const Convert& convert, int depth) {
    if (value.is_array()) {
        if (depth > 8)
            throw std::invalid_argument("nested too deeply");
        for (const Json& item : value)
            flatten(item, out, convert, depth + 1);
        return;
    }
    out.push_back(convert(value));
}

} // namespace

std::vector<float> EntryFields::floats(const char* key) const {
    std::vector<float> result;
    try {
        flatten(
            get(key), result,
            [](const Json& item) {
                if (item.is_null())
                    return std::nanf("");
                if (!item.is_number())
                    throw std::invalid_argument("not a number");
                return static_cast<float>(item.get<double>());
            },
            0);
    } catch (const std::invalid_argument&) {
        fail(key, "must be a number or a list of numbers");
    }
    return result;
}

std::vector<int64_t> EntryFields::integers(const char* key) const {
    std::vector<int64_t> result;
    try {
        flatten(
            get(key), result,
            [](const Json& item) -> int64_t {
                if (item.is_number_integer())
                    return item.get<int64_t>();
                if (item.is_number_float()) {
                    const double d = item.get<double>();
                    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
                        return static_cast<int64_t>(d);
                }
                throw std::invalid_argument("not a whole number");
            },
            0);
    } catch (const std::invalid_argument&) {
        fail(key, "must be a whole number or a list of whole numbers");
    }
    return result;
}

std::string entryWhere(const std::string& fileName, const std::string& name) {
    return fileName + ": entry '" + name + "'";
}

int32_t symmetricZeroPoint(const QuantSpec& spec) {
    if (spec.format.isSigned)
        return 0;
    if (spec.format.bits == 8)
        return 128;
    return static_cast<int32_t>((spec.qmin() + spec.qmax()) / 2);
}

int64_t unsignedShift(const QuantFormat& format) {
    return format.isSigned ? (int64_t{1} << (format.bits - 1)) : 0;
}

QuantSpec integerSpec(int64_t bits, bool isSigned, Scheme scheme, const std::string& where) {
    if (bits < 2 || bits > 16)
        throw Error(where, "bit width " + std::to_string(bits) +
                               " is not supported (Quantscope's integer formats have 2 to 16 bits)");
    QuantSpec spec;
    spec.format = QuantFormat::integer(static_cast<int>(bits), isSigned);
    spec.scheme = scheme;
    return spec;
}

QParams gridParams(const QuantSpec& spec, std::vector<float> scale, std::vector<int32_t> zeroPoint) {
    QParams params;
    params.qmin = spec.format.isInteger() ? spec.qmin() : 0;
    params.qmax = spec.format.isInteger() ? spec.qmax() : 0;
    for (std::size_t i = 0; i < scale.size(); ++i) {
        const float zp = i < zeroPoint.size() ? static_cast<float>(zeroPoint[i]) : 0.0f;
        if (spec.format.isInteger()) {
            params.min.push_back((static_cast<float>(params.qmin) - zp) * scale[i]);
            params.max.push_back((static_cast<float>(params.qmax) - zp) * scale[i]);
        } else {
            const float top = spec.format.floatMax() * scale[i];
            params.min.push_back(-top);
            params.max.push_back(top);
        }
    }
    params.scale = std::move(scale);
    params.zeroPoint = std::move(zeroPoint);
    return params;
}

void dropEntry(std::vector<ConversionNote>& notes, const QParamsEntry& entry, const std::string& what) {
    notes.push_back({entry.name, what, true});
}

void noteEntry(std::vector<ConversionNote>& notes, const QParamsEntry& entry, const std::string& what) {
    notes.push_back({entry.name, what, false});
}

std::vector<const QParamsEntry*> entriesWithParams(const QParamsDocument& document,
                                                   std::vector<ConversionNote>& notes) {
    std::vector<const QParamsEntry*> result;
    for (const auto& entry : document.tensors) {
        if (entry.params)
            result.push_back(&entry);
        else
            dropEntry(notes, entry, "has settings but no scale or zero point to write");
    }
    return result;
}

void requireEntries(const QParamsDocument& document, const std::string& fileName) {
    if (document.tensors.empty())
        throw Error(fileName, "holds no encodings");
}

} // namespace quantscope::interop
