// Role recognition for the model map: real tensor names of each naming scheme (as their
// checkpoints spell them) read as a block index and a role; biases kept apart; names without a
// block listed apart.

#include "quantscope/analysis/TensorRoles.h"

#include <QTest>

#include <string>
#include <vector>

using namespace quantscope;

namespace {

struct Expected {
    const char* name;
    int layer;
    TensorRole role;
    bool bias;
};

} // namespace

class TestAnalysisRoles : public QObject {
    Q_OBJECT

    void check(const std::vector<Expected>& cases) {
        for (const Expected& e : cases) {
            const TensorRoleMatch match = recognizeTensorRole(e.name);
            const QByteArray what = QByteArray(e.name) + " read as layer " + QByteArray::number(match.layer) +
                                    " role " +
                                    QByteArray(roleLabel(match.role).data(),
                                               static_cast<qsizetype>(roleLabel(match.role).size()));
            QVERIFY2(match.layer == e.layer, what.constData());
            QVERIFY2(match.role == e.role, what.constData());
            QVERIFY2(match.bias == e.bias, what.constData());
        }
    }

private slots:
    void llamaQwenMistral() {
        check({
            {"model.embed_tokens.weight", -1, TensorRole::Embed, false},
            {"model.layers.0.input_layernorm.weight", 0, TensorRole::InputNorm, false},
            {"model.layers.0.self_attn.q_proj.weight", 0, TensorRole::Q, false},
            {"model.layers.0.self_attn.k_proj.weight", 0, TensorRole::K, false},
            {"model.layers.0.self_attn.v_proj.weight", 0, TensorRole::V, false},
            {"model.layers.0.self_attn.o_proj.weight", 0, TensorRole::O, false},
            {"model.layers.17.post_attention_layernorm.weight", 17, TensorRole::PostAttnNorm, false},
            {"model.layers.17.mlp.gate_proj.weight", 17, TensorRole::Gate, false},
            {"model.layers.17.mlp.up_proj.weight", 17, TensorRole::Up, false},
            {"model.layers.23.mlp.down_proj.weight", 23, TensorRole::Down, false},
            {"model.norm.weight", -1, TensorRole::FinalNorm, false},
            {"lm_head.weight", -1, TensorRole::Head, false},
            // Qwen2 has q/k/v biases; Qwen3 per-head norms.
            {"model.layers.3.self_attn.q_proj.bias", 3, TensorRole::Q, true},
            {"model.layers.3.self_attn.v_proj.bias", 3, TensorRole::V, true},
            {"model.layers.3.self_attn.q_norm.weight", 3, TensorRole::QNorm, false},
            {"model.layers.3.self_attn.k_norm.weight", 3, TensorRole::KNorm, false},
            // Meta's original Llama / Mistral checkpoints.
            {"tok_embeddings.weight", -1, TensorRole::Embed, false},
            {"layers.5.attention.wq.weight", 5, TensorRole::Q, false},
            {"layers.5.attention.wo.weight", 5, TensorRole::O, false},
            {"layers.5.feed_forward.w1.weight", 5, TensorRole::Gate, false},
            {"layers.5.feed_forward.w2.weight", 5, TensorRole::Down, false},
            {"layers.5.feed_forward.w3.weight", 5, TensorRole::Up, false},
            {"layers.5.attention_norm.weight", 5, TensorRole::InputNorm, false},
            {"layers.5.ffn_norm.weight", 5, TensorRole::PreFfnNorm, false},
            {"output.weight", -1, TensorRole::Head, false},
        });
    }

    void gemma() {
        check({
            {"model.layers.2.pre_feedforward_layernorm.weight", 2, TensorRole::PreFfnNorm, false},
            {"model.layers.2.post_feedforward_layernorm.weight", 2, TensorRole::PostFfnNorm, false},
            {"model.layers.2.post_attention_layernorm.weight", 2, TensorRole::PostAttnNorm, false},
            // Gemma 3 multimodal checkpoints nest the language model one level deeper.
            {"language_model.model.layers.11.self_attn.q_proj.weight", 11, TensorRole::Q, false},
            {"language_model.model.embed_tokens.weight", -1, TensorRole::Embed, false},
        });
    }

    void phi() {
        check({
            // Phi-2
            {"model.layers.4.self_attn.dense.weight", 4, TensorRole::O, false},
            {"model.layers.4.self_attn.dense.bias", 4, TensorRole::O, true},
            {"model.layers.4.mlp.fc1.weight", 4, TensorRole::Fc1, false},
            {"model.layers.4.mlp.fc2.bias", 4, TensorRole::Fc2, true},
            {"model.final_layernorm.weight", -1, TensorRole::FinalNorm, false},
            // Phi-3 fuses q/k/v and gate/up.
            {"model.layers.4.self_attn.qkv_proj.weight", 4, TensorRole::Qkv, false},
            {"model.layers.4.mlp.gate_up_proj.weight", 4, TensorRole::GateUp, false},
        });
    }

    void gpt2() {
        check({
            {"transformer.wte.weight", -1, TensorRole::Embed, false},
            {"transformer.wpe.weight", -1, TensorRole::PositionEmbed, false},
            {"transformer.h.0.ln_1.weight", 0, TensorRole::InputNorm, false},
            {"transformer.h.0.ln_1.bias", 0, TensorRole::InputNorm, true},
            {"transformer.h.0.attn.c_attn.weight", 0, TensorRole::Qkv, false},
            {"transformer.h.0.attn.c_proj.weight", 0, TensorRole::O, false},
            {"transformer.h.11.ln_2.weight", 11, TensorRole::PostAttnNorm, false},
            {"transformer.h.11.mlp.c_fc.weight", 11, TensorRole::Fc1, false},
            {"transformer.h.11.mlp.c_proj.weight", 11, TensorRole::Fc2, false},
            {"transformer.h.11.mlp.c_proj.bias", 11, TensorRole::Fc2, true},
            {"transformer.ln_f.weight", -1, TensorRole::FinalNorm, false},
            // The openai-community/gpt2 safetensors has no "transformer." prefix.
            {"h.3.attn.c_attn.bias", 3, TensorRole::Qkv, true},
            {"wte.weight", -1, TensorRole::Embed, false},
        });
    }

    void bert() {
        check({
            {"bert.embeddings.word_embeddings.weight", -1, TensorRole::Embed, false},
            {"bert.embeddings.position_embeddings.weight", -1, TensorRole::PositionEmbed, false},
            {"bert.embeddings.token_type_embeddings.weight", -1, TensorRole::PositionEmbed, false},
            {"bert.embeddings.LayerNorm.weight", -1, TensorRole::EmbedNorm, false},
            {"bert.encoder.layer.0.attention.self.query.weight", 0, TensorRole::Q, false},
            {"bert.encoder.layer.0.attention.self.key.bias", 0, TensorRole::K, true},
            {"bert.encoder.layer.0.attention.self.value.weight", 0, TensorRole::V, false},
            {"bert.encoder.layer.0.attention.output.dense.weight", 0, TensorRole::O, false},
            {"bert.encoder.layer.0.attention.output.LayerNorm.weight", 0, TensorRole::PostAttnNorm, false},
            {"bert.encoder.layer.9.intermediate.dense.weight", 9, TensorRole::Fc1, false},
            {"bert.encoder.layer.9.output.dense.weight", 9, TensorRole::Fc2, false},
            {"bert.encoder.layer.9.output.LayerNorm.bias", 9, TensorRole::PostFfnNorm, true},
            {"bert.pooler.dense.weight", -1, TensorRole::Unknown, false},
        });
    }

    void gguf() {
        check({
            {"token_embd.weight", -1, TensorRole::Embed, false},
            {"blk.0.attn_norm.weight", 0, TensorRole::InputNorm, false},
            {"blk.0.attn_q.weight", 0, TensorRole::Q, false},
            {"blk.0.attn_k.weight", 0, TensorRole::K, false},
            {"blk.0.attn_v.weight", 0, TensorRole::V, false},
            {"blk.0.attn_q.bias", 0, TensorRole::Q, true},
            {"blk.0.attn_output.weight", 0, TensorRole::O, false},
            {"blk.0.attn_qkv.weight", 0, TensorRole::Qkv, false},
            {"blk.0.attn_q_norm.weight", 0, TensorRole::QNorm, false},
            {"blk.31.ffn_norm.weight", 31, TensorRole::PreFfnNorm, false},
            {"blk.31.ffn_gate.weight", 31, TensorRole::Gate, false},
            {"blk.31.ffn_up.weight", 31, TensorRole::Up, false},
            {"blk.31.ffn_down.weight", 31, TensorRole::Down, false},
            {"blk.31.post_ffw_norm.weight", 31, TensorRole::PostFfnNorm, false},
            {"output_norm.weight", -1, TensorRole::FinalNorm, false},
            {"output.weight", -1, TensorRole::Head, false},
            {"position_embd.weight", -1, TensorRole::PositionEmbed, false},
        });
    }

    void fallback() {
        check({
            // A block's tensor of no known role keeps its layer; one under a further index (an
            // expert of a mixture) too, so it never takes the place of the block's own gate.
            {"model.layers.1.mlp.experts.7.gate_proj.weight", 1, TensorRole::Unknown, false},
            {"blk.1.ffn_gate_exps.weight", 1, TensorRole::Unknown, false},
            {"model.layers.1.self_attn.rotary_emb.inv_freq", 1, TensorRole::Unknown, false},
            // No block: listed apart.
            {"fc1.weight", -1, TensorRole::Unknown, false},
            {"conv1.bias", -1, TensorRole::Unknown, true},
            {"w", -1, TensorRole::Unknown, false},
            {"", -1, TensorRole::Unknown, false},
            {"layers", -1, TensorRole::Unknown, false},
            {"layers.x.q_proj.weight", -1, TensorRole::Unknown, false},
            {"onnx::MatMul_123", -1, TensorRole::Unknown, false},
        });
    }

    void columnKeys() {
        QCOMPARE(roleColumnKey(recognizeTensorRole("model.layers.0.self_attn.q_proj.weight")),
                 std::string("q"));
        QCOMPARE(roleColumnKey(recognizeTensorRole("model.layers.0.self_attn.q_proj.bias")),
                 std::string("q bias"));
        QCOMPARE(roleColumnKey(recognizeTensorRole("blk.0.attn_norm.weight")), std::string("norm in"));
        // Two unknown tensors of one block get two columns, named after their modules.
        QCOMPARE(roleColumnKey(recognizeTensorRole("model.layers.1.mlp.experts.7.gate_proj.weight")),
                 std::string("mlp.experts.7.gate_proj"));
        QCOMPARE(roleColumnKey(recognizeTensorRole("model.layers.1.mlp.experts.8.gate_proj.weight")),
                 std::string("mlp.experts.8.gate_proj"));
        QCOMPARE(recognizeTensorRole("transformer.h.7.attn.c_attn.weight").module,
                 std::string("attn.c_attn"));
        // Block indices with several digits.
        QCOMPARE(recognizeTensorRole("model.layers.79.mlp.down_proj.weight").layer, 79);
        QCOMPARE(recognizeTensorRole("blk.123.ffn_up.weight").layer, 123);
    }
};

QTEST_GUILESS_MAIN(TestAnalysisRoles)
#include "tst_analysis_roles.moc"
