#include "ShapedModels.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace quantscope::cli {
namespace {

Attribute ints(std::vector<int64_t> values) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(values);
    return a;
}

Attribute integer(int64_t value) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = value;
    return a;
}

// Appends nodes and their initializers, naming each value after the op and a counter.
class GraphBuilder {
public:
    GraphBuilder(std::vector<int64_t> inputShape, int64_t opset) {
        m_graph.path = "in-memory";
        m_graph.opset = opset;
        m_graph.inputs.push_back({"input", std::move(inputShape), true, DType::F32, true});
    }
    explicit GraphBuilder(int64_t resolution) : GraphBuilder({-1, 3, resolution, resolution}, 13) {}

    std::string conv(const std::string& x, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                     int64_t groups = 1) {
        const std::string name = next("conv");
        const int64_t fanIn = in / groups * kernel * kernel;
        m_graph.initializers[name + ".weight"] =
            Value::floats({out, in / groups, kernel, kernel}, normal(out * fanIn, std::sqrt(2.0f / fanIn)));
        m_graph.initializers[name + ".bias"] = Value::floats({out}, normal(out, 0.05f));
        const int64_t pad = kernel / 2;
        add("Conv", {x, name + ".weight", name + ".bias"}, name,
            {{"kernel_shape", ints({kernel, kernel})},
             {"strides", ints({stride, stride})},
             {"pads", ints({pad, pad, pad, pad})},
             {"group", integer(groups)}});
        return name;
    }
    std::string relu(const std::string& x) { return unary("Relu", x); }
    std::string relu6(const std::string& x) {
        if (!m_graph.initializers.count("zero")) {
            m_graph.initializers["zero"] = Value::floats({}, {0.0f});
            m_graph.initializers["six"] = Value::floats({}, {6.0f});
        }
        const std::string name = next("clip");
        add("Clip", {x, "zero", "six"}, name, {});
        return name;
    }
    std::string sum(const std::string& a, const std::string& b) {
        const std::string name = next("add");
        add("Add", {a, b}, name, {});
        return name;
    }
    std::string maxPool(const std::string& x) {
        const std::string name = next("maxpool");
        add("MaxPool", {x}, name,
            {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
        return name;
    }
    std::string head(const std::string& x, int64_t channels) {
        const std::string pooled = unary("GlobalAveragePool", x);
        const std::string flat = unary("Flatten", pooled);
        m_graph.initializers["fc.weight"] =
            Value::floats({1000, channels}, normal(1000 * channels, std::sqrt(1.0f / channels)));
        m_graph.initializers["fc.bias"] = Value::floats({1000}, normal(1000, 0.01f));
        add("Gemm", {flat, "fc.weight", "fc.bias"}, "logits", {{"transB", integer(1)}});
        m_graph.outputs.push_back({"logits", {}, false, DType::F32, true});
        return "logits";
    }
    // x (.., in) times a constant in x out weight plus a bias: a Linear as exporters write it.
    std::string linear(const std::string& x, int64_t in, int64_t out) {
        const std::string name = next("matmul");
        m_graph.initializers[name + ".weight"] =
            Value::floats({in, out}, normal(in * out, std::sqrt(1.0f / static_cast<float>(in))));
        m_graph.initializers[name + ".bias"] = Value::floats({out}, normal(out, 0.02f));
        add("MatMul", {x, name + ".weight"}, name, {});
        return binary("Add", name, name + ".bias");
    }
    std::string binary(const char* op, const std::string& a, const std::string& b) {
        const std::string name = next(op);
        add(op, {a, b}, name, {});
        return name;
    }
    std::string reshape(const std::string& x, std::vector<int64_t> shape) {
        const std::string name = next("reshape");
        const auto rank = static_cast<int64_t>(shape.size());
        m_graph.initializers[name + ".shape"] = Value::integers(DType::I64, {rank}, std::move(shape));
        add("Reshape", {x, name + ".shape"}, name, {});
        return name;
    }
    std::string transpose(const std::string& x, std::vector<int64_t> perm) {
        const std::string name = next("transpose");
        add("Transpose", {x}, name, {{"perm", ints(std::move(perm))}});
        return name;
    }
    std::string softmax(const std::string& x) {
        const std::string name = next("softmax");
        add("Softmax", {x}, name, {{"axis", integer(-1)}});
        return name;
    }
    std::string gelu(const std::string& x) { return unary("Gelu", x); }
    std::string layerNorm(const std::string& x, int64_t width) {
        const std::string name = next("layernorm");
        m_graph.initializers[name + ".weight"] = Value::floats({width}, std::vector<float>(width, 1.0f));
        m_graph.initializers[name + ".bias"] = Value::floats({width}, std::vector<float>(width, 0.0f));
        Attribute epsilon;
        epsilon.kind = Attribute::Kind::Float;
        epsilon.f = 1e-12f;
        add("LayerNormalization", {x, name + ".weight", name + ".bias"}, name,
            {{"axis", integer(-1)}, {"epsilon", epsilon}});
        return name;
    }
    std::string constant(const std::string& name, float value) {
        m_graph.initializers[name] = Value::floats({}, {value});
        return name;
    }
    void output(const std::string& x) { m_graph.outputs.push_back({x, {}, false, DType::F32, true}); }
    Graph take() { return std::move(m_graph); }

private:
    std::string next(const char* op) { return std::string(op) + std::to_string(++m_counter); }
    std::string unary(const char* op, const std::string& x) {
        const std::string name = next(op);
        add(op, {x}, name, {});
        return name;
    }
    void add(const std::string& op, std::vector<std::string> inputs, const std::string& output,
             std::map<std::string, Attribute> attributes) {
        Node node;
        node.opType = op;
        node.name = output;
        node.inputs = std::move(inputs);
        node.outputs = {output};
        node.attributes = std::move(attributes);
        m_graph.nodes.push_back(std::move(node));
    }
    std::vector<float> normal(int64_t count, float deviation) {
        std::normal_distribution<float> dist(0.0f, deviation);
        std::vector<float> values(static_cast<std::size_t>(count));
        for (auto& v : values)
            v = dist(m_rng);
        return values;
    }

    Graph m_graph;
    std::mt19937 m_rng{20261130};
    int m_counter = 0;
};

} // namespace

Graph bertShaped(int64_t layers, int64_t sequence) {
    constexpr int64_t hidden = 768, heads = 12, headSize = hidden / heads, ffn = 3072;
    GraphBuilder b({-1, sequence, hidden}, 20); // opset 20: Gelu and LayerNormalization
    const std::string scale = b.constant("attention.scale", 1.0f / std::sqrt(static_cast<float>(headSize)));
    std::string x = "input";
    for (int64_t layer = 0; layer < layers; ++layer) {
        // [B, S, 768] -> [B, 12, S, 64] (keys [B, 12, 64, S]) for the batched attention MatMuls.
        auto splitHeads = [&](const std::string& y, std::vector<int64_t> perm) {
            return b.transpose(b.reshape(y, {0, 0, heads, headSize}), std::move(perm));
        };
        const std::string q = splitHeads(b.linear(x, hidden, hidden), {0, 2, 1, 3});
        const std::string k = splitHeads(b.linear(x, hidden, hidden), {0, 2, 3, 1});
        const std::string v = splitHeads(b.linear(x, hidden, hidden), {0, 2, 1, 3});
        const std::string scores = b.binary("Mul", b.binary("MatMul", q, k), scale);
        const std::string context = b.binary("MatMul", b.softmax(scores), v);
        const std::string merged = b.reshape(b.transpose(context, {0, 2, 1, 3}), {0, 0, hidden});
        x = b.layerNorm(b.binary("Add", b.linear(merged, hidden, hidden), x), hidden);
        const std::string inner = b.gelu(b.linear(x, hidden, ffn));
        x = b.layerNorm(b.binary("Add", b.linear(inner, ffn, hidden), x), hidden);
    }
    b.output(x);
    return b.take();
}

Graph resnet18Shaped(int64_t resolution) {
    GraphBuilder b(resolution);
    std::string x = b.maxPool(b.relu(b.conv("input", 3, 64, 7, 2)));
    int64_t channels = 64;
    for (int64_t width : {64, 128, 256, 512}) {
        for (int block = 0; block < 2; ++block) {
            const int64_t stride = (block == 0 && width != 64) ? 2 : 1;
            std::string shortcut = x;
            if (stride != 1 || channels != width)
                shortcut = b.conv(x, channels, width, 1, stride);
            const std::string y = b.conv(b.relu(b.conv(x, channels, width, 3, stride)), width, width, 3, 1);
            x = b.relu(b.sum(y, shortcut));
            channels = width;
        }
    }
    b.head(x, channels);
    return b.take();
}

Graph mobilenetV2Shaped(int64_t resolution) {
    GraphBuilder b(resolution);
    std::string x = b.relu6(b.conv("input", 3, 32, 3, 2));
    int64_t channels = 32;
    const int64_t table[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    for (const auto& [t, c, n, s] : table) {
        for (int64_t i = 0; i < n; ++i) {
            const int64_t stride = i == 0 ? s : 1;
            const int64_t hidden = channels * t;
            std::string y = t == 1 ? x : b.relu6(b.conv(x, channels, hidden, 1, 1));
            y = b.relu6(b.conv(y, hidden, hidden, 3, stride, hidden));
            y = b.conv(y, hidden, c, 1, 1);
            x = (stride == 1 && channels == c) ? b.sum(y, x) : y;
            channels = c;
        }
    }
    x = b.relu6(b.conv(x, channels, 1280, 1, 1));
    b.head(x, 1280);
    return b.take();
}

} // namespace quantscope::cli
