#pragma once

#include "quantscope/Progress.h"

#include <QMetaType>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace quantscope::ui {

// One output of a quantized Gemm layer of a model computed with integers only, as in Jacob et
// al. 2018 (section 2.3, eq. 7-9) and gemmlowp: uint8 inputs q1 (scale S1, zero point Z1), int8
// weights q2 (S2, Z2), an int32 accumulator with the zero-point correction terms, an int32 bias
// quantized with S1·S2, the real multiplier M = S1·S2/S3 as M0·2^-n, the rounding doubling high
// multiply and rounding right shift, the output zero point Z3 and the saturation to uint8.
//
// The same output is also computed by the SIMD core (int8GemmInt32 and int8GemmRequantizeU8 on
// the active kernel path) from the same integers, and both results are kept so the view, and a
// test, can show they agree bit for bit.
struct LearnDatapath {
    struct Request {
        std::string modelPath;
        std::string samplesPath;     // the sample whose output is followed
        std::string calibrationPath; // activation ranges (static calibration); samples when empty
        int layer = 1;               // index among the model's quantized layers
        int sample = 0;
        int output = 0;             // output channel of the layer
        bool affineWeights = false; // int8 affine per tensor (Z2 != 0) instead of symmetric per channel
    };

    Request request;
    std::string layerName;
    std::vector<std::string> layerNames; // every Gemm layer that runs on the integer core
    int k = 0;                           // inputs summed
    int n = 0;                           // outputs of the layer
    std::string kernelPath;              // "scalar", "avx2", "avx512"

    std::vector<uint8_t> inputs; // q1, K values
    std::vector<int8_t> weights; // q2, row `output` of the N x K weights
    float s1 = 1.0f, s2 = 1.0f, s3 = 1.0f;
    int32_t z1 = 0, z2 = 0, z3 = 0;
    float bias = 0.0f;
    int32_t biasInt32 = 0; // round(bias / (S1·S2))

    // acc = Σ q1·q2 − Z2·Σq1 − Z1·Σq2 + K·Z1·Z2 = Σ (q1 − Z1)(q2 − Z2)
    int64_t sumProducts = 0;
    int64_t sumInputs = 0;
    int64_t sumWeights = 0;
    int64_t accumulator = 0;
    int32_t accumulatorWithBias = 0;

    double realMultiplier = 0.0; // S1·S2/S3
    int32_t m0 = 0;              // M0 = m0 / 2^31 in [0.5, 1)
    int exponent = 0;            // M ≈ M0 · 2^exponent (exponent = −n)
    int32_t highMul = 0;         // SaturatingRoundingDoublingHighMul(acc + bias, m0)
    int32_t scaled = 0;          // after the rounding right shift by n
    int32_t withZeroPoint = 0;   // + Z3
    uint8_t output = 0;          // saturated to 0..255
    bool saturated = false;

    int32_t kernelAccumulator = 0;      // int8GemmInt32 for the same inputs, this output
    uint8_t kernelOutput = 0;           // int8GemmRequantizeU8 for the same inputs, this output
    std::vector<uint8_t> kernelOutputs; // every output of the layer for this sample, from the kernel
    std::vector<uint8_t> stepOutputs;   // every output computed step by step as above

    float fp32Output = 0.0f;        // the fp32 model's value of this output
    float dequantizedOutput = 0.0f; // (output − Z3)·S3

    bool matchesKernel() const {
        return output == kernelOutput && accumulator == kernelAccumulator && stepOutputs == kernelOutputs;
    }

    // Loads the model and samples, quantizes the weights, calibrates the activations as uint8
    // affine per tensor (min-max) and follows one output. Throws Error for unusable input.
    static LearnDatapath compute(const Request& request, const ProgressCallback& progress = {});
};

} // namespace quantscope::ui

Q_DECLARE_METATYPE(std::shared_ptr<const quantscope::ui::LearnDatapath>)
