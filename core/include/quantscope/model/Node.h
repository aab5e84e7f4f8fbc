#pragma once

#include "quantscope/model/Value.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace quantscope {

// One attribute of a graph node (the ONNX kinds a feed-forward executor needs).
struct Attribute {
    enum class Kind { Int, Float, String, Ints, Floats, Strings, Tensor, Other };
    Kind kind = Kind::Other;
    int64_t i = 0;
    float f = 0.0f;
    std::string s;
    std::vector<int64_t> ints;
    std::vector<float> floats;
    std::vector<std::string> strings;
    std::shared_ptr<const Value> tensor;
};

// One operation of a model graph. Empty input names are absent optional inputs (ONNX).
struct Node {
    std::string name;
    std::string opType;
    std::string domain;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::map<std::string, Attribute> attributes;

    // A printable label for messages: the node name, or the first output when unnamed.
    std::string label() const { return name.empty() ? (outputs.empty() ? opType : outputs[0]) : name; }

    const Attribute* attribute(const std::string& key) const;
    int64_t intAttribute(const std::string& key, int64_t fallback) const;
    float floatAttribute(const std::string& key, float fallback) const;
    std::string stringAttribute(const std::string& key, const std::string& fallback) const;
    std::vector<int64_t> intsAttribute(const std::string& key, std::vector<int64_t> fallback) const;
};

} // namespace quantscope
