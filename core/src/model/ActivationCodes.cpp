#include "model/ActivationCodes.h"

#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/quant/FloatCodes.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <cmath>

namespace quantscope {

std::optional<kernels::IntegerType> kernelType(const QuantSpec& spec, const QParams& params) {
    if (!spec.format.isInteger())
        return std::nullopt;
    for (auto type : {kernels::IntegerType::Int8, kernels::IntegerType::Uint8, kernels::IntegerType::Int4,
                      kernels::IntegerType::Uint4}) {
        if (params.qmin == kernels::integerTypeMin(type) && params.qmax == kernels::integerTypeMax(type))
            return type;
    }
    return std::nullopt;
}

kernels::ParamRuns perTensorRuns(const QParams& params, std::size_t count) {
    kernels::ParamRuns runs;
    runs.runLength = count;
    runs.count = 1;
    runs.scales = params.scale.data();
    runs.zeroPoints = params.zeroPoint.data();
    return runs;
}

void fakeQuantize(std::vector<float>& values, const QuantSpec& spec, const QParams& params) {
    if (values.empty())
        return;
    if (const auto type = kernelType(spec, params)) {
        kernels::fakeQuantize(kernels::KernelRegistry::active(), values.data(), values.size(),
                              perTensorRuns(params, values.size()), *type, values.data());
        return;
    }
    if (spec.format.isInteger()) {
        const IntegerQuantizer q(params.scale[0], params.zeroPoint[0], static_cast<int32_t>(params.qmin),
                                 static_cast<int32_t>(params.qmax));
        for (float& v : values)
            v = q.dequantize(q.quantize(v));
        return;
    }
    for (float& v : values) {
        uint32_t code = 0;
        bool clipped = false;
        if (std::isfinite(v))
            v = fakeQuantizeFloat(v, params.scale[0], spec.format, code, clipped);
    }
}

std::optional<QuantLevels> quantLevels(const QuantSpec& spec, const QParams& params) {
    if (!spec.format.isInteger() || spec.granularity != Granularity::Tensor || params.scale.size() != 1 ||
        params.zeroPoint.size() != 1 || params.qmax - params.qmin > 255 || params.qmax < params.qmin ||
        !(params.scale[0] > 0.0f) || !std::isfinite(params.scale[0]))
        return std::nullopt;
    QuantLevels levels;
    levels.scale = params.scale[0];
    levels.zeroPoint = static_cast<int32_t>(params.zeroPoint[0] - params.qmin);
    levels.maxCode = static_cast<int32_t>(params.qmax - params.qmin);
    return levels;
}

void quantizeToCodes(const float* x, std::size_t count, const QuantSpec& spec, const QParams& params,
                     uint8_t* codes) {
    if (count == 0)
        return;
    const auto type = kernelType(spec, params);
    if (type == kernels::IntegerType::Uint8 || type == kernels::IntegerType::Int8) {
        kernels::quantize(kernels::KernelRegistry::active(), x, count, perTensorRuns(params, count), *type,
                          codes);
        if (type == kernels::IntegerType::Int8) {
            for (std::size_t i = 0; i < count; ++i)
                codes[i] ^= 0x80; // two's complement q + 128
        }
        return;
    }
    const int32_t qmin = static_cast<int32_t>(params.qmin);
    const IntegerQuantizer quantizer(params.scale[0], params.zeroPoint[0], qmin,
                                     static_cast<int32_t>(params.qmax));
    for (std::size_t i = 0; i < count; ++i)
        codes[i] = static_cast<uint8_t>(quantizer.quantize(x[i]) - qmin);
}

} // namespace quantscope
