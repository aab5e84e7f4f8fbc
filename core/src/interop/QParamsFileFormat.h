#pragma once

#include "quantscope/interop/ParamFileFormat.h"

namespace quantscope::interop {

// Our own quantscope-qparams version 1 document (DESIGN.md), through QParamsDocument.
class QParamsFileFormat final : public ParamFileFormat {
public:
    std::string_view name() const override { return "qparams"; }
    std::string_view description() const override { return "quantscope-qparams v1 (Quantscope)"; }
    bool recognizes(std::string_view text) const override;
    QParamsDocument read(std::string_view text, const std::string& fileName,
                         std::vector<ConversionNote>& notes) const override;
    std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const override;
};

} // namespace quantscope::interop
