#include "quantscope/interop/ParamFileFormat.h"

#include "interop/Aimet1Format.h"
#include "interop/Aimet2Format.h"
#include "interop/AimetLegacyFormat.h"
#include "interop/CompressedTensorsFormat.h"
#include "interop/InteropJson.h"
#include "interop/OrtOverridesFormat.h"
#include "interop/OrtTableFormat.h"
#include "interop/QParamsFileFormat.h"
#include "interop/TrtCacheFormat.h"
#include "quantscope/Error.h"
#include "quantscope/io/ReadOnlyFile.h"

#include <cmath>

namespace quantscope {

const std::vector<std::unique_ptr<ParamFileFormat>>& paramFileFormats() {
    // Detection tries them in this order: the formats with a distinctive marker come first, the
    // plain name -> value mappings (ort-overrides, ort-table) last.
    static const auto formats = [] {
        std::vector<std::unique_ptr<ParamFileFormat>> list;
        list.push_back(std::make_unique<interop::QParamsFileFormat>());
        list.push_back(std::make_unique<interop::AimetLegacyFormat>());
        list.push_back(std::make_unique<interop::Aimet1Format>());
        list.push_back(std::make_unique<interop::Aimet2Format>());
        list.push_back(std::make_unique<interop::TrtCacheFormat>());
        list.push_back(std::make_unique<interop::CompressedTensorsFormat>());
        list.push_back(std::make_unique<interop::OrtOverridesFormat>());
        list.push_back(std::make_unique<interop::OrtTableFormat>());
        return list;
    }();
    return formats;
}

const ParamFileFormat& paramFileFormat(std::string_view name, std::string_view option) {
    std::string allowed;
    for (const auto& format : paramFileFormats()) {
        if (format->name() == name)
            return *format;
        allowed += (allowed.empty() ? "" : ", ") + std::string(format->name());
    }
    throw Error(std::string(option), "unknown format '" + std::string(name) + "' (allowed: " + allowed + ")");
}

const ParamFileFormat& detectParamFileFormat(std::string_view text, const std::string& fileName,
                                             std::string_view preferred) {
    if (!preferred.empty())
        if (const ParamFileFormat& hinted = paramFileFormat(preferred, "format"); hinted.recognizes(text))
            return hinted;
    for (const auto& format : paramFileFormats())
        if (format->recognizes(text))
            return *format;
    throw Error(fileName,
                "not a parameter file Quantscope recognises (qparams, AIMET encodings, TensorRT cache, "
                "ONNX Runtime table or overrides, compressed-tensors config); name it with --from");
}

QParamsDocument readParamFile(const std::string& path, std::string_view formatName,
                              std::vector<ConversionNote>& notes, std::string* formatRead,
                              std::string_view preferred) {
    constexpr uint64_t kMaxBytes = uint64_t{1} << 30;
    const std::string text = ReadOnlyFile::readAll(path, kMaxBytes);
    // The formats check every field they read; this names the file should a JSON type error
    // still escape one of them.
    try {
        const ParamFileFormat& format = formatName.empty() ? detectParamFileFormat(text, path, preferred)
                                                           : paramFileFormat(formatName, "--from");
        if (formatRead)
            *formatRead = format.name();
        if (format.name() == "qparams") {
            // Through readFile, which also resolves arrays kept in a sidecar beside the document.
            QParamsDocument document = QParamsDocument::readFile(path);
            checkImportedDocument(document, path);
            return document;
        }
        return format.read(text, path, notes);
    } catch (const nlohmann::json::exception& error) {
        throw Error(path, std::string("unexpected JSON content: ") + error.what());
    }
}

void checkImportedDocument(const QParamsDocument& document, const std::string& fileName) {
    for (const auto& entry : document.tensors) {
        if (!entry.params)
            continue;
        const std::string where = interop::entryWhere(fileName, entry.name);
        const QParams& params = *entry.params;
        if (params.scale.empty())
            throw Error(where, "has no scale");
        if (params.zeroPoint.size() != params.scale.size())
            throw Error(where, "has " + std::to_string(params.scale.size()) + " scales but " +
                                   std::to_string(params.zeroPoint.size()) + " zero points");
        for (std::size_t i = 0; i < params.scale.size(); ++i) {
            const float scale = params.scale[i];
            const std::string which = params.scale.size() == 1 ? "the scale" : "scale " + std::to_string(i);
            if (std::isnan(scale))
                throw Error(where, which + " is NaN");
            if (!std::isfinite(scale) || scale <= 0.0f)
                throw Error(where,
                            which + " is " + std::to_string(scale) + "; a scale must be positive and finite");
            if (entry.spec.format.isInteger() &&
                (params.zeroPoint[i] < entry.spec.qmin() || params.zeroPoint[i] > entry.spec.qmax()))
                throw Error(where,
                            "zero point " + std::to_string(params.zeroPoint[i]) +
                                (params.scale.size() == 1 ? "" : " (entry " + std::to_string(i) + ")") +
                                " is outside " + entry.spec.format.name() + "'s range [" +
                                std::to_string(entry.spec.qmin()) + ", " + std::to_string(entry.spec.qmax()) +
                                "]");
        }
    }
}

} // namespace quantscope
