#pragma once

#include "quantscope/Error.h"

// Internal to core: the operator implementations of the executor, one function per ONNX op.
// Each takes the node (for attributes and messages), its inputs (nullptr for an absent optional
// input) and the model's opset, and returns the node's outputs in order. Floating-point tensors
// compute in float32 (sums in double); integer and Bool tensors compute exactly in int64.

#include "quantscope/model/Node.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace quantscope::ops {

using Inputs = std::vector<const Value*>;
using OpFunction = std::vector<Value> (*)(const Node& node, const Inputs& inputs, int64_t opset);

// The opsets of the default domain the executor runs: every op from kMinOpset; a graph of an
// older opset (from kOldestOpset) runs when each of its ops is listed from that opset (the ops
// whose definition has not changed since, e.g. Softsign 1, Elu 6).
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 21;
constexpr int64_t kOldestOpset = 1;

// One supported op: its implementation covers opsets [since, until] of the default domain.
struct OpEntry {
    std::string op;
    int64_t since = kMinOpset;
    int64_t until = kMaxOpset;
    OpFunction run = nullptr;
};
using OpTable = std::vector<OpEntry>;

// Every supported op, sorted by name.
const OpTable& opTable();
// The implementation of an op of the default domain at `opset`, or nullptr when not supported.
OpFunction findOp(const std::string& opType, int64_t opset);

// Each op family adds its entries (one file each).
void addElementwiseOps(OpTable& table);
void addActivationOps(OpTable& table);
void addReduceOps(OpTable& table);
void addShapeOps(OpTable& table);
void addIndexingOps(OpTable& table);
void addNormalizationOps(OpTable& table);
void addResizeOps(OpTable& table);
void addLinearOps(OpTable& table);
void addConvOps(OpTable& table);
void addPoolOps(OpTable& table);
void addQuantizationOps(OpTable& table);
void addLossOps(OpTable& table);
void addConvIntegerOps(OpTable& table);
void addSignalOps(OpTable& table);
void addRecurrentOps(OpTable& table);
void addDetectionOps(OpTable& table);
void addAlgebraOps(OpTable& table);
void addSetOps(OpTable& table);
void addGridSampleOps(OpTable& table);
void addTfIdfOps(OpTable& table);

// "node 'fc1' (Gemm)": the subject of every error an op throws.
std::string nodeSubject(const Node& node);
// Input i, or an Error naming the node when it is missing.
const Value& requireInput(const Node& node, const Inputs& inputs, std::size_t i);
// Input i, or nullptr when absent.
const Value* optionalInput(const Inputs& inputs, std::size_t i);

// Lends one value to the ops run on this thread while it lives: Executor::run lends a node's input
// 0 when no later node reads it, so an op whose output has that input's size can work in place.
class DonatedInput {
public:
    explicit DonatedInput(Value* value);
    ~DonatedInput();
    DonatedInput(const DonatedInput&) = delete;
    DonatedInput& operator=(const DonatedInput&) = delete;

private:
    Value* m_previous;
};
// One op output as the op's result, moved in. (`return {std::move(out)};` would copy it: the
// elements of an initializer list are const, so std::vector copies them.)
inline std::vector<Value> single(Value output) {
    std::vector<Value> outputs;
    outputs.push_back(std::move(output));
    return outputs;
}
// Whether input i is the lent value (then takeInput moves it).
bool isDonated(const Inputs& inputs, std::size_t i);
// Input i as the op's own value: moved out of the executor when lent, copied otherwise. After the
// move the Inputs entry is empty: read what is needed from the returned value.
Value takeInput(const Node& node, const Inputs& inputs, std::size_t i);
// An axis in [-rank, rank) made non-negative, or an Error naming the node.
int64_t normalizeAxis(const Node& node, int64_t axis, int64_t rank);
// Exact integer values of a shape / axes input.
std::vector<int64_t> integerValues(const Node& node, const Value& value, const char* what);
// Number of elements of a shape; an Error on a negative dimension or an overflow.
int64_t elementCount(const std::vector<int64_t>& shape);
// The product of dimensions or counts (output sizes, batch x rows x columns...), or an Error naming
// the node when a factor is negative or the product overflows int64: every op that multiplies
// dimensions goes through it, so a hostile shape never wraps into a wrong allocation or index.
int64_t checkedProduct(const Node& node, std::initializer_list<int64_t> factors);
int64_t checkedProduct(const Node& node, const std::vector<int64_t>& shape);
// Row-major strides of a shape.
std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape);

// The element type of an ONNX TensorProto data type code (Cast's `to`, output_datatype), or none
// when the executor does not hold that type.
std::optional<DType> dtypeFromOnnx(int64_t onnxType);

// A tensor of `dtype` and `shape` with zero-filled storage of the right kind.
Value zeros(DType dtype, std::vector<int64_t> shape);
// out[i] = source[index[i]] for every element of `shape`, keeping the element type.
Value gatherByIndex(const Value& source, const std::vector<int64_t>& index, std::vector<int64_t> shape);
// Copies element `from` of `source` into element `to` of `target` (same element type).
inline void copyElement(const Value& source, int64_t from, Value& target, int64_t to) {
    if (source.isInteger())
        target.ints[to] = source.ints[from];
    else
        target.data[to] = source.data[from];
}
// Stores a number in element i of `target`, converted to its element type (integers wrap to the
// type's width, Bool is != 0, F16 / BF16 round to their precision).
void storeNumber(Value& target, int64_t i, double number);
// An integer wrapped to the range of an integer dtype (two's complement, as a cast in C).
int64_t wrapInteger(DType dtype, int64_t value);
// A float rounded to the precision of F16 / BF16 (unchanged for F32 / F64).
float roundToType(DType dtype, float value);

// A floating-point function applied to every element (computed in double, rounded to the
// tensor's type); an Error for integer inputs.
template <typename F> std::vector<Value> mapFloat(const Node& n, const Inputs& in, F f) {
    const Value& x = requireInput(n, in, 0);
    if (x.isInteger())
        throw Error(nodeSubject(n), "needs a floating-point input, found " + std::string(dtypeName(x.dtype)));
    Value out = takeInput(n, in, 0);
    for (auto& v : out.data)
        v = roundToType(out.dtype, static_cast<float>(f(static_cast<double>(v))));
    return single(std::move(out));
}

// numpy-style broadcasting of several shapes; an Error naming the node when they do not fit.
std::vector<int64_t> broadcastShape(const Node& node, const std::vector<const std::vector<int64_t>*>& shapes);
// For every element of `outShape`, the offset of the element of `shape` broadcast to it.
std::vector<int64_t> broadcastIndex(const std::vector<int64_t>& shape, const std::vector<int64_t>& outShape);

// Axes read from the `axes` attribute (before `inputSince`) or from input `inputIndex` (since);
// `given` says whether any were named.
std::vector<int64_t> axesOf(const Node& node, const Inputs& inputs, int64_t opset, int64_t inputSince,
                            std::size_t inputIndex, bool& given);

} // namespace quantscope::ops
