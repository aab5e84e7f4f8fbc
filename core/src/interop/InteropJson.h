#pragma once

// Internal to the interop module: JSON reading and writing shared by the format classes.

#include "quantscope/export/QParamsDocument.h"
#include "quantscope/interop/ParamFileFormat.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace quantscope::interop {

using Json = nlohmann::ordered_json;

// The shortest decimal that reads back as exactly `value` (a float written through a double would
// show 0.003921568859368563 for 1/255). NaN and infinities become null.
Json exactFloat(float value);
Json exactFloats(const std::vector<float>& values);

// Parses `text`; throws Error(fileName, "not valid JSON: ...").
Json parseJson(std::string_view text, const std::string& fileName);
// Parses `text` when it is JSON, returns a discarded value otherwise (for recognizes()).
Json tryParseJson(std::string_view text);

// Whether `object` is an object whose `key` holds the string `expected` (false for any other type:
// json::value(key, "") would throw on a non-string).
bool stringFieldIs(const Json& object, const char* key, std::string_view expected);

// Reads the fields of one entry; every error names the file, the entry and the field.
class EntryFields {
public:
    EntryFields(const Json& object, std::string where);

    const std::string& where() const { return m_where; }
    bool has(const char* key) const;
    [[noreturn]] void fail(const std::string& key, const std::string& what) const;

    const Json& get(const char* key) const;
    std::string string(const char* key) const;
    int64_t integer(const char* key) const;
    float real(const char* key) const;
    // true / false, or the strings "True" / "False" of AIMET 0.x.
    bool boolean(const char* key) const;
    // A number or a (nested) list of numbers, flattened row-major. null reads as NaN, so the
    // checks that follow can name it.
    std::vector<float> floats(const char* key) const;
    std::vector<int64_t> integers(const char* key) const;

private:
    const Json& m_object;
    std::string m_where;
};

// The entry `name` says about itself in errors: "file: entry 'name'".
std::string entryWhere(const std::string& fileName, const std::string& name);

// The zero point a symmetric format uses (PyTorch's rule: 0 signed, 128 for uint8,
// (qmin + qmax) / 2 for other unsigned widths).
int32_t symmetricZeroPoint(const QuantSpec& spec);
// How far a signed format's levels sit below the unsigned grid [0, 2^bits - 1] that AIMET uses.
int64_t unsignedShift(const QuantFormat& format);

// An integer spec of `bits` (2..16) with the given signedness and scheme; throws Error(where, ...)
// for a width Quantscope cannot represent.
QuantSpec integerSpec(int64_t bits, bool isSigned, Scheme scheme, const std::string& where);

// Fills zero points and checks they fit [qmin, qmax]; sets params.qmin / qmax and the min / max
// (the grid's ends, when the format states no range).
QParams gridParams(const QuantSpec& spec, std::vector<float> scale, std::vector<int32_t> zeroPoint);

// Notes that `entry` was left out because the target cannot express `what`.
void dropEntry(std::vector<ConversionNote>& notes, const QParamsEntry& entry, const std::string& what);
void noteEntry(std::vector<ConversionNote>& notes, const QParamsEntry& entry, const std::string& what);

// Entries with parameters, in order; the others are noted as dropped ("no scale or zero point").
std::vector<const QParamsEntry*> entriesWithParams(const QParamsDocument& document,
                                                   std::vector<ConversionNote>& notes);

// The weight and activation entries of an encodings file: a file without any is an error.
void requireEntries(const QParamsDocument& document, const std::string& fileName);

} // namespace quantscope::interop
