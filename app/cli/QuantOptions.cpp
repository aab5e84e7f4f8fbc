#include "QuantOptions.h"
#include "quantscope/Error.h"

namespace quantscope::cli {

std::vector<OptionSpec> quantOptionSpecs() {
    return {
        {"--dtype", true, false,
         "int2..int16, uint2..uint16, fp16, bf16, fp8_e4m3, fp8_e5m2, nf4, mxfp4, mxfp8_e4m3, mxfp8_e5m2, "
         "nvfp4, or llama.cpp's q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q6_k (default int8)"},
        {"--bits", true, false, "bit width of an integer --dtype, 2..16"},
        {"--scheme", true, false, "affine | symmetric (default affine)"},
        {"--granularity", true, false, "tensor | channel | group (default tensor)"},
        {"--axis", true, false, "channel or group axis (default 0; groups: 1, the inputs of a 2-D weight)"},
        {"--group-size", true, false, "values per group along the axis (default 128)"},
        {"--calib", true, false, "minmax | moving-average | percentile | mse | entropy | histogram"},
        {"--percentile", true, false, "percentile for --calib percentile, in (0, 100] (default 99.99)"},
        {"--ema", true, false, "averaging constant for --calib moving-average, in (0, 1] (default 0.01)"},
        {"--narrow-range", false, false, "drop the most negative level ([-127, 127] for int8)"},
        {"--reduce-range", false, false, "use one bit less of the range (PyTorch's reduce_range)"},
        {"--params", true, false, "apply the settings of a quantscope-qparams JSON file"},
    };
}

QuantSpec quantSpecFrom(const CommandLine& commandLine) {
    QuantSpec spec;
    if (const auto dtype = commandLine.value("--dtype"))
        spec.format = QuantFormat::parse(*dtype);
    if (commandLine.has("--bits")) {
        if (!spec.format.isInteger())
            throw Error("--bits", "applies to integer formats only (got --dtype " + spec.format.name() + ")");
        spec.format.bits = static_cast<int>(commandLine.integer("--bits", 8, 2, 16));
    }
    if (const auto scheme = commandLine.value("--scheme"))
        spec.scheme = parseScheme(*scheme);
    if (const auto granularity = commandLine.value("--granularity"))
        spec.granularity = parseGranularity(*granularity);
    spec.groupSize = commandLine.integer("--group-size", 128, 1, int64_t{1} << 40);
    spec.axis = static_cast<int>(commandLine.integer("--axis", 0, 0, 63));
    // A 1-D tensor groups along its only axis (TensorAnalysisRunner).
    spec.fillImplied({.granularity = commandLine.has("--granularity"),
                      .groupSize = commandLine.has("--group-size"),
                      .axis = commandLine.has("--axis")});
    if (const auto calib = commandLine.value("--calib"))
        spec.calib = parseCalibMethod(*calib);
    spec.percentile = commandLine.number("--percentile", spec.percentile);
    spec.emaConstant = commandLine.number("--ema", spec.emaConstant);
    spec.narrowRange = commandLine.has("--narrow-range");
    spec.reduceRange = commandLine.has("--reduce-range");
    spec.validate();
    return spec;
}

std::optional<QParamsDocument> paramsDocumentFrom(const CommandLine& commandLine) {
    const auto path = commandLine.value("--params");
    if (!path)
        return std::nullopt;
    return QParamsDocument::readFile(*path);
}

} // namespace quantscope::cli
