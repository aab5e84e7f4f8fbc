// PyTorch checkpoints: the zip archive, the restricted unpickler and the storages' views.
#include "FuzzFile.h"

#include "quantscope/io/TorchReader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file("input.pt");
    try {
        const quantscope::TorchReader reader(file.write(data, size));
        for (const auto& tensor : reader.tensors())
            (void)reader.load(tensor.name);
    } catch (const quantscope::Error&) {
    }
    return 0;
}
