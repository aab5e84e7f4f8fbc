// The image folder's sidecar (quantscope-images.json: size, channels, scale, mean, std).
#include "FuzzFile.h"

#include "samples/ImageFolderFormat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file(quantscope::ImageFolderFormat::kSidecarName);
    file.write(data, size);
    try {
        (void)quantscope::ImageFolderFormat::read(file.directory());
    } catch (const quantscope::Error&) {
    }
    return 0;
}
