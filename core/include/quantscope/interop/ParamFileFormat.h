#pragma once

#include "quantscope/export/QParamsDocument.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace quantscope {

// Something a conversion could not carry over, said to the user instead of dropped silently:
// what the target format cannot express, or what an imported file did not hold.
struct ConversionNote {
    std::string entry; // the tensor concerned; empty for the whole file
    std::string message;
    bool dropped = false; // the entry was left out of the output
};

// A file format of quantization parameters from another toolchain (AIMET, TensorRT, ONNX
// Runtime, compressed-tensors) or our own. Each one reads into and writes from the
// quantscope-qparams representation; scales are carried bit for bit where the format holds them.
class ParamFileFormat {
public:
    virtual ~ParamFileFormat() = default;

    // The name the CLI uses: "qparams", "aimet", "aimet-1", "aimet-2", "trt-cache", "ort-table",
    // "ort-overrides", "compressed-tensors".
    virtual std::string_view name() const = 0;
    virtual std::string_view description() const = 0;
    // True when `text` looks like a file of this format (used when the format is not given).
    virtual bool recognizes(std::string_view text) const = 0;
    // Throws Error naming `fileName` and the entry for a malformed file (wrong header, a missing
    // field, a NaN or negative scale, a zero point outside the range, an unknown dtype).
    virtual QParamsDocument read(std::string_view text, const std::string& fileName,
                                 std::vector<ConversionNote>& notes) const = 0;
    // What the format cannot express is reported through `notes`.
    virtual std::string write(const QParamsDocument& document, std::vector<ConversionNote>& notes) const = 0;
};

// Every format, in the order the CLI lists them.
const std::vector<std::unique_ptr<ParamFileFormat>>& paramFileFormats();
// Throws Error(option, ...) listing the allowed names.
const ParamFileFormat& paramFileFormat(std::string_view name, std::string_view option = "--to");
// The format whose recognizes() accepts `text`; throws Error(fileName, ...) when none does.
// `preferred` (a format name, e.g. the file dialog's filter) wins when it recognizes the text too:
// a plain {name: {...}} mapping may read as more than one format.
const ParamFileFormat& detectParamFileFormat(std::string_view text, const std::string& fileName,
                                             std::string_view preferred = {});

// Reads a parameter file of any format (detected when `formatName` is empty, `preferred` first);
// `formatRead`, when given, receives the name of the format the file was read as.
QParamsDocument readParamFile(const std::string& path, std::string_view formatName,
                              std::vector<ConversionNote>& notes, std::string* formatRead = nullptr,
                              std::string_view preferred = {});

// Checks what every importer promises: scales finite and positive, one zero point per scale, zero
// points inside [qmin, qmax]. Throws Error("fileName: entry 'name'", ...).
void checkImportedDocument(const QParamsDocument& document, const std::string& fileName);

} // namespace quantscope
