// Dynamic mode's Conv against plain loops of its definition, bit for bit: each image of the batch
// quantized with its own min / max (the observer and parameter rule of the activation spec), the
// integer convolution of the codes with the layer's int8 weights, then float(acc) * (s_x *
// s_w[channel]) + bias (0.0f without a bias) in float, multiply then add. This is the arithmetic
// of the image-by-image im2row route one-group Convs took before the direct kernel, so equal
// bits here mean unchanged outputs. Covers int8 and uint8 activations, per-channel and per-tensor
// (affine) weights, 1 x 1 stride 1 / 2, 3 x 3 with pads and dilation, 7 x 7 stride 2, odd
// channel counts, grouped Convs (image by image) and depthwise Convs (the depthwise kernel with
// symmetric weights, image by image otherwise), 1 and 2 threads, and
// every Conv of the bundled digits CNN on its own inputs.
#include "quantscope/calib/Observer.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <QtTest>

#include <cstring>
#include <random>

using namespace quantscope;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";

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

struct ConvShape {
    int64_t batch, channels, height, width, outChannels, kernel, stride, pad, dilation, groups;
    bool bias;
};

// A graph of one Conv, x -> y, with random weights (and bias).
Graph convGraph(const ConvShape& s, std::mt19937& rng) {
    Graph graph;
    graph.opset = 13;
    graph.inputs.push_back({"x", {s.batch, s.channels, s.height, s.width}, true, DType::F32, true});
    graph.outputs.push_back({"y", {}, false, DType::F32, true});
    std::normal_distribution<float> normal(0.0f, 0.3f);
    std::vector<float> w(
        static_cast<std::size_t>(s.outChannels * (s.channels / s.groups) * s.kernel * s.kernel));
    for (float& v : w)
        v = normal(rng);
    graph.initializers["w"] = Value::floats({s.outChannels, s.channels / s.groups, s.kernel, s.kernel}, w);
    Node conv;
    conv.opType = "Conv";
    conv.name = "conv";
    conv.inputs = {"x", "w"};
    if (s.bias) {
        std::vector<float> b(static_cast<std::size_t>(s.outChannels));
        for (float& v : b)
            v = normal(rng);
        graph.initializers["b"] = Value::floats({s.outChannels}, b);
        conv.inputs.push_back("b");
    }
    conv.outputs = {"y"};
    conv.attributes["kernel_shape"] = ints({s.kernel, s.kernel});
    conv.attributes["strides"] = ints({s.stride, s.stride});
    conv.attributes["pads"] = ints({s.pad, s.pad, s.pad, s.pad});
    conv.attributes["dilations"] = ints({s.dilation, s.dilation});
    conv.attributes["group"] = integer(s.groups);
    graph.nodes.push_back(conv);
    return graph;
}

// The dynamic Conv from its definition (see the top of the file), NCHW.
std::vector<float> definition(const QuantizedModel::Layer& layer, const Node& node, const Value& x,
                              const Value& w, const Value* bias, const QuantSpec& activation) {
    const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const int64_t m = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
    const int64_t groups = node.intAttribute("group", 1), mg = m / groups;
    const auto strides = node.intsAttribute("strides", {1, 1}),
               pads = node.intsAttribute("pads", {0, 0, 0, 0});
    const auto dilations = node.intsAttribute("dilations", {1, 1});
    const int64_t outH = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1;
    const int64_t outW = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1;
    const std::vector<int32_t>& wq = layer.weight.integers;
    const QParams& wp = layer.weight.params;
    QuantSpec spec = activation;
    spec.calib = CalibMethod::MinMax;
    const std::size_t imageSize = static_cast<std::size_t>(c * h * wd);
    std::vector<float> y;
    for (int64_t b = 0; b < n; ++b) {
        const std::span<const float> image(x.data.data() + b * imageSize, imageSize);
        const auto observer = makeObserver(spec);
        observer->observe(image);
        const Range range = observer->range();
        const QParams p = computeQParams(std::span<const Range>(&range, 1), spec);
        const IntegerQuantizer quantizer(p.scale[0], p.zeroPoint[0], static_cast<int32_t>(p.qmin),
                                         static_cast<int32_t>(p.qmax));
        std::vector<int32_t> q(imageSize);
        for (std::size_t i = 0; i < imageSize; ++i)
            q[i] = quantizer.quantize(image[i]);
        for (int64_t o = 0; o < m; ++o) {
            const std::size_t block = wp.scale.size() == 1 ? 0 : static_cast<std::size_t>(o);
            const float scale = p.scale[0] * wp.scale[block];
            const float add = bias ? bias->data[static_cast<std::size_t>(o)] : 0.0f;
            for (int64_t oy = 0; oy < outH; ++oy)
                for (int64_t ox = 0; ox < outW; ++ox) {
                    int64_t acc = 0;
                    for (int64_t ci = 0; ci < cg; ++ci)
                        for (int64_t i = 0; i < kh; ++i)
                            for (int64_t j = 0; j < kw; ++j) {
                                const int64_t iy = oy * strides[0] - pads[0] + i * dilations[0];
                                const int64_t ix = ox * strides[1] - pads[1] + j * dilations[1];
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                    continue; // a real zero: q = zero point
                                const int64_t channel = (o / mg) * cg + ci;
                                acc += int64_t{q[static_cast<std::size_t>((channel * h + iy) * wd + ix)] -
                                               p.zeroPoint[0]} *
                                       (wq[static_cast<std::size_t>(((o * cg + ci) * kh + i) * kw + j)] -
                                        wp.zeroPoint[block]);
                            }
                    y.push_back(static_cast<float>(static_cast<int32_t>(acc)) * scale + add);
                }
        }
    }
    return y;
}

std::vector<uint32_t> bitsOf(const std::vector<float>& values) {
    std::vector<uint32_t> bits(values.size());
    std::memcpy(bits.data(), values.data(), values.size() * sizeof(float));
    return bits;
}

} // namespace

class TestModelDynamicConv : public QObject {
    Q_OBJECT

private slots:
    void convMatchesDefinition_data() {
        QTest::addColumn<int>("threads");
        QTest::newRow("1 thread") << 1;
        QTest::newRow("2 threads") << 2;
    }
    void convMatchesDefinition() {
        QFETCH(int, threads);
        kernels::ThreadPool pool(threads);
        std::mt19937 rng(20261130);
        const ConvShape shapes[] = {
            {3, 5, 9, 11, 7, 3, 1, 1, 1, 1, true},   // odd channels, pad 1
            {2, 16, 8, 8, 24, 1, 1, 0, 1, 1, false}, // pointwise, no bias
            {3, 12, 9, 9, 8, 1, 2, 0, 1, 1, true},   // 1 x 1 stride 2
            {2, 3, 23, 21, 8, 7, 2, 3, 1, 1, true},  // 7 x 7 stride 2 (a ResNet stem)
            {2, 4, 12, 12, 6, 3, 1, 2, 2, 1, true},  // dilation 2
            {2, 8, 7, 7, 12, 3, 2, 1, 1, 2, true},   // two groups: image by image
            {2, 6, 8, 8, 6, 3, 1, 1, 1, 6, false},   // depthwise
            {3, 5, 9, 10, 5, 3, 2, 1, 1, 5, true},   // depthwise stride 2, odd sizes, bias
            {2, 4, 6, 7, 4, 5, 1, 2, 2, 4, true},    // depthwise 5 x 5, dilation 2
        };
        QuantSpec perTensorAffine = ModelQuantConfig::defaultWeightSpec();
        perTensorAffine.scheme = Scheme::Affine;
        perTensorAffine.granularity = Granularity::Tensor;
        QuantSpec perChannelAffine = perTensorAffine;
        perChannelAffine.granularity = Granularity::Channel;
        for (const ConvShape& s : shapes) {
            const Executor executor(convGraph(s, rng));
            const Value& w = executor.graph().initializers.at("w");
            const Value* bias = s.bias ? &executor.graph().initializers.at("b") : nullptr;
            std::normal_distribution<float> normal(0.5f, 1.0f);
            for (const bool unsignedActivations : {false, true})
                for (const QuantSpec& weight :
                     {ModelQuantConfig::defaultWeightSpec(), perTensorAffine, perChannelAffine}) {
                    ModelQuantConfig config;
                    config.activation.format = QuantFormat::integer(8, !unsignedActivations);
                    config.weight = weight;
                    QuantizedModel model(executor, config);
                    model.setThreadPool(&pool);
                    QCOMPARE(model.layers().size(), std::size_t(1));
                    QVERIFY(model.layers()[0].integerPath);
                    // Symmetric weights take the depthwise kernel; affine ones the general route.
                    const bool depthwise = s.groups == s.channels && s.outChannels == s.channels;
                    QCOMPARE(!model.layers()[0].depthwiseWeights.empty(),
                             depthwise && weight.scheme == Scheme::Symmetric);
                    // Images of different ranges, so each has its own scale and zero point.
                    Value x = Value::floats({s.batch, s.channels, s.height, s.width}, {});
                    const int64_t imageSize = s.channels * s.height * s.width;
                    for (int64_t b = 0; b < s.batch; ++b)
                        for (int64_t i = 0; i < imageSize; ++i)
                            x.data.push_back(normal(rng) * static_cast<float>(b + 1) -
                                             0.3f * static_cast<float>(b));
                    const Value y = model.run(QuantMode::Dynamic, {{"x", x}}).at("y");
                    const std::vector<float> expected = definition(
                        model.layers()[0], executor.graph().nodes[0], x, w, bias, config.activation);
                    QCOMPARE(y.shape,
                             (std::vector<int64_t>{
                                 s.batch, s.outChannels,
                                 (s.height + 2 * s.pad - s.dilation * (s.kernel - 1) - 1) / s.stride + 1,
                                 (s.width + 2 * s.pad - s.dilation * (s.kernel - 1) - 1) / s.stride + 1}));
                    QCOMPARE(bitsOf(y.data), bitsOf(expected));
                }
        }
    }

    void demoCnnConvsMatchDefinition() {
        // Every Conv of the digits CNN, in a dynamic run of 16 images, against the definition on
        // the input that Conv saw in the same run.
        const Executor executor(loadOnnxGraph(kDemo + "digits_cnn.onnx"));
        const QuantizedModel model(executor, {});
        const SampleSet test = SampleSet::load(kDemo + "digits_test.npy");
        const GraphValueInfo& input = executor.graph().inputs[0];
        std::map<std::string, Value> values;
        values[input.name] = test.batch(0, 16, input);
        model.run(QuantMode::Dynamic, {{input.name, values[input.name]}},
                  [&](const std::string& name, const Value& value) { values[name] = value; });
        int convs = 0;
        for (const auto& layer : model.layers()) {
            const Node& node = executor.graph().nodes[layer.nodeIndex];
            if (node.opType != "Conv")
                continue;
            ++convs;
            const Value& w = executor.graph().initializers.at(node.inputs[1]);
            const Value* bias =
                node.inputs.size() > 2 ? &executor.graph().initializers.at(node.inputs[2]) : nullptr;
            const std::vector<float> expected =
                definition(layer, node, values.at(node.inputs[0]), w, bias, ModelQuantConfig().activation);
            QCOMPARE(bitsOf(values.at(node.outputs[0]).data), bitsOf(expected));
        }
        QVERIFY(convs >= 2);
    }
};

QTEST_GUILESS_MAIN(TestModelDynamicConv)
#include "tst_model_dynamic_conv.moc"
