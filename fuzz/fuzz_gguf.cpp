// GGUF: the key/value metadata, the tensor infos and the ggml block formats.
#include "FuzzFile.h"

#include "quantscope/io/GgufReader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file("input.gguf");
    try {
        const quantscope::GgufReader reader(file.write(data, size));
        (void)reader.metadata();
        for (const auto& tensor : reader.tensors())
            (void)reader.load(tensor.name);
    } catch (const quantscope::Error&) {
    }
    return 0;
}
