#include "quantscope/analysis/TensorRoles.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <vector>

namespace quantscope {
namespace {

std::vector<std::string> splitDots(std::string_view name) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t dot = name.find('.', start);
        const std::size_t end = dot == std::string_view::npos ? name.size() : dot;
        parts.emplace_back(name.substr(start, end - start));
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return parts;
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool isIndex(const std::string& part) {
    return !part.empty() && part.size() <= 6 &&
           std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool oneOf(const std::string& word, std::initializer_list<std::string_view> words) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

// The names under which the schemes list their blocks: model.layers.N, transformer.h.N,
// encoder.layer.N, blk.N, blocks.N.
bool isBlockList(const std::string& part) {
    return oneOf(lower(part), {"layers", "layer", "h", "blk", "blocks", "block"});
}

// The role of a module inside a block; `parts` are its lower-case path components.
TensorRole blockRole(const std::vector<std::string>& parts) {
    if (parts.empty())
        return TensorRole::Unknown;
    // A further index (MoE experts, T5's sub-layers) makes the role ambiguous within the block.
    if (std::any_of(parts.begin(), parts.end(), isIndex))
        return TensorRole::Unknown;
    const bool attention = std::any_of(parts.begin(), parts.end(), [](const std::string& p) {
        return oneOf(p, {"self_attn", "attn", "attention", "selfattention", "self_attention"});
    });
    const bool intermediate =
        std::find(parts.begin(), parts.end(), std::string("intermediate")) != parts.end();
    const std::string& last = parts.back();
    if (oneOf(last, {"q_proj", "query", "attn_q", "wq", "q"}))
        return TensorRole::Q;
    if (oneOf(last, {"k_proj", "key", "attn_k", "wk", "k"}))
        return TensorRole::K;
    if (oneOf(last, {"v_proj", "value", "attn_v", "wv", "v"}))
        return TensorRole::V;
    if (oneOf(last, {"qkv_proj", "c_attn", "query_key_value", "attn_qkv", "wqkv", "w_pack", "qkv"}))
        return TensorRole::Qkv;
    if (oneOf(last, {"q_norm", "attn_q_norm", "q_layernorm"}))
        return TensorRole::QNorm;
    if (oneOf(last, {"k_norm", "attn_k_norm", "k_layernorm"}))
        return TensorRole::KNorm;
    if (oneOf(last, {"o_proj", "out_proj", "attn_output", "wo", "o"}))
        return TensorRole::O;
    // Phi's self_attn.dense and BERT's attention.output.dense are the output projection; BERT's
    // intermediate.dense and the block's own output.dense are its MLP.
    if (last == "dense")
        return attention ? TensorRole::O : intermediate ? TensorRole::Fc1 : TensorRole::Fc2;
    // GPT-2 uses c_proj for both the attention output and the MLP's second layer.
    if (last == "c_proj")
        return attention ? TensorRole::O : TensorRole::Fc2;
    if (oneOf(last, {"gate_proj", "ffn_gate", "w1"}))
        return TensorRole::Gate;
    if (oneOf(last, {"up_proj", "ffn_up", "w3"}))
        return TensorRole::Up;
    if (oneOf(last, {"gate_up_proj", "ffn_gate_up"}))
        return TensorRole::GateUp;
    if (oneOf(last, {"fc1", "c_fc", "dense_h_to_4h", "fc_in"}))
        return TensorRole::Fc1;
    if (oneOf(last, {"down_proj", "ffn_down", "w2"}))
        return TensorRole::Down;
    if (oneOf(last, {"fc2", "dense_4h_to_h", "fc_out"}))
        return TensorRole::Fc2;
    if (oneOf(last, {"input_layernorm", "attn_norm", "ln_1", "ln1", "attention_norm", "input_layer_norm"}))
        return TensorRole::InputNorm;
    if (oneOf(last, {"post_attention_layernorm", "post_attention_norm", "ln_2", "ln2"}))
        return TensorRole::PostAttnNorm;
    if (oneOf(last, {"ffn_norm", "pre_feedforward_layernorm"}))
        return TensorRole::PreFfnNorm;
    if (oneOf(last, {"post_feedforward_layernorm", "post_ffw_norm"}))
        return TensorRole::PostFfnNorm;
    // BERT: attention.output.LayerNorm after attention, output.LayerNorm after the MLP.
    if (last == "layernorm")
        return attention ? TensorRole::PostAttnNorm : TensorRole::PostFfnNorm;
    return TensorRole::Unknown;
}

// The role of a tensor outside the blocks.
TensorRole modelRole(const std::vector<std::string>& parts) {
    if (parts.empty())
        return TensorRole::Unknown;
    const std::string& last = parts.back();
    const bool inEmbeddings = std::find(parts.begin(), parts.end(), std::string("embeddings")) != parts.end();
    if (oneOf(last, {"embed_tokens", "wte", "token_embd", "word_embeddings", "tok_embeddings", "embed_in"}))
        return TensorRole::Embed;
    if (oneOf(last, {"wpe", "position_embeddings", "token_type_embeddings", "position_embd",
                     "embed_positions", "token_types"}))
        return TensorRole::PositionEmbed;
    if (inEmbeddings && last == "layernorm")
        return TensorRole::EmbedNorm;
    if (oneOf(last, {"norm", "ln_f", "output_norm", "final_layernorm", "final_layer_norm", "final_norm"}))
        return TensorRole::FinalNorm;
    if (oneOf(last, {"lm_head", "embed_out"}) || (parts.size() == 1 && last == "output"))
        return TensorRole::Head;
    return TensorRole::Unknown;
}

std::string joinDots(const std::vector<std::string>& parts, std::size_t begin, std::size_t end) {
    std::string text;
    for (std::size_t i = begin; i < end; ++i) {
        if (i > begin)
            text += '.';
        text += parts[i];
    }
    return text;
}

} // namespace

TensorRoleMatch recognizeTensorRole(std::string_view name) {
    TensorRoleMatch match;
    std::vector<std::string> parts = splitDots(name);
    std::size_t end = parts.size();
    if (end > 1 && (parts.back() == "weight" || parts.back() == "bias")) {
        match.bias = parts.back() == "bias";
        --end;
    }
    std::size_t begin = 0;
    for (std::size_t i = 1; i < end; ++i)
        if (isIndex(parts[i]) && isBlockList(parts[i - 1])) {
            match.layer = std::stoi(parts[i]);
            begin = i + 1;
            break;
        }
    match.module = joinDots(parts, match.layer >= 0 ? begin : 0, end);
    std::vector<std::string> module;
    for (std::size_t i = match.layer >= 0 ? begin : 0; i < end; ++i)
        module.push_back(lower(parts[i]));
    match.role = match.layer >= 0 ? blockRole(module) : modelRole(module);
    return match;
}

std::string_view roleLabel(TensorRole role) {
    switch (role) {
    case TensorRole::InputNorm:
        return "norm in";
    case TensorRole::Q:
        return "q";
    case TensorRole::K:
        return "k";
    case TensorRole::V:
        return "v";
    case TensorRole::Qkv:
        return "qkv";
    case TensorRole::QNorm:
        return "q norm";
    case TensorRole::KNorm:
        return "k norm";
    case TensorRole::O:
        return "o";
    case TensorRole::PostAttnNorm:
        return "norm post-attn";
    case TensorRole::PreFfnNorm:
        return "norm ffn";
    case TensorRole::Gate:
        return "gate";
    case TensorRole::Up:
        return "up";
    case TensorRole::GateUp:
        return "gate+up";
    case TensorRole::Fc1:
        return "fc1";
    case TensorRole::Down:
        return "down";
    case TensorRole::Fc2:
        return "fc2";
    case TensorRole::PostFfnNorm:
        return "norm post-ffn";
    case TensorRole::Embed:
        return "embed";
    case TensorRole::PositionEmbed:
        return "pos embed";
    case TensorRole::EmbedNorm:
        return "embed norm";
    case TensorRole::FinalNorm:
        return "final norm";
    case TensorRole::Head:
        return "head";
    case TensorRole::Unknown:
        break;
    }
    return "other";
}

std::string roleColumnKey(const TensorRoleMatch& match) {
    std::string key = match.role == TensorRole::Unknown ? match.module : std::string(roleLabel(match.role));
    if (key.empty())
        key = roleLabel(match.role);
    return match.bias ? key + " bias" : key;
}

} // namespace quantscope
