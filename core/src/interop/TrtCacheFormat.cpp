#include "interop/TrtCacheFormat.h"

#include "interop/InteropJson.h"
#include "quantscope/Error.h"
#include "quantscope/interop/ToolchainRules.h"

#include <bit>
#include <cctype>
#include <sstream>

namespace quantscope::interop {
namespace {

// TensorRT 8.6.1's header; the version only tells which TensorRT wrote the cache.
constexpr const char* kHeader = "TRT-8601-EntropyCalibration2";

// "TRT-<digits>-<letters>Calibration<digits?>", e.g. TRT-8601-EntropyCalibration2.
bool isHeader(const std::string& line) {
    const auto isDigit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    const auto isLetter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
    if (line.rfind("TRT-", 0) != 0)
        return false;
    std::size_t at = 4;
    const std::size_t versionStart = at;
    while (at < line.size() && isDigit(line[at]))
        ++at;
    if (at == versionStart || at >= line.size() || line[at] != '-')
        return false;
    const std::size_t nameStart = ++at;
    while (at < line.size() && isLetter(line[at]))
        ++at;
    const std::string_view name(line.data() + nameStart, at - nameStart);
    constexpr std::string_view suffix = "Calibration";
    if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix)
        return false;
    while (at < line.size() && isDigit(line[at]))
        ++at;
    return at == line.size();
}

std::string firstLine(std::string_view text) {
    const auto end = text.find('\n');
    std::string line(text.substr(0, end));
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

QuantSpec trtSpec() {
    QuantSpec spec;
    spec.scheme = Scheme::Symmetric;
    spec.narrowRange = true;
    return spec;
}

} // namespace

bool TrtCacheFormat::recognizes(std::string_view text) const {
    return isHeader(firstLine(text));
}

QParamsDocument TrtCacheFormat::read(std::string_view text, const std::string& fileName,
                                     std::vector<ConversionNote>& notes) const {
    const std::string header = firstLine(text);
    if (!isHeader(header))
        throw Error(fileName, "not a TensorRT calibration cache: the first line must be "
                              "'TRT-<version>-<Calibrator>', e.g. 'TRT-8601-EntropyCalibration2' (got '" +
                                  header.substr(0, 60) + "')");
    notes.push_back({"",
                     "TensorRT caches hold int8 symmetric scales on [-127, 127] only (no zero points, no "
                     "per-channel weights)",
                     false});
    QParamsDocument document;
    std::istringstream lines{std::string(text)};
    std::string line;
    std::getline(lines, line);
    int lineNumber = 1;
    while (std::getline(lines, line)) {
        ++lineNumber;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty())
            continue;
        const std::string at = fileName + ": line " + std::to_string(lineNumber);
        // Names may hold ':' themselves (TensorFlow's "conv/Relu:0"): the scale follows the last ": ".
        const auto colon = line.rfind(": ");
        if (colon == std::string::npos)
            throw Error(at, "expected '<tensor name>: <8 hex digits>'");
        const std::string name = line.substr(0, colon);
        const std::string hex = line.substr(colon + 2);
        const std::string where = entryWhere(fileName, name) + " (line " + std::to_string(lineNumber) + ")";
        if (hex.size() != 8 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            throw Error(where, "the scale must be 8 hex digits of a float32 (got '" + hex + "')");
        const float scale = std::bit_cast<float>(static_cast<uint32_t>(std::stoul(hex, nullptr, 16)));
        QParamsEntry entry;
        entry.name = name;
        entry.kind = TensorKind::Activation;
        entry.spec = trtSpec();
        entry.params = gridParams(entry.spec, {scale}, {0});
        document.tensors.push_back(std::move(entry));
    }
    requireEntries(document, fileName);
    checkImportedDocument(document, fileName);
    return document;
}

std::string TrtCacheFormat::write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const {
    std::string text = std::string(kHeader) + "\n";
    for (const QParamsEntry* entry : entriesWithParams(document, notes)) {
        const QuantSpec& spec = entry->spec;
        if (spec.format != QuantFormat::integer(8, true)) {
            dropEntry(notes, *entry, spec.format.name() + ": a TensorRT cache holds int8 scales only");
            continue;
        }
        if (spec.granularity != Granularity::Tensor) {
            dropEntry(notes, *entry,
                      "per-" + std::string(granularityName(spec.granularity)) +
                          " parameters: a TensorRT cache holds one scale per tensor (TensorRT computes "
                          "per-channel weight scales itself)");
            continue;
        }
        if (entry->params->zeroPoint[0] != 0) {
            dropEntry(notes, *entry,
                      "zero point " + std::to_string(entry->params->zeroPoint[0]) +
                          ": TensorRT's int8 is symmetric (zero point 0)");
            continue;
        }
        if (!spec.narrowRange)
            noteEntry(notes, *entry, "TensorRT uses [-127, 127]: level -128 of [-128, 127] is not used");
        text += entry->name + ": " + tensorRtCacheHex(entry->params->scale[0]) + "\n";
    }
    return text;
}

} // namespace quantscope::interop
