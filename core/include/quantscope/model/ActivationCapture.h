#pragma once

#include "quantscope/Progress.h"
#include "quantscope/io/MemoryWeightFile.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/SampleSet.h"

#include <cstdint>
#include <memory>

namespace quantscope {

struct ActivationCaptureOptions {
    // The batch size of static calibration and evaluation: OpenBLAS may round a product
    // differently for another batch size, and the captured values must be the ones calibration sees.
    // A model with a fixed batch is fed exactly that many samples (BatchPlan), whatever this says.
    int64_t batchSize = 256;
    // Samples are captured until the activations hold this many bytes (at least one batch), so a
    // large model on many samples cannot exhaust memory.
    uint64_t maxBytes = uint64_t{512} << 20;
};

// The activations of a model on calibration samples: every float value the fp32 executor
// produces (the graph input and each node's output, the values QuantizedModel quantizes), each
// as one tensor whose leading axis runs over the captured samples.
struct CapturedActivations {
    std::shared_ptr<const MemoryWeightFile> file; // format "activations", path = the samples file
    int64_t samplesCaptured = 0;
    int64_t samplesTotal = 0;
};

// Runs the samples through the fp32 model in batches and keeps every activation (of the real
// samples only: a fixed batch's padded rows are dropped). Throws Error when the samples do not fit
// the model's inputs, and Cancelled when `progress` asks to stop.
CapturedActivations captureActivations(const Executor& executor, const SampleSet& samples,
                                       const ActivationCaptureOptions& options = {},
                                       const ProgressCallback& progress = {});

} // namespace quantscope
