// Packed checkpoints (GPTQ, AWQ, compressed-tensors, fp8, nvfp4 in safetensors): the packing is
// recognised from the tensors' names and dtypes and every packed weight is dequantized.
#include "FuzzFile.h"

#include "quantscope/io/WeightFile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static const quantscope::fuzz::FuzzFile file("model.safetensors");
    try {
        const auto weights = quantscope::openWeightFile(file.write(data, size));
        for (const auto& tensor : weights->tensors()) {
            (void)weights->load(tensor.name);
            (void)weights->storedQuantization(tensor.name);
        }
    } catch (const quantscope::Error&) {
    }
    return 0;
}
