#pragma once

// What the large-file benchmarks share: tensor shapes of LLM checkpoints and the safetensors header
// that lists them, packed in order. Each benchmark writes its own data after the header.
#include <cstdint>
#include <string>
#include <vector>

namespace quantscope::bench {

struct Shape {
    std::string name;
    std::vector<int64_t> dims;
    uint64_t elements() const {
        uint64_t n = 1;
        for (int64_t d : dims)
            n *= static_cast<uint64_t>(d);
        return n;
    }
};

struct LlamaSizes {
    int64_t hidden;
    int64_t mlp;
    int64_t kvWidth; // key/value projection rows (KV heads × head size)
    int64_t vocab;
};

// A Llama-style decoder: embedding, `layers` blocks (two norms, q/k/v/o, gate/up/down), final norm
// and an untied output head.
inline std::vector<Shape> llamaShapes(int layers, LlamaSizes s) {
    std::vector<Shape> shapes{{"model.embed_tokens.weight", {s.vocab, s.hidden}}};
    for (int l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        shapes.push_back({p + "input_layernorm.weight", {s.hidden}});
        shapes.push_back({p + "self_attn.q_proj.weight", {s.hidden, s.hidden}});
        shapes.push_back({p + "self_attn.k_proj.weight", {s.kvWidth, s.hidden}});
        shapes.push_back({p + "self_attn.v_proj.weight", {s.kvWidth, s.hidden}});
        shapes.push_back({p + "self_attn.o_proj.weight", {s.hidden, s.hidden}});
        shapes.push_back({p + "post_attention_layernorm.weight", {s.hidden}});
        shapes.push_back({p + "mlp.gate_proj.weight", {s.mlp, s.hidden}});
        shapes.push_back({p + "mlp.up_proj.weight", {s.mlp, s.hidden}});
        shapes.push_back({p + "mlp.down_proj.weight", {s.hidden, s.mlp}});
    }
    shapes.push_back({"model.norm.weight", {s.hidden}});
    shapes.push_back({"lm_head.weight", {s.vocab, s.hidden}});
    return shapes;
}

// The header's JSON (padded with spaces to a multiple of 8 bytes) for `shapes` stored in order as
// `dtype` of `valueBytes` bytes each; `dataBytes` receives the size of the data that follows.
inline std::string safetensorsHeader(const std::vector<Shape>& shapes, const std::string& dtype,
                                     uint64_t valueBytes, uint64_t& dataBytes) {
    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    dataBytes = 0;
    for (const Shape& shape : shapes) {
        std::string dims;
        for (int64_t d : shape.dims)
            dims += (dims.empty() ? "" : ",") + std::to_string(d);
        const uint64_t bytes = valueBytes * shape.elements();
        header += ",\"" + shape.name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + dims +
                  "],\"data_offsets\":[" + std::to_string(dataBytes) + "," +
                  std::to_string(dataBytes + bytes) + "]}";
        dataBytes += bytes;
    }
    header += "}";
    while (header.size() % 8 != 0)
        header += ' ';
    return header;
}

} // namespace quantscope::bench
