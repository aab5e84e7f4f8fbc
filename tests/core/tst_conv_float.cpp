// The executor's fp32 Conv against a plain grouped convolution in double written here, on each of
// its paths (1 x 1 straight to sgemm, im2col + sgemm, grouped, depthwise with channel multipliers,
// strides, dilations, asymmetric pads), each followed by the Relu / Clip the executor fuses into
// it; and the fusion itself: the fused run gives the same bits as the unfused one (a hook that
// sees every value turns fusion off), NaN follows each op's own rule, and a Conv whose output
// someone else reads, or that runs through another path (3-D), still gives every value right.
#include "quantscope/model/Executor.h"
#include "quantscope/model/OpProfile.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace quantscope;

namespace {

struct ConvCase {
    std::vector<int64_t> input;  // N, C, spatial...
    std::vector<int64_t> weight; // M, C / group, kernel...
    int64_t group = 1;
    std::vector<int64_t> strides, dilations, pads; // empty: ONNX defaults
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

Attribute real(float value) {
    Attribute a;
    a.kind = Attribute::Kind::Float;
    a.f = value;
    return a;
}

std::vector<float> normals(std::mt19937& rng, int64_t count) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(count));
    for (auto& x : v)
        x = normal(rng);
    return v;
}

int64_t product(const std::vector<int64_t>& shape) {
    int64_t p = 1;
    for (int64_t d : shape)
        p *= d;
    return p;
}

// x -> Conv (W, B) -> "c" -> activation -> "y". activation: "Relu", "Clip" (bounds 0 and 6 as
// inputs, opset 13), "Clip10" (bounds as attributes at opset 10) or "" (none: "c" is the output).
Graph convGraph(const ConvCase& c, const std::string& activation, std::mt19937& rng) {
    Graph graph;
    graph.opset = activation == "Clip10" ? 10 : 13;
    graph.inputs.push_back({"x", c.input, true, DType::F32, true});
    graph.initializers["W"] = Value::floats(c.weight, normals(rng, product(c.weight)));
    graph.initializers["B"] = Value::floats({c.weight[0]}, normals(rng, c.weight[0]));
    Node conv;
    conv.opType = "Conv";
    conv.name = "conv";
    conv.inputs = {"x", "W", "B"};
    conv.outputs = {"c"};
    conv.attributes["group"] = integer(c.group);
    if (!c.strides.empty())
        conv.attributes["strides"] = ints(c.strides);
    if (!c.dilations.empty())
        conv.attributes["dilations"] = ints(c.dilations);
    if (!c.pads.empty())
        conv.attributes["pads"] = ints(c.pads);
    graph.nodes.push_back(conv);
    if (activation.empty()) {
        graph.outputs.push_back({"c", {}, false, DType::F32, true});
        return graph;
    }
    Node act;
    act.name = "act";
    act.opType = activation == "Relu" ? "Relu" : "Clip";
    act.inputs = {"c"};
    act.outputs = {"y"};
    if (activation == "Clip") {
        graph.initializers["lo"] = Value::floats({}, {0.0f});
        graph.initializers["hi"] = Value::floats({}, {6.0f});
        act.inputs = {"c", "lo", "hi"};
    } else if (activation == "Clip10") {
        act.attributes["min"] = real(-1.0f);
        act.attributes["max"] = real(1.5f);
    }
    graph.nodes.push_back(act);
    graph.outputs.push_back({"y", {}, false, DType::F32, true});
    return graph;
}

// A grouped convolution of 1 to 3 spatial axes from ONNX's definition, summed in double; also the
// sum of the terms' magnitudes (the scale of float rounding error) per output.
struct Reference {
    std::vector<int64_t> shape;
    std::vector<double> values, magnitudes;
};

Reference referenceConv(const ConvCase& c, const std::vector<float>& x, const Value& w, const Value& b) {
    const size_t axes = c.input.size() - 2;
    std::vector<int64_t> stride(axes, 1), dilation(axes, 1), padBegin(axes, 0), padEnd(axes, 0), out(axes);
    for (size_t a = 0; a < axes; ++a) {
        if (!c.strides.empty())
            stride[a] = c.strides[a];
        if (!c.dilations.empty())
            dilation[a] = c.dilations[a];
        if (!c.pads.empty()) {
            padBegin[a] = c.pads[a];
            padEnd[a] = c.pads[a + axes];
        }
        out[a] =
            (c.input[2 + a] + padBegin[a] + padEnd[a] - (c.weight[2 + a] - 1) * dilation[a] - 1) / stride[a] +
            1;
    }
    const int64_t batch = c.input[0], channels = c.input[1], outChannels = c.weight[0];
    const int64_t groupIn = channels / c.group, groupOut = outChannels / c.group;
    Reference r;
    r.shape = {batch, outChannels};
    r.shape.insert(r.shape.end(), out.begin(), out.end());
    const int64_t outSpatial = product(out), kernelSize = product({c.weight.begin() + 2, c.weight.end()});
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t m = 0; m < outChannels; ++m) {
            for (int64_t o = 0; o < outSpatial; ++o) {
                std::vector<int64_t> at(axes);
                for (int64_t rest = o, a = static_cast<int64_t>(axes) - 1; a >= 0; --a) {
                    at[a] = rest % out[a];
                    rest /= out[a];
                }
                double sum = b.data[m], magnitude = std::fabs(b.data[m]);
                for (int64_t ci = 0; ci < groupIn; ++ci) {
                    const int64_t channel = (m / groupOut) * groupIn + ci;
                    for (int64_t k = 0; k < kernelSize; ++k) {
                        int64_t offset = 0;
                        bool inside = true;
                        for (int64_t rest = k, a = static_cast<int64_t>(axes) - 1; a >= 0; --a) {
                            const int64_t tap = rest % c.weight[2 + a];
                            rest /= c.weight[2 + a];
                            const int64_t pos = at[a] * stride[a] - padBegin[a] + tap * dilation[a];
                            inside = inside && pos >= 0 && pos < c.input[2 + a];
                            int64_t scale = 1;
                            for (size_t inner = a + 1; inner < axes; ++inner)
                                scale *= c.input[2 + inner];
                            offset += pos * scale;
                        }
                        if (!inside)
                            continue;
                        const double term =
                            double{x[static_cast<size_t>((n * channels + channel) *
                                                             product({c.input.begin() + 2, c.input.end()}) +
                                                         offset)]} *
                            w.data[static_cast<size_t>((m * groupIn + ci) * kernelSize + k)];
                        sum += term;
                        magnitude += std::fabs(term);
                    }
                }
                r.values.push_back(sum);
                r.magnitudes.push_back(magnitude);
            }
        }
    }
    return r;
}

double activate(const std::string& activation, double v) {
    if (activation == "Relu")
        return v > 0.0 ? v : 0.0;
    if (activation == "Clip")
        return std::min(std::max(v, 0.0), 6.0);
    if (activation == "Clip10")
        return std::min(std::max(v, -1.0), 1.5);
    return v;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs with a hook that sees every value: the executor then runs each node on its own.
std::map<std::string, Value> runUnfused(const Executor& executor, const Value& x,
                                        std::vector<std::string>* seen) {
    Executor::Hooks hooks;
    hooks.onValue = [seen](const std::string& name, Value&) {
        if (seen)
            seen->push_back(name);
    };
    return executor.run({{"x", x}}, hooks);
}

} // namespace

class TestConvFloat : public QObject {
    Q_OBJECT

private slots:
    void convMatchesDouble_data() {
        QTest::addColumn<int>("which");
        const char* names[] = {"depthwise 3x3 stride 1",
                               "depthwise 3x3 stride 2",
                               "depthwise multiplier 2",
                               "depthwise dilation 2",
                               "depthwise asymmetric pads",
                               "grouped, 3 channels a group",
                               "dense 3x3",
                               "pointwise 1x1",
                               "1x1 stride 2",
                               "single-channel depthwise",
                               "1-D depthwise",
                               "3-D dense"};
        for (int i = 0; i < static_cast<int>(std::size(names)); ++i)
            QTest::newRow(names[i]) << i;
    }
    void convMatchesDouble() {
        QFETCH(int, which);
        const ConvCase cases[] = {
            {{2, 8, 19, 21}, {8, 1, 3, 3}, 8, {}, {}, {1, 1, 1, 1}},
            {{2, 8, 20, 37}, {8, 1, 3, 3}, 8, {2, 2}, {}, {1, 1, 1, 1}},
            {{1, 4, 11, 13}, {8, 1, 3, 3}, 4, {1, 2}, {}, {0, 1, 1, 0}},
            {{1, 6, 15, 40}, {6, 1, 3, 3}, 6, {}, {2, 2}, {2, 2, 2, 2}},
            {{2, 5, 9, 33}, {5, 1, 5, 3}, 5, {2, 1}, {}, {0, 2, 3, 1}},
            {{2, 6, 10, 12}, {4, 3, 3, 3}, 2, {}, {}, {1, 1, 1, 1}},
            {{2, 3, 12, 12}, {5, 3, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}},
            {{3, 16, 7, 9}, {24, 16, 1, 1}, 1, {}, {}, {}},
            {{2, 16, 8, 9}, {8, 16, 1, 1}, 1, {2, 2}, {}, {}},
            {{2, 1, 9, 9}, {1, 1, 3, 3}, 1, {}, {}, {1, 1, 1, 1}},
            {{2, 4, 50}, {4, 1, 5}, 4, {2}, {}, {2, 2}},
            {{1, 2, 5, 6, 7}, {3, 2, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1, 1, 1}},
        };
        const ConvCase& c = cases[which];
        std::mt19937 rng(20261130u + static_cast<unsigned>(which));
        for (const std::string activation : {"Clip", "Relu", "Clip10", ""}) {
            const Graph graph = convGraph(c, activation, rng);
            const Executor executor(graph);
            const Value x = Value::floats(c.input, normals(rng, product(c.input)));
            const auto outputs = executor.run({{"x", x}});
            const Value& y = outputs.at(activation.empty() ? "c" : "y");
            const Reference r =
                referenceConv(c, x.data, graph.initializers.at("W"), graph.initializers.at("B"));
            QCOMPARE(y.shape, r.shape);
            QCOMPARE(y.data.size(), r.values.size());
            for (size_t i = 0; i < r.values.size(); ++i) {
                const double expected = activate(activation, r.values[i]);
                const double bound = 1e-5 * r.magnitudes[i] + 1e-30;
                if (std::fabs(y.data[i] - expected) > bound)
                    QFAIL(qPrintable(QStringLiteral("%1: value %2 is %3, expected %4")
                                         .arg(QString::fromStdString(activation))
                                         .arg(i)
                                         .arg(double{y.data[i]}, 0, 'g', 9)
                                         .arg(expected, 0, 'g', 9)));
            }
            // The same bits as the nodes run one by one (the hook sees the Conv's own output).
            std::vector<std::string> seen;
            const auto unfused = runUnfused(executor, x, &seen);
            QVERIFY(sameBits(unfused.at(activation.empty() ? "c" : "y").data, y.data));
            QVERIFY(std::find(seen.begin(), seen.end(), "c") != seen.end());
        }
    }

    // NaN reaches the outputs whose windows read it; the fused Clip keeps it and the fused Relu
    // zeroes it, bit for bit as the ops do on their own.
    void fusedActivationKeepsEachRule() {
        std::mt19937 rng(7u);
        for (const ConvCase& c : {ConvCase{{1, 4, 10, 20}, {4, 1, 3, 3}, 4, {}, {}, {1, 1, 1, 1}},
                                  ConvCase{{1, 4, 10, 20}, {6, 4, 1, 1}, 1, {}, {}, {}}}) {
            for (const std::string activation : {"Clip", "Relu"}) {
                const Executor executor(convGraph(c, activation, rng));
                Value x = Value::floats(c.input, normals(rng, product(c.input)));
                x.data[3 * 20 + 7] = std::numeric_limits<float>::quiet_NaN();
                x.data[200 + 5 * 20 + 19] = -0.0f;
                const auto fused = executor.run({{"x", x}});
                const auto unfused = runUnfused(executor, x, nullptr);
                QVERIFY(sameBits(fused.at("y").data, unfused.at("y").data));
                int nans = 0;
                for (float v : fused.at("y").data)
                    nans += std::isnan(v);
                QCOMPARE(nans > 0, activation == "Clip");
            }
        }
    }

    // A Conv whose output is also a graph output, or read by a second node, keeps it unclamped.
    void sharedConvOutputIsNotFused() {
        std::mt19937 rng(11u);
        const ConvCase c{{1, 3, 6, 6}, {3, 1, 3, 3}, 3, {}, {}, {1, 1, 1, 1}};
        for (bool secondReader : {false, true}) {
            Graph graph = convGraph(c, "Clip", rng);
            if (secondReader) {
                Node neg;
                neg.opType = "Neg";
                neg.name = "neg";
                neg.inputs = {"c"};
                neg.outputs = {"n"};
                graph.nodes.push_back(neg);
                graph.outputs.push_back({"n", {}, false, DType::F32, true});
            } else {
                graph.outputs.push_back({"c", {}, false, DType::F32, true});
            }
            const Executor executor(graph);
            const Value x = Value::floats(c.input, normals(rng, product(c.input)));
            const auto outputs = executor.run({{"x", x}});
            const Value& conv = secondReader ? outputs.at("n") : outputs.at("c");
            const Value& y = outputs.at("y");
            bool outside = false;
            for (size_t i = 0; i < y.data.size(); ++i) {
                const float raw = secondReader ? -conv.data[i] : conv.data[i];
                QCOMPARE(y.data[i], std::min(std::max(raw, 0.0f), 6.0f));
                outside = outside || raw < 0.0f;
            }
            QVERIFY(outside); // the comparison saw values the clamp changes
        }
    }

    // The profile names a fused pair after both ops.
    void profileNamesFusedPairs() {
        std::mt19937 rng(3u);
        const ConvCase c{{1, 2, 5, 5}, {2, 1, 3, 3}, 2, {}, {}, {1, 1, 1, 1}};
        const Executor executor(convGraph(c, "Clip", rng));
        OpProfile profile;
        OpProfile::setActive(&profile);
        executor.run({{"x", Value::floats(c.input, normals(rng, product(c.input)))}});
        OpProfile::setActive(nullptr);
        const auto entries = profile.entries();
        QCOMPARE(entries.size(), size_t{1});
        QCOMPARE(entries[0].opType, std::string("Conv+Clip"));
        QCOMPARE(entries[0].calls, int64_t{1});
    }
};

QTEST_GUILESS_MAIN(TestConvFloat)
#include "tst_conv_float.moc"
