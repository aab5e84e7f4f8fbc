// Einsum (any equation of letters and one "..." per operand, repeated labels taking diagonals,
// implicit output in sorted label order) and Det (batched, LU with partial pivoting). Float
// sums run in double; integer Einsum is exact in int64.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace quantscope::ops {
namespace {

// Labels are letters (their char code) or broadcast "..." dimensions (kEllipsis + position).
constexpr int kEllipsis = 256;

std::vector<int> parseTerm(const Node& n, const std::string& term, int64_t rank, int64_t& ellipsisRank,
                           bool isOutput) {
    std::vector<int> labels;
    bool sawEllipsis = false;
    int64_t letters = 0;
    for (char c : term) {
        if (std::isalpha(static_cast<unsigned char>(c)))
            ++letters;
    }
    for (std::size_t i = 0; i < term.size(); ++i) {
        const char c = term[i];
        if (c == ' ')
            continue;
        if (c == '.') {
            if (sawEllipsis || term.compare(i, 3, "...") != 0)
                throw Error(nodeSubject(n), "equation term '" + term + "' has a malformed or second '...'");
            sawEllipsis = true;
            i += 2;
            const int64_t count = isOutput ? ellipsisRank : rank - letters;
            if (count < 0)
                throw Error(nodeSubject(n), "term '" + term + "' names more axes than its input's rank " +
                                                std::to_string(rank));
            if (!isOutput)
                ellipsisRank = std::max(ellipsisRank, count);
            // Broadcast dimensions align to the right of the widest "...".
            for (int64_t k = 0; k < count; ++k)
                labels.push_back(static_cast<int>(-1 - (count - 1 - k))); // fixed up by the caller
            continue;
        }
        if (!std::isalpha(static_cast<unsigned char>(c)))
            throw Error(nodeSubject(n), std::string("equation has an invalid character '") + c + "'");
        labels.push_back(static_cast<unsigned char>(c));
    }
    if (!isOutput && !sawEllipsis && letters != rank)
        throw Error(nodeSubject(n), "term '" + term + "' names " + std::to_string(letters) +
                                        " axes, its input has rank " + std::to_string(rank));
    return labels;
}

std::vector<Value> einsum(const Node& n, const Inputs& in, int64_t) {
    std::string equation = n.stringAttribute("equation", "");
    equation.erase(std::remove(equation.begin(), equation.end(), ' '), equation.end());
    const auto arrow = equation.find("->");
    const std::string left = equation.substr(0, arrow);
    std::vector<std::string> terms;
    for (std::size_t start = 0;;) {
        const auto comma = left.find(',', start);
        terms.push_back(left.substr(start, comma - start));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    if (terms.size() != in.size())
        throw Error(nodeSubject(n), "equation '" + equation + "' has " + std::to_string(terms.size()) +
                                        " operands, the node has " + std::to_string(in.size()) + " inputs");
    bool integer = false;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const Value& v = requireInput(n, in, i);
        if (i > 0 && v.dtype != in[0]->dtype)
            throw Error(nodeSubject(n), "inputs must share one element type");
        integer = v.isInteger();
    }
    int64_t ellipsisRank = 0;
    std::vector<std::vector<int>> operandLabels;
    for (std::size_t i = 0; i < terms.size(); ++i)
        operandLabels.push_back(parseTerm(n, terms[i], in[i]->rank(), ellipsisRank, false));
    const auto fixEllipsis = [&](std::vector<int>& labels) {
        for (int& label : labels) {
            if (label < 0) // -1 is the last broadcast dimension
                label = kEllipsis + static_cast<int>(ellipsisRank) + label;
        }
    };
    for (auto& labels : operandLabels)
        fixEllipsis(labels);

    std::map<int, int64_t> sizes;
    std::map<int, int> counts;
    for (std::size_t i = 0; i < operandLabels.size(); ++i) {
        for (std::size_t d = 0; d < operandLabels[i].size(); ++d) {
            const int label = operandLabels[i][d];
            const int64_t size = in[i]->shape[d];
            ++counts[label];
            auto [it, inserted] = sizes.emplace(label, size);
            if (!inserted && it->second != size) {
                if (label >= kEllipsis && (it->second == 1 || size == 1))
                    it->second = std::max(it->second, size);
                else
                    throw Error(nodeSubject(n), "axis sizes " + std::to_string(it->second) + " and " +
                                                    std::to_string(size) + " of one label disagree");
            }
        }
    }
    std::vector<int> outputLabels;
    if (arrow != std::string::npos) {
        outputLabels = parseTerm(n, equation.substr(arrow + 2), 0, ellipsisRank, true);
        fixEllipsis(outputLabels);
        for (int label : outputLabels) {
            if (!sizes.count(label))
                throw Error(nodeSubject(n),
                            "output label '" + std::string(1, static_cast<char>(label)) + "' is in no input");
            if (std::count(outputLabels.begin(), outputLabels.end(), label) > 1)
                throw Error(nodeSubject(n), "output repeats a label");
        }
    } else {
        for (const auto& [label, count] : counts) { // broadcast dimensions sort after the letters
            if (label >= kEllipsis)
                outputLabels.push_back(label);
        }
        for (const auto& [label, count] : counts) {
            if (label < kEllipsis && count == 1)
                outputLabels.push_back(label);
        }
    }
    std::vector<int> summed;
    for (const auto& [label, size] : sizes) {
        if (std::find(outputLabels.begin(), outputLabels.end(), label) == outputLabels.end())
            summed.push_back(label);
    }

    std::vector<int64_t> outShape, sumShape;
    for (int label : outputLabels)
        outShape.push_back(sizes[label]);
    for (int label : summed)
        sumShape.push_back(sizes[label]);
    const int64_t outCount = checkedProduct(n, outShape);
    const int64_t sumCount = checkedProduct(n, sumShape);
    checkedProduct(n, {outCount, sumCount, static_cast<int64_t>(in.size())});

    // Per operand, the stride of every output and summed label (0 when absent or broadcast);
    // a label repeated in one operand adds its strides, which walks the diagonal.
    const auto labelStrides = [&](std::size_t i, const std::vector<int>& labels) {
        const auto strides = stridesOf(in[i]->shape);
        std::vector<int64_t> result(labels.size(), 0);
        for (std::size_t k = 0; k < labels.size(); ++k) {
            for (std::size_t d = 0; d < operandLabels[i].size(); ++d) {
                if (operandLabels[i][d] == labels[k] && in[i]->shape[d] != 1)
                    result[k] += strides[d];
            }
        }
        return result;
    };
    std::vector<std::vector<int64_t>> outStrides, sumStrides;
    for (std::size_t i = 0; i < in.size(); ++i) {
        outStrides.push_back(labelStrides(i, outputLabels));
        sumStrides.push_back(labelStrides(i, summed));
    }
    const auto offsets = [](int64_t flat, const std::vector<int64_t>& shape,
                            const std::vector<int64_t>& strides) {
        int64_t offset = 0;
        for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
            offset += (flat % shape[d]) * strides[d];
            flat /= shape[d];
        }
        return offset;
    };
    Value out = zeros(in[0]->dtype, outShape);
    std::vector<int64_t> base(in.size());
    for (int64_t o = 0; o < outCount; ++o) {
        for (std::size_t i = 0; i < in.size(); ++i)
            base[i] = offsets(o, outShape, outStrides[i]);
        double sum = 0.0;
        int64_t exact = 0;
        for (int64_t s = 0; s < sumCount; ++s) {
            double product = 1.0;
            int64_t exactProduct = 1;
            for (std::size_t i = 0; i < in.size(); ++i) {
                const int64_t at = base[i] + offsets(s, sumShape, sumStrides[i]);
                if (integer)
                    exactProduct *= in[i]->ints[at];
                else
                    product *= in[i]->data[at];
            }
            sum += product;
            exact += exactProduct;
        }
        if (integer)
            out.ints[o] = wrapInteger(out.dtype, exact);
        else
            storeNumber(out, o, sum);
    }
    return single(std::move(out));
}

std::vector<Value> det(const Node& n, const Inputs& in, int64_t) {
    const Value& x = requireInput(n, in, 0);
    if (x.isInteger() || x.rank() < 2 || x.shape[x.rank() - 1] != x.shape[x.rank() - 2])
        throw Error(nodeSubject(n),
                    "input must be float square matrices [..., M, M], found " + shapeToString(x.shape));
    const int64_t m = x.shape.back();
    const std::vector<int64_t> shape(x.shape.begin(), x.shape.end() - 2);
    Value out = zeros(x.dtype, shape);
    std::vector<double> a(static_cast<std::size_t>(checkedProduct(n, {m, m})));
    for (int64_t b = 0; b < out.size(); ++b) {
        for (int64_t i = 0; i < m * m; ++i)
            a[i] = x.data[b * m * m + i];
        double determinant = 1.0;
        for (int64_t c = 0; c < m && determinant != 0.0; ++c) {
            int64_t pivot = c;
            for (int64_t r = c + 1; r < m; ++r) {
                if (std::abs(a[r * m + c]) > std::abs(a[pivot * m + c]))
                    pivot = r;
            }
            if (a[pivot * m + c] == 0.0) {
                determinant = 0.0;
                break;
            }
            if (pivot != c) {
                for (int64_t k = 0; k < m; ++k)
                    std::swap(a[c * m + k], a[pivot * m + k]);
                determinant = -determinant;
            }
            determinant *= a[c * m + c];
            for (int64_t r = c + 1; r < m; ++r) {
                const double factor = a[r * m + c] / a[c * m + c];
                for (int64_t k = c; k < m; ++k)
                    a[r * m + k] -= factor * a[c * m + k];
            }
        }
        storeNumber(out, b, determinant);
    }
    return single(std::move(out));
}

} // namespace

void addAlgebraOps(OpTable& t) {
    t.push_back({"Einsum", 12, 21, einsum});
    t.push_back({"Det", 11, 21, det});
}

} // namespace quantscope::ops
