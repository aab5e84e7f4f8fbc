#pragma once

#include <string>
#include <string_view>

namespace quantscope {

// What a tensor does in a transformer block, read from its name. The order is the order of the
// columns of the model map: a block's input norm, attention, its norms, then the MLP; the roles
// of tensors outside the blocks come last.
enum class TensorRole {
    InputNorm,     // input_layernorm, attn_norm, ln_1
    Q,             // q_proj, query, attn_q, wq
    K,             // k_proj, key, attn_k, wk
    V,             // v_proj, value, attn_v, wv
    Qkv,           // fused: qkv_proj, c_attn, query_key_value, attn_qkv
    QNorm,         // per-head q norm (Qwen3, Gemma 3)
    KNorm,         // per-head k norm
    O,             // o_proj, attention dense, attn.c_proj, attn_output, wo
    PostAttnNorm,  // post_attention_layernorm, ln_2, attention.output.LayerNorm
    PreFfnNorm,    // ffn_norm, pre_feedforward_layernorm
    Gate,          // gate_proj, ffn_gate, w1
    Up,            // up_proj, ffn_up, w3
    GateUp,        // fused gate_up_proj (Phi-3)
    Fc1,           // fc1, mlp.c_fc, intermediate.dense, dense_h_to_4h
    Down,          // down_proj, ffn_down, w2
    Fc2,           // fc2, mlp.c_proj, output.dense, dense_4h_to_h
    PostFfnNorm,   // post_feedforward_layernorm, post_ffw_norm, output.LayerNorm (BERT)
    Embed,         // embed_tokens, wte, token_embd, word_embeddings
    PositionEmbed, // wpe, position_embeddings, token_type_embeddings, position_embd
    EmbedNorm,     // embeddings.LayerNorm (BERT)
    FinalNorm,     // model.norm, ln_f, output_norm, final_layernorm
    Head,          // lm_head, output (GGUF), embed_out
    Unknown,
};

// A tensor name read as a place in the model.
struct TensorRoleMatch {
    int layer = -1; // the block index, -1 when the name has none
    TensorRole role = TensorRole::Unknown;
    bool bias = false;  // the name ends in ".bias" (kept apart from the weight of the same module)
    std::string module; // the name after the block index, without ".weight"/".bias" ("self_attn.q_proj")
};

// Recognises Llama / Qwen / Mistral / Gemma / Phi (`model.layers.N.self_attn.q_proj.weight`),
// GPT-2 (`transformer.h.N.attn.c_attn.weight`), BERT (`bert.encoder.layer.N.attention.self.query`),
// Meta's original Llama (`layers.N.attention.wq`) and GGUF (`blk.N.attn_q.weight`) names. A block's
// tensor whose role is not known keeps its layer with TensorRole::Unknown; so does one nested under
// a further index (MoE experts), so that two tensors never share a (layer, role) place.
TensorRoleMatch recognizeTensorRole(std::string_view name);

// A short label of a role: "q", "gate", "norm in", "embed", "head"…; "other" for Unknown.
std::string_view roleLabel(TensorRole role);

// The column a tensor belongs to in a map of its model: the role's label ("+ bias" for a bias), or
// the module itself for an unknown role, so that different unknown tensors of a block stay apart.
std::string roleColumnKey(const TensorRoleMatch& match);

} // namespace quantscope
