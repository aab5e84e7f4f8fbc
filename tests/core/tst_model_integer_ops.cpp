// The static integer pipeline, op by op, against plain references written here from ONNX
// Runtime's QLinear / QOperator definitions (QLinearConv, QLinearMatMul, QLinearAdd, QLinearMul,
// QLinearAveragePool, QLinearGlobalAveragePool, QLinearConcat, QLinearSigmoid): each graph is
// given its activations' (scale, zero point) explicitly, fed values on the input grid, and the
// output codes are compared bit for bit. The bundled demo models agree with the float simulation.
#include "quantscope/Error.h"
#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/IntegerOps.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <QtTest>

#include <cmath>
#include <functional>
#include <random>

using namespace quantscope;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";

struct Params {
    float scale = 1.0f;
    int32_t zeroPoint = 0; // int8
    float dequantize(int32_t q) const { return static_cast<float>(q - zeroPoint) * scale; }
    // The contract's quantize rule: round half to even of x * (1 / scale), plus the zero point.
    int32_t quantize(float x) const {
        return std::clamp(static_cast<int32_t>(std::nearbyint(x * (1.0f / scale))) + zeroPoint, -128, 127);
    }
};

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

Node node(std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs,
          std::map<std::string, Attribute> attributes = {}) {
    Node n;
    n.opType = std::move(op);
    n.name = outputs.front() + "_node";
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    n.attributes = std::move(attributes);
    return n;
}

// A small graph, its activations' parameters, and random int8 codes for each input.
struct Case {
    Graph graph;
    std::map<std::string, Params> params;
    std::map<std::string, std::vector<int32_t>> inputCodes;

    Case() { graph.opset = 13; }
    void input(const std::string& name, std::vector<int64_t> shape, Params p, std::mt19937& rng) {
        graph.inputs.push_back({name, shape, true, DType::F32, true});
        params[name] = p;
        int64_t count = 1;
        for (auto d : shape)
            count *= d;
        std::uniform_int_distribution<int> code(-128, 127);
        auto& codes = inputCodes[name];
        for (int64_t i = 0; i < count; ++i)
            codes.push_back(code(rng));
    }
    void initializer(const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
        graph.initializers[name] = Value::floats(std::move(shape), std::move(values));
    }
    void output(const std::string& name) { graph.outputs.push_back({name, {}, false, DType::F32, true}); }

    ModelQuantConfig config() const {
        ModelQuantConfig config;
        QParamsDocument doc;
        for (const auto& [name, p] : params) {
            QParamsEntry entry;
            entry.name = name;
            entry.kind = TensorKind::Activation;
            entry.spec = config.activation;
            QParams q;
            q.scale = {p.scale};
            q.zeroPoint = {p.zeroPoint};
            q.qmin = -128;
            q.qmax = 127;
            q.min = {p.dequantize(-128)};
            q.max = {p.dequantize(127)};
            entry.params = q;
            doc.tensors.push_back(entry);
        }
        config.params = doc;
        return config;
    }
    std::map<std::string, Value> feed() const {
        std::map<std::string, Value> values;
        for (const auto& in : graph.inputs) {
            std::vector<float> data;
            for (int32_t q : inputCodes.at(in.name))
                data.push_back(params.at(in.name).dequantize(q));
            values[in.name] = Value::floats(in.shape, data);
        }
        return values;
    }
    SampleSet samples() const {
        std::vector<SampleSet::Array> arrays;
        for (const auto& in : graph.inputs) {
            SampleSet::Array array;
            array.name = graph.inputs.size() > 1 ? in.name : "";
            array.sampleShape.assign(in.shape.begin() + 1, in.shape.end());
            array.values = feed().at(in.name).data;
            arrays.push_back(array);
        }
        return SampleSet("in-memory", arrays);
    }
};

// Runs the case in static mode and returns each output's int8 codes.
struct Run {
    std::unique_ptr<Executor> executor;
    std::unique_ptr<QuantizedModel> model;
    std::map<std::string, std::vector<int32_t>> codes;
    std::map<std::string, std::vector<int64_t>> shapes;
};

Run runStatic(const Case& c) {
    Run run;
    run.executor = std::make_unique<Executor>(c.graph);
    run.model = std::make_unique<QuantizedModel>(*run.executor, c.config());
    const std::vector<int64_t>& shape = c.graph.inputs[0].shape;
    run.model->calibrate(c.samples(), shape[0]);
    for (auto& [name, value] : run.model->run(QuantMode::Static, c.feed())) {
        const Params& p = c.params.at(name);
        for (float v : value.data) {
            const float level = v / p.scale;
            const float rounded = std::nearbyint(level);
            if (std::abs(level - rounded) > 1e-3f)
                qWarning("%s: %g is not on the output grid", name.c_str(), static_cast<double>(v));
            run.codes[name].push_back(static_cast<int32_t>(rounded) + p.zeroPoint);
        }
        run.shapes[name] = value.shape;
    }
    return run;
}

// QLinearConv / QLinearMatMul's output for one accumulator: bias folded in accumulator units,
// then the fixed-point multiplier (kernels::FixedPointMultiplier is the gemmlowp definition),
// or ONNX Runtime's float multiplier for the comparison.
struct Epilogue {
    std::vector<double> realMultipliers;
    std::vector<int32_t> bias;
    int32_t zy = 0, lo = -128, hi = 127;

    Epilogue(const Params& x, const std::vector<float>& weightScales, const std::vector<float>& floatBias,
             const Params& y) {
        zy = y.zeroPoint;
        for (std::size_t c = 0; c < weightScales.size(); ++c) {
            const double accScale = static_cast<double>(x.scale) * weightScales[c];
            realMultipliers.push_back(accScale / y.scale);
            bias.push_back(floatBias.empty() ? 0
                                             : static_cast<int32_t>(std::nearbyint(floatBias[c] / accScale)));
        }
    }
    int32_t fixedPoint(int32_t acc, std::size_t c) const {
        const kernels::FixedPointMultiplier m(realMultipliers[c]);
        return std::clamp(m.apply(acc + bias[c]) + zy, lo, hi);
    }
    int32_t floatMultiplier(int32_t acc, std::size_t c) const {
        const float m = static_cast<float>(realMultipliers[c]);
        return std::clamp(static_cast<int32_t>(std::nearbyint(static_cast<float>(acc + bias[c]) * m)) + zy,
                          lo, hi);
    }
};

std::vector<float> randomFloats(std::mt19937& rng, std::size_t n, float range) {
    std::uniform_real_distribution<float> dist(-range, range);
    std::vector<float> v(n);
    for (auto& x : v)
        x = dist(rng);
    return v;
}

// The int8 weights and per-channel scales the model quantized (int8 symmetric per channel).
void layerWeights(const QuantizedModel& model, std::size_t layer, std::vector<int32_t>& w,
                  std::vector<float>& scales) {
    w = model.layers()[layer].weight.integers;
    scales = model.layers()[layer].weight.params.scale;
}

// Convolution accumulators of int8 codes, NCHW, one group per filter block: sum (x - zx) w,
// padding contributing nothing (a real zero).
std::vector<int32_t> convAccumulators(const std::vector<int32_t>& x, int32_t zx, std::vector<int64_t> xs,
                                      const std::vector<int32_t>& w, std::vector<int64_t> ws, int64_t groups,
                                      int64_t stride, int64_t pad, int64_t& outH, int64_t& outW) {
    const int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3], m = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
    outH = (h + 2 * pad - kh) / stride + 1;
    outW = (wd + 2 * pad - kw) / stride + 1;
    std::vector<int32_t> acc(static_cast<std::size_t>(n * m * outH * outW));
    const int64_t mg = m / groups;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t o = 0; o < m; ++o)
            for (int64_t oy = 0; oy < outH; ++oy)
                for (int64_t ox = 0; ox < outW; ++ox) {
                    int32_t sum = 0;
                    const int64_t g = o / mg;
                    for (int64_t ci = 0; ci < cg; ++ci)
                        for (int64_t i = 0; i < kh; ++i)
                            for (int64_t j = 0; j < kw; ++j) {
                                const int64_t y = oy * stride - pad + i, xx = ox * stride - pad + j;
                                if (y < 0 || y >= h || xx < 0 || xx >= wd)
                                    continue;
                                const int64_t channel = g * cg + ci;
                                sum += (x[((b * c + channel) * h + y) * wd + xx] - zx) *
                                       w[((o * cg + ci) * kh + i) * kw + j];
                            }
                    acc[((b * m + o) * outH + oy) * outW + ox] = sum;
                }
    (void)c;
    return acc;
}

} // namespace

class TestModelIntegerOps : public QObject {
    Q_OBJECT

private:
    std::mt19937 m_rng{20261130};

    // Compares the pipeline's conv output with QLinearConv to the producer's parameters (fixed
    // point: exactly; ONNX Runtime's float multiplier: within one level) followed by the fused
    // activation as QDQ computes it: dequantize, `fused`, quantize with the output's parameters.
    void checkConv(const Case& c, int64_t groups, int64_t stride, int64_t pad, const Params& producer,
                   const std::function<float(float)>& fused, const Params& out) {
        const Run run = runStatic(c);
        std::vector<int32_t> w;
        std::vector<float> scales;
        layerWeights(*run.model, 0, w, scales);
        const Value& bias = c.graph.initializers.at("b");
        int64_t outH = 0, outW = 0;
        const auto& xs = c.graph.inputs[0].shape;
        const auto& ws = c.graph.initializers.at("w").shape;
        const auto acc = convAccumulators(c.inputCodes.at("x"), c.params.at("x").zeroPoint, xs, w, ws, groups,
                                          stride, pad, outH, outW);
        const Epilogue epilogue(c.params.at("x"), scales, bias.data, producer);
        const auto activation = [&](int32_t q) { return out.quantize(fused(producer.dequantize(q))); };
        const auto& got = run.codes.at("y");
        QCOMPARE(got.size(), acc.size());
        QCOMPARE(run.shapes.at("y"), (std::vector<int64_t>{xs[0], ws[0], outH, outW}));
        int floatDiffers = 0;
        const int64_t plane = outH * outW;
        for (std::size_t i = 0; i < acc.size(); ++i) {
            const std::size_t channel = static_cast<std::size_t>((static_cast<int64_t>(i) / plane) % ws[0]);
            const int32_t expected = activation(epilogue.fixedPoint(acc[i], channel));
            if (got[i] != expected)
                QFAIL(qPrintable(
                    QStringLiteral("element %1: %2, expected %3").arg(i).arg(got[i]).arg(expected)));
            const int32_t viaFloat = epilogue.floatMultiplier(acc[i], channel);
            QVERIFY(std::abs(epilogue.fixedPoint(acc[i], channel) - viaFloat) <= 1);
            floatDiffers += epilogue.fixedPoint(acc[i], channel) != viaFloat;
        }
        qInfo("%zu outputs, %d differ by one level from the float multiplier", acc.size(), floatDiffers);
        for (const auto& placement : run.model->staticExecution())
            QVERIFY2(placement.integer, placement.node.c_str());
    }

private slots:
    void levelsAndTables() {
        // int8 with zero point -3 stored shifted by 128; binary scales make the ties exact.
        const QuantLevels levels{0.25f, 125, 255};
        QCOMPARE(levels.quantize(0.0f), uint8_t(125));
        QCOMPARE(levels.quantize(0.375f), uint8_t(127)); // 1.5 levels: half to even -> 2
        QCOMPARE(levels.quantize(0.625f), uint8_t(127)); // 2.5 levels -> 2
        QCOMPARE(levels.quantize(-0.625f), uint8_t(123));
        QCOMPARE(levels.quantize(100.0f), uint8_t(255));
        QCOMPARE(levels.quantize(-100.0f), uint8_t(0));
        QCOMPARE(levels.quantize(NAN), uint8_t(125));
        const QuantLevels coarse{0.5f, 10, 15}; // a 4-bit format: codes 0..15
        const CodeTable table = makeCodeTable(levels, coarse, [](float v) { return v; });
        QCOMPARE(table[125], uint8_t(10));
        QCOMPARE(table[126], uint8_t(10)); // 0.25 -> 0.5 levels -> 0
        QCOMPARE(table[127], uint8_t(11)); // 0.5 -> 1
        QCOMPARE(table[128], uint8_t(12)); // 0.75 -> 1.5 -> 2
        QCOMPARE(table[255], uint8_t(15)); // clamped at the format's top code
        QCOMPARE(table[0], uint8_t(0));
    }

    void convWithGroupsAndFusedRelu() {
        Case c;
        c.input("x", {2, 4, 7, 7}, {0.04f, -5}, m_rng);
        c.initializer("w", {6, 2, 3, 3}, randomFloats(m_rng, 6 * 2 * 9, 0.5f));
        c.initializer("b", {6}, randomFloats(m_rng, 6, 0.3f));
        c.graph.nodes.push_back(
            node("Conv", {"x", "w", "b"}, {"conv"},
                 {{"group", integer(2)}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}}));
        c.graph.nodes.push_back(node("Relu", {"conv"}, {"y"}));
        c.output("y");
        c.params["conv"] = {0.05f, 10};
        const Params relu{0.03f, -128};
        c.params["y"] = relu;
        checkConv(
            c, 2, 2, 1, c.params["conv"], [](float v) { return std::max(v, 0.0f); }, relu);
        const Run run = runStatic(c);
        QCOMPARE(run.model->staticExecution().size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(run.model->staticExecution()[1].fusedInto),
                 QStringLiteral("conv_node"));
    }

    // One-group convolutions run kernels::int8ConvRequantizeU8 (NHWC tiles, no im2col matrix):
    // 3 x 3 with padding and a fused Relu, stride 2, and 1 x 1 (whose rows are the NHWC pixels),
    // on shapes with several tiles, tiles across images and odd channel counts.
    void regularConvOnTiles() {
        struct Shape {
            int64_t batch, channels, height, width, outChannels, kernel, stride, pad;
        };
        for (const Shape& t : {Shape{3, 20, 15, 17, 24, 3, 1, 1}, Shape{2, 7, 13, 11, 5, 3, 2, 1},
                               Shape{2, 33, 9, 10, 17, 1, 1, 0}, Shape{2, 16, 12, 12, 8, 1, 2, 0}}) {
            Case c;
            c.input("x", {t.batch, t.channels, t.height, t.width}, {0.04f, -7}, m_rng);
            const int64_t weights = t.outChannels * t.channels * t.kernel * t.kernel;
            c.initializer("w", {t.outChannels, t.channels, t.kernel, t.kernel},
                          randomFloats(m_rng, static_cast<std::size_t>(weights), 0.3f));
            c.initializer("b", {t.outChannels},
                          randomFloats(m_rng, static_cast<std::size_t>(t.outChannels), 0.3f));
            c.graph.nodes.push_back(node(
                "Conv", {"x", "w", "b"}, {"conv"},
                {{"strides", ints({t.stride, t.stride})}, {"pads", ints({t.pad, t.pad, t.pad, t.pad})}}));
            c.graph.nodes.push_back(node("Relu", {"conv"}, {"y"}));
            c.output("y");
            c.params["conv"] = {0.08f, 3};
            c.params["y"] = c.params["conv"]; // the Relu fuses as a clamp at the zero point
            checkConv(
                c, 1, t.stride, t.pad, c.params["conv"], [](float v) { return std::max(v, 0.0f); },
                c.params["conv"]);
        }
    }

    // maxPoolU8 (row maxima, then each window's columns) against the definition: kernels 1-4,
    // strides 1-3, dilation, asymmetric pads, and a window wholly in the padding (false).
    void maxPoolOnCodesMatchesDefinition() {
        struct Pool {
            int64_t kernelH, kernelW, stride, dilation, padTop, padLeft, padBottom, padRight;
        };
        std::uniform_int_distribution<int> code(0, 255);
        for (const Pool& p :
             {Pool{3, 3, 2, 1, 1, 1, 1, 1}, Pool{2, 2, 2, 1, 0, 0, 0, 0}, Pool{1, 1, 1, 1, 0, 0, 0, 0},
              Pool{3, 2, 1, 1, 0, 1, 2, 0}, Pool{4, 4, 3, 1, 2, 2, 2, 2}, Pool{3, 3, 1, 2, 2, 2, 2, 2},
              Pool{3, 3, 2, 1, 0, 0, 1, 1}}) {
            Window2d w;
            w.planes = 3;
            w.height = 9;
            w.width = 11;
            w.kernelH = p.kernelH;
            w.kernelW = p.kernelW;
            w.strideH = w.strideW = p.stride;
            w.dilationH = w.dilationW = p.dilation;
            w.padTop = p.padTop;
            w.padLeft = p.padLeft;
            w.padBottom = p.padBottom;
            w.padRight = p.padRight;
            w.outH = (w.height + p.padTop + p.padBottom - p.dilation * (p.kernelH - 1) - 1) / p.stride + 1;
            w.outW = (w.width + p.padLeft + p.padRight - p.dilation * (p.kernelW - 1) - 1) / p.stride + 1;
            std::vector<uint8_t> x(static_cast<std::size_t>(w.planes * w.height * w.width));
            for (auto& v : x)
                v = static_cast<uint8_t>(code(m_rng));
            std::vector<uint8_t> y(static_cast<std::size_t>(w.planes * w.outH * w.outW));
            QVERIFY(maxPoolU8(x.data(), w, y.data()));
            std::size_t at = 0;
            for (int64_t plane = 0; plane < w.planes; ++plane)
                for (int64_t oy = 0; oy < w.outH; ++oy)
                    for (int64_t ox = 0; ox < w.outW; ++ox) {
                        int best = -1;
                        for (int64_t i = 0; i < w.kernelH; ++i)
                            for (int64_t j = 0; j < w.kernelW; ++j) {
                                const int64_t iy = oy * p.stride - p.padTop + i * p.dilation;
                                const int64_t ix = ox * p.stride - p.padLeft + j * p.dilation;
                                if (iy >= 0 && iy < w.height && ix >= 0 && ix < w.width)
                                    best = std::max<int>(
                                        best,
                                        x[static_cast<std::size_t>((plane * w.height + iy) * w.width + ix)]);
                            }
                        QCOMPARE(static_cast<int>(y[at++]), best);
                    }
        }
        // A 2 x 2 window at stride 3 with padding 2 on the left starts wholly in the padding.
        Window2d w;
        w.planes = 1;
        w.height = w.width = 4;
        w.kernelH = w.kernelW = 2;
        w.strideH = w.strideW = 3;
        w.padLeft = 2;
        w.outH = 1;
        w.outW = 2;
        const std::vector<uint8_t> x(16, 7);
        std::vector<uint8_t> y(2);
        QVERIFY(!maxPoolU8(x.data(), w, y.data()));
    }

    // The same-shape QLinearAdd loop (vectorised rounding) equals the element-by-element rule the
    // broadcasting path keeps (identity indices force it) and round_half_even written here, on all
    // code pairs, with scale ratios that make exact ties and ones above 1.
    void qlinearAddSameShapeMatchesElementRule() {
        std::vector<uint8_t> a, b;
        for (int qa = 0; qa < 256; ++qa)
            for (int qb = 0; qb < 256; ++qb) {
                a.push_back(static_cast<uint8_t>(qa));
                b.push_back(static_cast<uint8_t>(qb));
            }
        std::vector<int64_t> identity(a.size());
        for (std::size_t i = 0; i < identity.size(); ++i)
            identity[i] = static_cast<int64_t>(i);
        struct Scales {
            QuantLevels la, lb, ly;
        };
        for (const Scales& s : {Scales{{0.5f, 128, 255}, {0.25f, 100, 255}, {1.0f, 128, 255}},
                                Scales{{0.031f, 3, 255}, {0.017f, 250, 255}, {0.02f, 0, 255}},
                                Scales{{3.0f, 0, 255}, {0.1f, 255, 255}, {0.01f, 17, 255}},
                                Scales{{0.05f, 8, 15}, {0.05f, 7, 15}, {0.1f, 8, 15}}}) {
            std::vector<uint8_t> fast(a.size()), indexed(a.size());
            qlinearAdd(a.data(), s.la, nullptr, b.data(), s.lb, nullptr, a.size(), fast.data(), s.ly);
            qlinearAdd(a.data(), s.la, identity.data(), b.data(), s.lb, identity.data(), a.size(),
                       indexed.data(), s.ly);
            QCOMPARE(fast, indexed);
            const float ratioA = s.la.scale / s.ly.scale, ratioB = s.lb.scale / s.ly.scale;
            for (std::size_t i = 0; i < a.size(); i += 97) {
                const float v = ratioA * static_cast<float>(a[i] - s.la.zeroPoint) +
                                ratioB * static_cast<float>(b[i] - s.lb.zeroPoint);
                const int expected =
                    std::clamp(static_cast<int>(std::nearbyint(v)) + s.ly.zeroPoint, 0, s.ly.maxCode);
                QCOMPARE(static_cast<int>(fast[i]), expected);
            }
        }
    }

    // A residual block (Conv 3x3 + Relu, MaxPool 3x3 / 2, Conv 1x1, Add) on a pool of two threads
    // gives the codes of one thread: the convs' tiles, the pool's planes and the Add's ranges
    // are each computed by one thread with the same instructions.
    void residualBlockSameOnTwoThreads() {
        Case c;
        c.input("x", {2, 16, 34, 34}, {0.03f, -2}, m_rng);
        c.initializer("w1", {16, 16, 3, 3}, randomFloats(m_rng, 16 * 16 * 9, 0.2f));
        c.initializer("w2", {16, 16, 1, 1}, randomFloats(m_rng, 16 * 16, 0.4f));
        c.graph.nodes.push_back(node("Conv", {"x", "w1"}, {"conv1"}, {{"pads", ints({1, 1, 1, 1})}}));
        c.graph.nodes.push_back(node("Relu", {"conv1"}, {"relu"}));
        c.graph.nodes.push_back(
            node("MaxPool", {"relu"}, {"pool"},
                 {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}}));
        c.graph.nodes.push_back(node("Conv", {"relu", "w2"}, {"conv2"}));
        c.graph.nodes.push_back(node("Add", {"conv2", "x"}, {"sum"}));
        c.output("pool");
        c.output("sum");
        c.params["conv1"] = {0.05f, 0};
        c.params["relu"] = c.params["conv1"];
        c.params["pool"] = c.params["conv1"];
        c.params["conv2"] = {0.04f, 5};
        c.params["sum"] = {0.06f, -3};
        const Run single = runStatic(c);
        Executor executor(c.graph);
        QuantizedModel model(executor, c.config());
        kernels::ThreadPool pool(2);
        model.setThreadPool(&pool);
        model.calibrate(c.samples(), 2);
        const auto outputs = model.run(QuantMode::Static, c.feed());
        for (const char* name : {"pool", "sum"}) {
            const Params& p = c.params.at(name);
            std::vector<int32_t> codes;
            for (float v : outputs.at(name).data)
                codes.push_back(static_cast<int32_t>(std::nearbyint(v / p.scale)) + p.zeroPoint);
            QCOMPARE(codes, single.codes.at(name));
        }
        for (const auto& placement : model.staticExecution())
            QVERIFY2(placement.integer, placement.node.c_str());
    }

    void depthwiseConvWithFusedClip() {
        Case c;
        c.graph.opset = 11;
        c.input("x", {2, 3, 6, 5}, {0.03f, 7}, m_rng);
        c.initializer("w", {3, 1, 3, 3}, randomFloats(m_rng, 27, 0.8f));
        c.initializer("b", {3}, randomFloats(m_rng, 3, 0.2f));
        c.initializer("lo", {}, {0.0f});
        c.initializer("hi", {}, {0.5f});
        c.graph.nodes.push_back(
            node("Conv", {"x", "w", "b"}, {"conv"}, {{"group", integer(3)}, {"pads", ints({1, 1, 1, 1})}}));
        c.graph.nodes.push_back(node("Clip", {"conv", "lo", "hi"}, {"y"}));
        c.output("y");
        c.params["conv"] = {0.02f, 0};
        const Params clip{0.004f, -128};
        c.params["y"] = clip;
        checkConv(
            c, 3, 1, 1, c.params["conv"], [](float v) { return std::clamp(v, 0.0f, 0.5f); }, clip);
        // With the producer's parameters on the Clip's output the fused table is a clamp:
        // Clip(0, 0.5) at scale 0.02 keeps codes [0, 25].
        c.params["y"] = c.params["conv"];
        checkConv(
            c, 3, 1, 1, c.params["conv"], [](float v) { return std::clamp(v, 0.0f, 0.5f); },
            c.params["conv"]);
    }

    void gemmThenMatMul() {
        Case c;
        c.input("x", {5, 12}, {0.02f, 3}, m_rng);
        c.initializer("w", {7, 12}, randomFloats(m_rng, 84, 0.6f));
        c.initializer("b", {7}, randomFloats(m_rng, 7, 0.4f));
        c.initializer("m", {7, 4}, randomFloats(m_rng, 28, 0.6f));
        c.graph.nodes.push_back(node("Gemm", {"x", "w", "b"}, {"h"}, {{"transB", integer(1)}}));
        c.graph.nodes.push_back(node("MatMul", {"h", "m"}, {"y"}));
        c.output("y");
        const Params h{0.03f, -7}, y{0.02f, 4};
        c.params["h"] = h;
        c.params["y"] = y;
        const Run run = runStatic(c);
        std::vector<int32_t> w, m;
        std::vector<float> ws, ms;
        layerWeights(*run.model, 0, w, ws);
        layerWeights(*run.model, 1, m, ms); // stored as the initializer: K x N
        const Params x = c.params["x"];
        const auto& xq = c.inputCodes["x"];
        const Epilogue gemm(x, ws, c.graph.initializers["b"].data, h);
        const Epilogue matmul(h, ms, {}, y);
        for (int64_t i = 0; i < 5; ++i) {
            std::vector<int32_t> hq(7);
            for (int64_t j = 0; j < 7; ++j) {
                int32_t acc = 0;
                for (int64_t k = 0; k < 12; ++k)
                    acc += (xq[i * 12 + k] - x.zeroPoint) * w[j * 12 + k];
                hq[j] = gemm.fixedPoint(acc, j);
            }
            for (int64_t j = 0; j < 4; ++j) {
                int32_t acc = 0;
                for (int64_t k = 0; k < 7; ++k)
                    acc += (hq[k] - h.zeroPoint) * m[k * 4 + j];
                QCOMPARE(run.codes.at("y")[i * 4 + j], matmul.fixedPoint(acc, j));
            }
        }
    }

    void addMulConcatWithBroadcast() {
        Case c;
        c.input("a", {2, 3, 4}, {0.05f, 1}, m_rng);
        c.input("b", {2, 1, 4}, {0.02f, -9}, m_rng);
        c.graph.nodes.push_back(node("Add", {"a", "b"}, {"sum"}));
        c.graph.nodes.push_back(node("Mul", {"a", "b"}, {"product"}));
        Node concat = node("Concat", {"a", "sum"}, {"joined"});
        concat.attributes["axis"] = integer(1);
        c.graph.nodes.push_back(concat);
        c.output("sum");
        c.output("product");
        c.output("joined");
        const Params sum{0.06f, 2}, product{0.01f, -1}, joined{0.07f, 0};
        c.params["sum"] = sum;
        c.params["product"] = product;
        c.params["joined"] = joined;
        const Run run = runStatic(c);
        const Params a = c.params["a"], b = c.params["b"];
        const auto &aq = c.inputCodes["a"], &bq = c.inputCodes["b"];
        auto clamp8 = [](float v, int32_t z) {
            return std::clamp(static_cast<int32_t>(std::nearbyint(v)) + z, -128, 127);
        };
        std::vector<int32_t> sumRef, productRef;
        int simulationDiffers = 0;
        for (int64_t n = 0; n < 2; ++n)
            for (int64_t i = 0; i < 3; ++i)
                for (int64_t j = 0; j < 4; ++j) {
                    const int32_t qa = aq[(n * 3 + i) * 4 + j] - a.zeroPoint,
                                  qb = bq[n * 4 + j] - b.zeroPoint;
                    // QLinearAdd: (sa/sy)(a - za) + (sb/sy)(b - zb), rounded once.
                    sumRef.push_back(clamp8(a.scale / sum.scale * static_cast<float>(qa) +
                                                b.scale / sum.scale * static_cast<float>(qb),
                                            sum.zeroPoint));
                    // QLinearMul: (sa sb / sy)(a - za)(b - zb).
                    productRef.push_back(clamp8(
                        a.scale * b.scale / product.scale * static_cast<float>(qa * qb), product.zeroPoint));
                    // Against dequantize, add, quantize in float: at most one level.
                    const int32_t simulated =
                        sum.quantize(a.dequantize(qa + a.zeroPoint) + b.dequantize(qb + b.zeroPoint));
                    QVERIFY(std::abs(simulated - sumRef.back()) <= 1);
                    simulationDiffers += simulated != sumRef.back();
                }
        qInfo("QLinearAdd differs from the float simulation at %d of 24 values", simulationDiffers);
        QCOMPARE(run.codes.at("sum"), sumRef);
        QCOMPARE(run.codes.at("product"), productRef);
        // QLinearConcat: each input requantized to the output's parameters, then joined.
        std::vector<int32_t> joinedRef;
        for (int64_t n = 0; n < 2; ++n) {
            for (int64_t e = 0; e < 12; ++e)
                joinedRef.push_back(joined.quantize(a.dequantize(aq[n * 12 + e])));
            for (int64_t e = 0; e < 12; ++e)
                joinedRef.push_back(joined.quantize(sum.dequantize(sumRef[n * 12 + e])));
        }
        QCOMPARE(run.codes.at("joined"), joinedRef);
        QCOMPARE(run.shapes.at("joined"), (std::vector<int64_t>{2, 6, 4}));
        for (const auto& placement : run.model->staticExecution())
            QVERIFY2(placement.integer, placement.node.c_str());
    }

    void poolsTablesAndMoves() {
        for (int64_t countPad : {0, 1}) {
            Case c;
            c.input("x", {2, 3, 5, 6}, {0.05f, 12}, m_rng);
            c.graph.nodes.push_back(node("AveragePool", {"x"}, {"avg"},
                                         {{"kernel_shape", ints({3, 3})},
                                          {"strides", ints({2, 2})},
                                          {"pads", ints({1, 1, 1, 1})},
                                          {"count_include_pad", integer(countPad)}}));
            c.graph.nodes.push_back(node("GlobalAveragePool", {"x"}, {"gap"}));
            c.graph.nodes.push_back(
                node("MaxPool", {"x"}, {"max"}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}}));
            c.graph.nodes.push_back(node(
                "MaxPool", {"x"}, {"max3"},
                {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}}));
            c.graph.nodes.push_back(node("Sigmoid", {"x"}, {"sig"}));
            c.graph.nodes.push_back(node("Flatten", {"max"}, {"flat"}));
            for (const char* out : {"avg", "gap", "sig", "flat", "max3"})
                c.output(out);
            const Params avg{0.03f, 5}, gap{0.01f, -20}, sig{1.0f / 256.0f, -128};
            c.params["avg"] = avg;
            c.params["gap"] = gap;
            c.params["max"] = c.params["x"];
            c.params["max3"] = c.params["x"];
            c.params["flat"] = {0.1f, 6}; // other parameters than its input: requantized
            c.params["sig"] = sig;
            const Run run = runStatic(c);
            const Params x = c.params["x"];
            const auto& xq = c.inputCodes["x"];
            // QLinearAveragePool: integer sum of (x - zx) over the window, times sx / (sy * count).
            std::vector<int32_t> avgRef;
            for (int64_t plane = 0; plane < 6; ++plane)
                for (int64_t oy = 0; oy < 3; ++oy)
                    for (int64_t ox = 0; ox < 3; ++ox) {
                        int32_t sum = 0, count = 0;
                        for (int64_t i = 0; i < 3; ++i)
                            for (int64_t j = 0; j < 3; ++j) {
                                const int64_t y = oy * 2 - 1 + i, xx = ox * 2 - 1 + j;
                                if (y < 0 || y >= 5 || xx < 0 || xx >= 6) {
                                    count += static_cast<int32_t>(countPad);
                                    continue;
                                }
                                sum += xq[(plane * 5 + y) * 6 + xx] - x.zeroPoint;
                                ++count;
                            }
                        const float ratio = x.scale / (avg.scale * static_cast<float>(count));
                        avgRef.push_back(
                            std::clamp(static_cast<int32_t>(std::nearbyint(static_cast<float>(sum) * ratio)) +
                                           avg.zeroPoint,
                                       -128, 127));
                    }
            QCOMPARE(run.codes.at("avg"), avgRef);
            std::vector<int32_t> gapRef, sigRef, flatRef;
            for (int64_t plane = 0; plane < 6; ++plane) {
                int32_t sum = 0;
                for (int64_t e = 0; e < 30; ++e)
                    sum += xq[plane * 30 + e] - x.zeroPoint;
                const float ratio = x.scale / (gap.scale * 30.0f);
                gapRef.push_back(std::clamp(
                    static_cast<int32_t>(std::nearbyint(static_cast<float>(sum) * ratio)) + gap.zeroPoint,
                    -128, 127));
                for (int64_t oy = 0; oy < 2; ++oy)
                    for (int64_t ox = 0; ox < 3; ++ox) {
                        int32_t best = -128;
                        for (int64_t i = 0; i < 2; ++i)
                            for (int64_t j = 0; j < 2; ++j)
                                best = std::max(best, xq[(plane * 5 + oy * 2 + i) * 6 + ox * 2 + j]);
                        flatRef.push_back(c.params["flat"].quantize(x.dequantize(best)));
                    }
            }
            QCOMPARE(run.codes.at("gap"), gapRef);
            QCOMPARE(run.codes.at("flat"), flatRef);
            // MaxPool 3x3, stride 2, padding 1 (ResNet's stem): the largest code of the cells inside.
            std::vector<int32_t> max3Ref;
            for (int64_t plane = 0; plane < 6; ++plane)
                for (int64_t oy = 0; oy < 3; ++oy)
                    for (int64_t ox = 0; ox < 3; ++ox) {
                        int32_t best = -128;
                        for (int64_t i = 0; i < 3; ++i)
                            for (int64_t j = 0; j < 3; ++j) {
                                const int64_t y = oy * 2 - 1 + i, xx = ox * 2 - 1 + j;
                                if (y >= 0 && y < 5 && xx >= 0 && xx < 6)
                                    best = std::max(best, xq[(plane * 5 + y) * 6 + xx]);
                            }
                        max3Ref.push_back(best);
                    }
            QCOMPARE(run.codes.at("max3"), max3Ref);
            QCOMPARE(run.shapes.at("flat"), (std::vector<int64_t>{2, 3 * 2 * 3}));
            // QLinearSigmoid: the table of dequantize, sigmoid, quantize.
            for (int32_t q : xq)
                sigRef.push_back(sig.quantize(
                    static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x.dequantize(q)))))));
            QCOMPARE(run.codes.at("sig"), sigRef);
            for (const auto& placement : run.model->staticExecution())
                QVERIFY2(placement.integer, placement.node.c_str());
        }
    }

    void unsupportedOpsFallBackToFloat() {
        // Softmax has no integer version: it runs in fp32 on the dequantized input and its
        // output is quantized again; the result equals the simulation's.
        Case c;
        c.input("x", {3, 5}, {0.1f, 0}, m_rng);
        c.graph.nodes.push_back(node("Softmax", {"x"}, {"p"}));
        c.graph.nodes.push_back(node("Relu", {"p"}, {"y"}));
        c.output("y");
        c.params["p"] = {1.0f / 255.0f, -128};
        c.params["y"] = {1.0f / 255.0f, -128};
        const Run run = runStatic(c);
        const auto& placements = run.model->staticExecution();
        QCOMPARE(placements.size(), std::size_t(2));
        QVERIFY(!placements[0].integer);
        QVERIFY(placements[1].integer);
        const Value simulated = run.model->runStaticSimulation(c.feed()).at("y");
        const Value integer = run.model->run(QuantMode::Static, c.feed()).at("y");
        QCOMPARE(integer.data, simulated.data);
    }

    void dynamicConvQuantizesEachImage() {
        // Dynamic Conv runs the int8 GEMM with each image's own range: a Conv's output for an
        // image is the same alone as in a batch (the final Gemm's range is per batch, as in
        // PyTorch), and the logits stay close to fp32.
        const Executor executor(loadOnnxGraph(kDemo + "digits_cnn.onnx"));
        const QuantizedModel model(executor, {});
        QCOMPARE(executor.graph().nodes[model.layers()[1].nodeIndex].opType, std::string("Conv"));
        const std::string conv = executor.graph().nodes[model.layers()[1].nodeIndex].outputs[0];
        const SampleSet test = SampleSet::load(kDemo + "digits_test.npy");
        const GraphValueInfo& input = executor.graph().inputs[0];
        auto convOutput = [&](int64_t first, int64_t n, Value& logits) {
            Value captured;
            logits = model
                         .run(QuantMode::Dynamic, {{input.name, test.batch(first, n, input)}},
                              [&](const std::string& name, const Value& value) {
                                  if (name == conv)
                                      captured = value;
                              })
                         .at("logits");
            return captured;
        };
        Value logits, single;
        const Value batch = convOutput(0, 16, logits);
        const std::size_t perImage = batch.data.size() / 16;
        for (int64_t i = 0; i < 16; ++i) {
            const Value alone = convOutput(i, 1, single);
            QCOMPARE(alone.data.size(), perImage);
            for (std::size_t j = 0; j < perImage; ++j)
                QCOMPARE(alone.data[j], batch.data[static_cast<std::size_t>(i) * perImage + j]);
        }
        const Value fp32 = model.run(QuantMode::Fp32, {{input.name, test.batch(0, 16, input)}}).at("logits");
        double signal = 0.0, noise = 0.0;
        for (std::size_t i = 0; i < fp32.data.size(); ++i) {
            signal += fp32.data[i] * fp32.data[i];
            noise += (fp32.data[i] - logits.data[i]) * (fp32.data[i] - logits.data[i]);
        }
        QVERIFY(noise > 0.0); // quantized, not fp32
        qInfo("dynamic CNN: SQNR %.1f dB against fp32", 10.0 * std::log10(signal / noise));
        QVERIFY(10.0 * std::log10(signal / noise) > 25.0);
    }

    void demoModelsAgreeWithSimulation() {
        const SampleSet calib = SampleSet::load(kDemo + "digits_calib.npy");
        const SampleSet test = SampleSet::load(kDemo + "digits_test.npy");
        const std::vector<int64_t> labels = loadLabels(kDemo + "digits_test_labels.npy");
        for (const char* file : {"digits_mlp.onnx", "digits_cnn.onnx"}) {
            const Executor executor(loadOnnxGraph(kDemo + file));
            QuantizedModel model(executor, {});
            model.calibrate(calib, 256);
            int integerOps = 0;
            for (const auto& placement : model.staticExecution())
                integerOps += placement.integer;
            const std::string outputName = executor.graph().outputs[0].name;
            const float outScale = model.activationParams(outputName)->scale[0];
            int64_t differ = 0, total = 0, agree = 0, correctInteger = 0, correctSimulated = 0;
            float worst = 0.0f;
            for (int64_t first = 0; first < test.count(); first += 256) {
                const int64_t n = std::min<int64_t>(256, test.count() - first);
                const std::map<std::string, Value> feed{
                    {executor.graph().inputs[0].name, test.batch(first, n, executor.graph().inputs[0])}};
                const Value integer = model.run(QuantMode::Static, feed).at(outputName);
                const Value simulated = model.runStaticSimulation(feed).at(outputName);
                QCOMPARE(integer.shape, simulated.shape);
                const int64_t classes = integer.shape[1];
                for (std::size_t i = 0; i < integer.data.size(); ++i) {
                    const float levels = std::abs(integer.data[i] - simulated.data[i]) / outScale;
                    worst = std::max(worst, levels);
                    differ += levels > 0.5f;
                    ++total;
                }
                for (int64_t r = 0; r < n; ++r) {
                    const auto argmax = [&](const Value& v) {
                        return std::max_element(v.data.begin() + r * classes,
                                                v.data.begin() + (r + 1) * classes) -
                               (v.data.begin() + r * classes);
                    };
                    agree += argmax(integer) == argmax(simulated);
                    correctInteger += argmax(integer) == labels[first + r];
                    correctSimulated += argmax(simulated) == labels[first + r];
                }
            }
            qInfo("%s: %d of %zu ops in integers; %lld of %lld outputs differ from the simulation, at most "
                  "%.2f levels; top-1 agreement %lld / %lld; accuracy integer %lld simulated %lld of 539",
                  file, integerOps, model.staticExecution().size(), static_cast<long long>(differ),
                  static_cast<long long>(total), static_cast<double>(worst), static_cast<long long>(agree),
                  static_cast<long long>(test.count()), static_cast<long long>(correctInteger),
                  static_cast<long long>(correctSimulated));
            QCOMPARE(integerOps, static_cast<int>(model.staticExecution().size()));
            QVERIFY(worst <= 1.0f + 1e-3f);
            QVERIFY(correctInteger >= correctSimulated - 2);
        }
    }
};

QTEST_GUILESS_MAIN(TestModelIntegerOps)
#include "tst_model_integer_ops.moc"
