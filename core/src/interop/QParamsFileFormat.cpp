#include "interop/QParamsFileFormat.h"

#include "interop/InteropJson.h"

namespace quantscope::interop {

bool QParamsFileFormat::recognizes(std::string_view text) const {
    const Json json = tryParseJson(text);
    return stringFieldIs(json, "format", "quantscope-qparams");
}

QParamsDocument QParamsFileFormat::read(std::string_view text, const std::string& fileName,
                                        std::vector<ConversionNote>&) const {
    QParamsDocument document = QParamsDocument::fromJson(text, fileName);
    checkImportedDocument(document, fileName);
    return document;
}

std::string QParamsFileFormat::write(const QParamsDocument& document, std::vector<ConversionNote>&) const {
    return document.toJson();
}

} // namespace quantscope::interop
