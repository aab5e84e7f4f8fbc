#pragma once

#include "quantscope/model/Graph.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// Calibration or evaluation samples: N samples of one shape, float32.
// Sources: a .npy array (the leading axis indexes the samples), an .npz archive (the entry named
// "x", "samples", "input" or "inputs", else its only entry), or a CSV file with one sample per
// row (numeric columns; an optional header row; `excludeColumn` drops a label column by name or
// 0-based index so one CSV can hold samples and labels). Images from a folder are decoded by the
// samples module (ImageFolderSamples) and handed over through the constructor.
class SampleSet {
public:
    SampleSet(std::string path, std::vector<int64_t> sampleShape, std::vector<float> values);

    // Throws Error naming the file when it cannot be read, holds no samples, or is not numeric.
    static SampleSet load(const std::string& path, const std::string& excludeColumn = {});

    const std::string& path() const { return m_path; }
    int64_t count() const { return m_count; }
    const std::vector<int64_t>& sampleShape() const { return m_sampleShape; }
    std::span<const float> values() const { return m_values; }

    // Samples [first, first + n) shaped for `input` (its first dimension is the batch). The
    // samples keep their shape when it matches the input's other dimensions; otherwise they are
    // reshaped when the element counts agree (N x 64 feeds N x 1 x 8 x 8). Throws Error naming the
    // input and both shapes when neither works.
    Value batch(int64_t first, int64_t n, const GraphValueInfo& input) const;

private:
    std::string m_path;
    std::vector<int64_t> m_sampleShape;
    int64_t m_count = 0;
    int64_t m_sampleSize = 0;
    std::vector<float> m_values;
};

// Class labels 0, 1, 2...: a .npy array or an .npz entry (its only one, or the one named y, labels,
// label, target or targets) of N integers (N or N x 1), or a CSV column chosen
// by header name or 0-based index (default: the only column, or one named label, labels, target,
// class or y). Throws Error naming the file for non-integer or negative labels.
std::vector<int64_t> loadLabels(const std::string& path, const std::string& column = {});

} // namespace quantscope
