#pragma once

#include "quantscope/metrics/ErrorMetrics.h"
#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quantscope {

// A file the parameters were computed from, as recorded in the export.
struct FileReference {
    std::string path;
    std::string sha256;
    uint64_t bytes = 0;
    std::optional<int64_t> samples; // calibration files only

    // Describes a file on disk (hashing its contents). Throws Error naming the file.
    static FileReference describe(const std::string& path);
};

// One tensor's settings, parameters and metrics.
struct QParamsEntry {
    std::string name;
    TensorKind kind = TensorKind::Weight;
    std::vector<int64_t> shape;
    QuantSpec spec;
    std::optional<QParams> params; // absent when an imported entry had no scale/zero_point
    std::optional<ErrorMetrics> metrics;
    // The scale and zero point are the ones the source file stores for this weight (a QDQ or
    // packed checkpoint's weight shown as it was quantized): written as "stored": true.
    bool stored = false;
};

// The quantscope-qparams version 1 document of DESIGN.md.
struct QParamsDocument {
    std::string generator = "quantscope 0.1.0";
    std::optional<FileReference> source;
    std::optional<FileReference> calibration;
    std::vector<QParamsEntry> tensors;

    const QParamsEntry* find(std::string_view name) const;

    std::string toJson() const;
    // Throws Error(fileName, ...) for malformed documents, naming the entry and field.
    static QParamsDocument fromJson(std::string_view text, const std::string& fileName);

    // Reads the JSON and, for arrays written to a sidecar ({"file": "NAME.qparams.npz", "key":
    // "<tensor>/scale"}), the .npz beside it; inline arrays and sidecar references may mix.
    static QParamsDocument readFile(const std::string& path);
    // Written atomically: a failure leaves any existing file as it was. With `sidecar`, arrays
    // longer than kSidecarThreshold entries go to sidecarPath(path) as float32 / integer .npy
    // arrays keyed "<tensor>/min|max|scale|zero_point", written together with the JSON. Returns
    // whether a sidecar was written (only when some array is that long).
    bool writeFile(const std::string& path, bool sidecar = false) const;

    static constexpr std::size_t kSidecarThreshold = 4096;
    // "model.qparams.json" and "model.json" → "model.qparams.npz".
    static std::string sidecarPath(const std::string& jsonPath);
};

} // namespace quantscope
