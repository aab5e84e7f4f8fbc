// The converters' inputs: every parameter file format (AIMET, TensorRT cache, ONNX Runtime
// tables and overrides, compressed-tensors, qparams) reads the same input, then what it read is
// checked as `convert` checks it.
#include "FuzzFile.h"

#include "quantscope/interop/ParamFileFormat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view text = quantscope::fuzz::asText(data, size);
    for (const auto& format : quantscope::paramFileFormats()) {
        try {
            (void)format->recognizes(text);
            std::vector<quantscope::ConversionNote> notes;
            const quantscope::QParamsDocument document = format->read(text, "input", notes);
            quantscope::checkImportedDocument(document, "input");
        } catch (const quantscope::Error&) {
        }
    }
    return 0;
}
