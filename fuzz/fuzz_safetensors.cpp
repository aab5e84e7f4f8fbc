// safetensors: the header (JSON, offsets, dtypes, shapes) and every tensor's data.
#include "FuzzFile.h"

#include "quantscope/io/SafetensorsReader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file("input.safetensors");
    try {
        const quantscope::SafetensorsReader reader(file.write(data, size));
        for (const auto& tensor : reader.tensors())
            (void)reader.load(tensor.name);
    } catch (const quantscope::Error&) {
    }
    return 0;
}
