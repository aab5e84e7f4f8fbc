#pragma once

// Internal to core: the fp32 operator implementations of the executor, one function per ONNX op.
// Each takes the node (for attributes and messages), its inputs (nullptr for an absent optional
// input) and the model's opset, and returns the node's outputs in order.

#include "quantscope/model/Node.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace quantscope::ops {

using Inputs = std::vector<const Value*>;
using OpFunction = std::vector<Value> (*)(const Node& node, const Inputs& inputs, int64_t opset);

// The implementation of an op of the default domain, or nullptr when it is not supported.
OpFunction findOp(const std::string& opType);

// "node 'fc1' (Gemm)": the subject of every error an op throws.
std::string nodeSubject(const Node& node);
// Input i, or an Error naming the node when it is missing.
const Value& requireInput(const Node& node, const Inputs& inputs, std::size_t i);
// An axis in [-rank, rank) made non-negative, or an Error naming the node.
int64_t normalizeAxis(const Node& node, int64_t axis, int64_t rank);
// Exact integer values of a shape / axes input.
std::vector<int64_t> integerValues(const Node& node, const Value& value, const char* what);
int64_t elementCount(const std::vector<int64_t>& shape);
// The product of dimensions or counts (output sizes, batch x rows x columns...), or an Error naming
// the node when a factor is negative or the product overflows int64: every op that multiplies
// dimensions goes through it, so a hostile shape never wraps into a wrong allocation or index.
int64_t checkedProduct(const Node& node, std::initializer_list<int64_t> factors);
int64_t checkedProduct(const Node& node, const std::vector<int64_t>& shape);

std::vector<Value> add(const Node&, const Inputs&, int64_t);
std::vector<Value> sub(const Node&, const Inputs&, int64_t);
std::vector<Value> mul(const Node&, const Inputs&, int64_t);
std::vector<Value> div(const Node&, const Inputs&, int64_t);
std::vector<Value> relu(const Node&, const Inputs&, int64_t);
std::vector<Value> leakyRelu(const Node&, const Inputs&, int64_t);
std::vector<Value> sigmoid(const Node&, const Inputs&, int64_t);
std::vector<Value> tanhOp(const Node&, const Inputs&, int64_t);
std::vector<Value> erf(const Node&, const Inputs&, int64_t);
std::vector<Value> gelu(const Node&, const Inputs&, int64_t);
std::vector<Value> clip(const Node&, const Inputs&, int64_t);
std::vector<Value> identity(const Node&, const Inputs&, int64_t);
std::vector<Value> dropout(const Node&, const Inputs&, int64_t);
std::vector<Value> softmax(const Node&, const Inputs&, int64_t);
std::vector<Value> batchNormalization(const Node&, const Inputs&, int64_t);

std::vector<Value> gemm(const Node&, const Inputs&, int64_t);
std::vector<Value> matMul(const Node&, const Inputs&, int64_t);
std::vector<Value> conv(const Node&, const Inputs&, int64_t);

std::vector<Value> maxPool(const Node&, const Inputs&, int64_t);
std::vector<Value> averagePool(const Node&, const Inputs&, int64_t);
std::vector<Value> globalAveragePool(const Node&, const Inputs&, int64_t);

std::vector<Value> flatten(const Node&, const Inputs&, int64_t);
std::vector<Value> reshape(const Node&, const Inputs&, int64_t);
std::vector<Value> transpose(const Node&, const Inputs&, int64_t);
std::vector<Value> concat(const Node&, const Inputs&, int64_t);
std::vector<Value> squeeze(const Node&, const Inputs&, int64_t);
std::vector<Value> unsqueeze(const Node&, const Inputs&, int64_t);
std::vector<Value> constant(const Node&, const Inputs&, int64_t);

} // namespace quantscope::ops
