// TfIdfVectorizer (opset 9) over integer tokens: counts the pool's n-grams in each row (items
// skip_distance apart, for every distance up to max_skip_count + 1; unigrams once), then writes
// the counts (TF), the weights of the n-grams present (IDF) or their product (TFIDF) at each
// n-gram's output index, as ONNX Runtime computes it. String tokens are not supported.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <map>

namespace quantscope::ops {
namespace {

std::vector<Value> tfIdfVectorizer(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    if (!x.isInteger() || x.isBool() || x.rank() < 1 || x.rank() > 2)
        throw Error(nodeSubject(n),
                    "needs integer tokens [C] or [N, C] (string tokens are not supported), found " +
                        std::string(dtypeName(x.dtype)) + " " + shapeToString(x.shape));
    const int64_t minGram = n.intAttribute("min_gram_length", 1),
                  maxGram = n.intAttribute("max_gram_length", 1);
    const int64_t maxSkip = n.intAttribute("max_skip_count", 0);
    const std::string mode = n.stringAttribute("mode", "TF");
    const auto counts = n.intsAttribute("ngram_counts", {});
    const auto indexes = n.intsAttribute("ngram_indexes", {});
    const auto pool = n.intsAttribute("pool_int64s", {});
    const Attribute* weightsAttribute = n.attribute("weights");
    if (minGram < 1 || maxGram < minGram || maxGram > static_cast<int64_t>(counts.size()) || maxSkip < 0 ||
        maxSkip > (int64_t{1} << 20))
        throw Error(nodeSubject(n),
                    "needs 1 <= min_gram_length <= max_gram_length <= " + std::to_string(counts.size()) +
                        " (ngram_counts) and max_skip_count >= 0");
    if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
        throw Error(nodeSubject(n), "mode '" + mode + "' is not TF, IDF or TFIDF");
    // The pool: ngram_counts[g] is where the (g + 1)-grams start; the k-th n-gram overall goes to
    // output ngram_indexes[k].
    std::map<std::vector<int64_t>, int64_t> outputOf;
    std::size_t gram = 0;
    for (std::size_t g = 0; g < counts.size(); ++g) {
        const int64_t begin = counts[g];
        const int64_t end = g + 1 < counts.size() ? counts[g + 1] : static_cast<int64_t>(pool.size());
        const auto length = static_cast<int64_t>(g + 1);
        if (begin < 0 || end < begin || end > static_cast<int64_t>(pool.size()) ||
            (end - begin) % length != 0)
            throw Error(nodeSubject(n), "ngram_counts do not cut pool_int64s into whole n-grams");
        for (int64_t at = begin; at < end; at += length, ++gram) {
            if (gram >= indexes.size() || indexes[gram] < 0)
                throw Error(nodeSubject(n),
                            "ngram_indexes needs a non-negative index for every n-gram of the pool");
            outputOf[std::vector<int64_t>(pool.begin() + at, pool.begin() + at + length)] = indexes[gram];
        }
    }
    const int64_t outputs = indexes.empty() ? 0 : *std::max_element(indexes.begin(), indexes.end()) + 1;
    if (weightsAttribute != nullptr && static_cast<int64_t>(weightsAttribute->floats.size()) < outputs)
        throw Error(nodeSubject(n), "weights needs " + std::to_string(outputs) + " values");
    const int64_t rows = x.rank() == 2 ? x.shape[0] : 1, columns = x.shape.back();
    Value y = zeros(DType::F32,
                    x.rank() == 2 ? std::vector<int64_t>{rows, outputs} : std::vector<int64_t>{outputs});
    std::vector<int64_t> gramItems;
    for (int64_t r = 0; r < rows; ++r) {
        float* row = y.data.data() + r * outputs;
        const int64_t* tokens = x.ints.data() + r * columns;
        int64_t shortest = minGram;
        for (int64_t distance = 1; distance <= maxSkip + 1; ++distance) {
            for (int64_t start = 0; start + distance * (shortest - 1) < columns; ++start) {
                gramItems.clear();
                for (int64_t size = 1, at = start; size <= maxGram && at < columns; ++size, at += distance) {
                    gramItems.push_back(tokens[at]);
                    if (size < shortest)
                        continue;
                    if (const auto found = outputOf.find(gramItems); found != outputOf.end())
                        row[found->second] += 1.0f;
                }
            }
            if (shortest == 1 && ++shortest > maxGram) // unigrams do not depend on the distance
                break;
        }
        for (int64_t i = 0; i < outputs; ++i) {
            const float weight = weightsAttribute != nullptr ? weightsAttribute->floats[i] : 1.0f;
            if (mode == "IDF")
                row[i] = row[i] > 0.0f ? weight : 0.0f;
            else if (mode == "TFIDF")
                row[i] *= weight;
        }
    }
    return single(std::move(y));
}

} // namespace

void addTfIdfOps(OpTable& t) {
    t.push_back({"TfIdfVectorizer", 9, 21, tfIdfVectorizer});
}

} // namespace quantscope::ops
