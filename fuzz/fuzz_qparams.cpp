// quantscope-qparams documents (what --params and File > Import read).
#include "FuzzFile.h"

#include "quantscope/export/QParamsDocument.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    try {
        (void)quantscope::QParamsDocument::fromJson(quantscope::fuzz::asText(data, size), "input.json");
    } catch (const quantscope::Error&) {
    }
    return 0;
}
