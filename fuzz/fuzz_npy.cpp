// .npy: the header (magic, version, the Python-literal dict) and the data.
#include "FuzzFile.h"

#include "quantscope/io/NpyReader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file("input.npy");
    try {
        const quantscope::NpyReader reader(file.write(data, size));
        for (const auto& tensor : reader.tensors())
            (void)reader.load(tensor.name);
    } catch (const quantscope::Error&) {
    }
    return 0;
}
