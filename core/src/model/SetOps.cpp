// Unique (opset 11): the distinct elements of a flattened tensor, or the distinct slices along an
// axis, sorted ascending (slices lexicographically) or in order of first occurrence, with the
// first index of each, the inverse map and the counts.
#include "model/Ops.h"

#include "quantscope/Error.h"

#include <algorithm>
#include <numeric>

namespace quantscope::ops {
namespace {

std::vector<Value> unique(const Node& n, const Inputs& in, int64_t) {
    const Value& input = requireInput(n, in, 0);
    const bool sorted = n.intAttribute("sorted", 1) != 0;
    const Attribute* axisAttribute = n.attribute("axis");
    Value x = input;
    int64_t axis = 0;
    if (axisAttribute == nullptr) {
        x.shape = {input.size()};
    } else {
        if (x.rank() == 0)
            throw Error(nodeSubject(n), "axis needs an input of rank 1 or more");
        axis = normalizeAxis(n, axisAttribute->i, x.rank());
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    for (int64_t d = axis + 1; d < x.rank(); ++d)
        inner *= x.shape[d];
    const int64_t length = x.shape[axis];
    // Slice k: every element whose index along `axis` is k, in row-major order.
    const auto element = [&](int64_t slice, int64_t j) {
        return (j / inner * length + slice) * inner + j % inner;
    };
    const int64_t sliceSize = outer * inner;
    const auto compareSlices = [&](int64_t a, int64_t b) { // <0, 0, >0 as a sorts before b
        for (int64_t j = 0; j < sliceSize; ++j) {
            const double va = x.number(element(a, j)), vb = x.number(element(b, j));
            if (va != vb)
                return va < vb ? -1 : 1;
        }
        return 0;
    };
    std::vector<int64_t> order(static_cast<std::size_t>(length));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return compareSlices(a, b) < 0; });
    // Group equal slices; each group's first member is its first occurrence (stable sort).
    std::vector<int64_t> groupOf(static_cast<std::size_t>(length)), firsts, counts;
    for (std::size_t k = 0; k < order.size(); ++k) {
        if (k == 0 || compareSlices(order[k - 1], order[k]) != 0) {
            firsts.push_back(order[k]);
            counts.push_back(0);
        }
        groupOf[order[k]] = static_cast<int64_t>(firsts.size()) - 1;
        ++counts.back();
    }
    std::vector<int64_t> groupOrder(firsts.size());
    std::iota(groupOrder.begin(), groupOrder.end(), 0);
    if (!sorted) // by first occurrence
        std::sort(groupOrder.begin(), groupOrder.end(),
                  [&](int64_t a, int64_t b) { return firsts[a] < firsts[b]; });
    std::vector<int64_t> position(firsts.size());
    for (std::size_t k = 0; k < groupOrder.size(); ++k)
        position[groupOrder[k]] = static_cast<int64_t>(k);

    const auto count = static_cast<int64_t>(firsts.size());
    std::vector<int64_t> shape = x.shape;
    shape[axis] = count;
    Value y = zeros(x.dtype, shape);
    Value indices = zeros(DType::I64, {count});
    Value inverse = zeros(DType::I64, {length});
    Value countsOut = zeros(DType::I64, {count});
    for (int64_t k = 0; k < count; ++k) {
        const int64_t group = groupOrder[k];
        indices.ints[k] = firsts[group];
        countsOut.ints[k] = counts[group];
        for (int64_t j = 0; j < sliceSize; ++j)
            copyElement(x, element(firsts[group], j), y, (j / inner * count + k) * inner + j % inner);
    }
    for (int64_t s = 0; s < length; ++s)
        inverse.ints[s] = position[groupOf[s]];
    return {std::move(y), std::move(indices), std::move(inverse), std::move(countsOut)};
}

} // namespace

void addSetOps(OpTable& t) {
    t.push_back({"Unique", 11, 21, unique});
}

} // namespace quantscope::ops
