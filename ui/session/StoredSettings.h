#pragma once

#include "quantscope/Progress.h"
#include "quantscope/analysis/TensorSettings.h"
#include "quantscope/io/WeightFile.h"

#include <QString>

#include <optional>
#include <string>
#include <vector>

namespace quantscope::ui {

// The settings a weights file stores for one of its quantized weights (an ONNX QDQ weight, a GPTQ,
// AWQ or compressed-tensors packed weight): the stored scheme with the file's own scale and zero
// point as exact parameters (TensorSettings::stored), and how the file stores it.
struct StoredSettings {
    TensorSettings settings;
    std::string format; // as the reader names it: "qdq int8 per-axis 0", "gptq-v1 int4 g128"
    std::string note;

    // Every weight of the file in listing order; nullopt for a weight stored plainly or stored in a
    // form the settings cannot describe (nvfp4, fp8, GPTQ with desc_act), which then starts from the
    // user's settings. `base` gives what the file does not store (the calibration method). Reads
    // each stored weight's parameters, not its values; throws Cancelled when progress says stop.
    static std::vector<std::optional<StoredSettings>> readAll(const WeightFile& file, const QuantSpec& base,
                                                              const ProgressCallback& progress = {});
    static std::optional<StoredSettings> read(const WeightFile& file, const TensorInfo& info,
                                              const QuantSpec& base);

    // "int8 per-channel, axis 0", "uint4 per-group of 128, axis 1, affine", "int8 per-tensor, symmetric".
    static QString describe(const QuantSpec& spec);
};

} // namespace quantscope::ui
