#pragma once

#include "quantscope/model/Graph.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// Calibration or evaluation samples: N samples of one or several arrays. One array feeds a
// one-input model; a model with several inputs takes one array per input, named after it.
// Sources: a .npy array (the leading axis indexes the samples), an .npz archive (the entry named
// "x", "samples", "input" or "inputs", else its only entry; or, through loadForInputs, one entry per
// graph input keyed by the input's name), or a CSV file with one sample per row (numeric columns;
// an optional header row; `excludeColumn` drops a label column by name or 0-based index so one
// CSV can hold samples and labels). Images from a folder are decoded by the samples module
// (ImageFolderSamples) and handed over through the constructor.
class SampleSet {
public:
    // The samples of one graph input: the leading axis of the file's array indexes the samples.
    struct Array {
        std::string name; // the .npz key; empty for the single array of a one-input set
        std::vector<int64_t> sampleShape;
        std::vector<float> values;
        bool integer = false; // an integer dtype in the file: fed as an exact integer tensor
    };

    SampleSet(std::string path, std::vector<int64_t> sampleShape, std::vector<float> values);
    // Named arrays with equal sample counts (throws Error naming the array whose count differs).
    SampleSet(std::string path, std::vector<Array> arrays);

    // Throws Error naming the file when it cannot be read, holds no samples, or is not numeric.
    static SampleSet load(const std::string& path, const std::string& excludeColumn = {});

    // The samples for a model with these inputs. A model with several inputs takes an .npz whose
    // keys are the input names, each with the same sample count; an integer input (int64 token
    // ids, masks) needs an integer array. A one-input model reads the .npz entry named after its
    // input when there is one, else what load() reads. Throws Error naming the file and the
    // missing key, the mismatching count or the dtype.
    static SampleSet loadForInputs(const std::string& path, const std::vector<GraphValueInfo>& inputs,
                                   const std::string& excludeColumn = {});

    const std::string& path() const { return m_path; }
    int64_t count() const { return m_count; }
    const std::vector<Array>& arrays() const { return m_arrays; }
    // The first array's sample shape and values (the only array of a one-input set).
    const std::vector<int64_t>& sampleShape() const { return m_arrays.front().sampleShape; }
    std::span<const float> values() const { return m_arrays.front().values; }

    // Samples [first, first + n) shaped for `input` (its first dimension is the batch). The
    // samples keep their shape when it matches the input's other dimensions; otherwise they are
    // reshaped when the element counts agree (N x 64 feeds N x 1 x 8 x 8). Throws Error naming the
    // input and both shapes when neither works. With `rows` > n the batch is padded to `rows`
    // samples by repeating sample first + n - 1 (see feed()).
    Value batch(int64_t first, int64_t n, const GraphValueInfo& input, int64_t rows = 0) const;

    // Every graph input's batch of samples [first, first + n), padded to `rows` (>= n) samples by
    // repeating the last real sample: a model with a fixed batch N is always fed N rows. The copy
    // stays inside the data (zeros could be no valid input: an all-zero attention mask makes a
    // softmax over nothing), and a per-batch min/max (dynamic quantization) is unchanged by it.
    std::map<std::string, Value> feed(const std::vector<GraphValueInfo>& inputs, int64_t first, int64_t n,
                                      int64_t rows) const;

private:
    const Array& arrayFor(const GraphValueInfo& input, std::size_t inputCount) const;
    Value batchOf(const Array& array, int64_t first, int64_t n, const GraphValueInfo& input,
                  int64_t rows) const;

    std::string m_path;
    std::vector<Array> m_arrays;
    int64_t m_count = 0;
};

// Class labels 0, 1, 2...: a .npy array or an .npz entry (its only one, or the one named y, labels,
// label, target or targets) of N integers (N or N x 1), or a CSV column chosen
// by header name or 0-based index (default: the only column, or one named label, labels, target,
// class or y). Throws Error naming the file for non-integer or negative labels.
std::vector<int64_t> loadLabels(const std::string& path, const std::string& column = {});

} // namespace quantscope
