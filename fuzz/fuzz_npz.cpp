// .npz: the zip archive (stored and deflated entries) and each entry's .npy header and data.
#include "FuzzFile.h"

#include "quantscope/io/NpzReader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file("input.npz");
    try {
        const quantscope::NpzReader reader(file.write(data, size));
        for (const auto& tensor : reader.tensors())
            (void)reader.load(tensor.name);
    } catch (const quantscope::Error&) {
    }
    return 0;
}
