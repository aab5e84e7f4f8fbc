// Parameter files of other toolchains: the hand-written files in tests/data/interop/ (written from
// each format's documentation, not by our writers) read into the values derived by hand, every
// format's write -> read keeps the parameters bit for bit, what a target cannot express is
// reported, and malformed files are clear errors naming the file and the entry.
#include "quantscope/Error.h"
#include "quantscope/interop/ParamFileFormat.h"

#include <QtTest>

#include <bit>
#include <cmath>

using namespace quantscope;

namespace {

const std::string kData = QUANTSCOPE_TEST_DATA "/interop/";

QParamsDocument readData(const std::string& file, std::string_view format = {}) {
    std::vector<ConversionNote> notes;
    return readParamFile(kData + file, format, notes);
}

QParamsDocument readText(std::string_view format, const std::string& text) {
    std::vector<ConversionNote> notes;
    return paramFileFormat(format).read(text, "bad.file", notes);
}

const QParamsEntry& entryNamed(const QParamsDocument& document, const std::string& name) {
    const QParamsEntry* entry = document.find(name);
    if (!entry)
        qFatal("no entry %s", name.c_str());
    return *entry;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i]))
            return false;
    return true;
}

// The error message of reading `text` as `format`; empty when it did not throw.
std::string errorOf(std::string_view format, const std::string& text) {
    try {
        readText(format, text);
    } catch (const Error& error) {
        return error.what();
    }
    return {};
}

QParamsEntry entry(const std::string& name, TensorKind kind, const char* dtype, Scheme scheme,
                   std::vector<float> scale, std::vector<int32_t> zeroPoint,
                   Granularity granularity = Granularity::Tensor, int axis = 0, int64_t groupSize = 128) {
    QParamsEntry e;
    e.name = name;
    e.kind = kind;
    e.spec.format = QuantFormat::parse(dtype);
    e.spec.scheme = scheme;
    e.spec.granularity = granularity;
    e.spec.axis = axis;
    e.spec.groupSize = groupSize;
    QParams p;
    p.qmin = e.spec.qmin();
    p.qmax = e.spec.qmax();
    p.min.assign(scale.size(), 0.0f);
    p.max.assign(scale.size(), 0.0f);
    p.scale = std::move(scale);
    p.zeroPoint = std::move(zeroPoint);
    e.params = p;
    return e;
}

// Scales whose shortest decimal needs all nine digits, and one that is a power of two.
const float kThird = 1.0f / 3.0f;
const float kOdd = std::nextafter(0.0123f, 1.0f);

} // namespace

class TestInteropFormats : public QObject {
    Q_OBJECT

private slots:
    void trtCacheFromDocumentation() {
        const QParamsDocument doc = readData("small.trt-cache");
        QCOMPARE(doc.tensors.size(), std::size_t(2));
        const QParamsEntry& input = entryNamed(doc, "input");
        // 3c010204 is the float32 1/127: amax 1.0 over 127 levels.
        QCOMPARE(std::bit_cast<uint32_t>(input.params->scale[0]), 0x3c010204u);
        QCOMPARE(input.params->scale[0], 1.0f / 127.0f);
        QCOMPARE(input.params->zeroPoint[0], 0);
        QCOMPARE(input.spec.format.name(), std::string("int8"));
        QCOMPARE(input.spec.qmin(), int64_t(-127)); // TensorRT's symmetric range
        // A TensorFlow-style name with its own ':' keeps it; the scale follows the last ": ".
        QCOMPARE(entryNamed(doc, "conv1/Relu:0").params->scale[0], 0.05f);
        // Our writer gives the same text for the same parameters.
        std::vector<ConversionNote> notes;
        QCOMPARE(paramFileFormat("trt-cache").write(doc, notes),
                 std::string("TRT-8601-EntropyCalibration2\ninput: 3c010204\nconv1/Relu:0: 3d4ccccd\n"));
        QVERIFY(notes.empty());
    }

    void aimetLegacyFromDocumentation() {
        const QParamsDocument doc = readData("small.aimet.json");
        // The activation of the specification's example: offset -114 is zero point 114 on uint8.
        const QParamsEntry& act = entryNamed(doc, "20");
        QCOMPARE(act.kind, TensorKind::Activation);
        QCOMPARE(act.spec.format.name(), std::string("uint8"));
        QCOMPARE(act.spec.scheme, Scheme::Affine);
        QCOMPARE(act.params->zeroPoint, std::vector<int32_t>{114});
        QCOMPARE(act.params->scale[0], static_cast<float>(0.018501389771699905));
        // Two encodings are per channel; a symmetric offset -128 is zero point 0 on int8.
        const QParamsEntry& weight = entryNamed(doc, "conv2.weight");
        QCOMPARE(weight.kind, TensorKind::Weight);
        QCOMPARE(weight.spec.format.name(), std::string("int8"));
        QCOMPARE(weight.spec.scheme, Scheme::Symmetric);
        QCOMPARE(weight.spec.granularity, Granularity::Channel);
        QCOMPARE(weight.params->scale, (std::vector<float>{0.005f, 0.01f}));
        QCOMPARE(weight.params->zeroPoint, (std::vector<int32_t>{0, 0}));
        QCOMPARE(entryNamed(doc, "fc.bias").spec.format.name(), std::string("fp16"));
    }

    void aimet1FromDocumentation() {
        const QParamsDocument doc = readData("small.aimet-1.json");
        const QParamsEntry& conv = entryNamed(doc, "conv1.weight");
        QCOMPARE(conv.spec.granularity, Granularity::Channel);
        QCOMPARE(conv.spec.axis, 0);
        QCOMPARE(conv.spec.format.name(), std::string("int8"));
        QCOMPARE(conv.params->scale, (std::vector<float>{0.012f, 0.015f, 0.011f}));
        QCOMPARE(conv.params->zeroPoint, (std::vector<int32_t>{0, 0, 0}));
        const QParamsEntry& act16 = entryNamed(doc, "/fc1/Gemm_output_0");
        QCOMPARE(act16.spec.format.name(), std::string("uint16"));
        QCOMPARE(act16.params->zeroPoint, std::vector<int32_t>{35799});
        QCOMPARE(act16.params->scale[0], 6.05e-05f);
        const QParamsEntry& blocks = entryNamed(doc, "fc1.weight");
        QCOMPARE(blocks.spec.format.name(), std::string("int4"));
        QCOMPARE(blocks.spec.granularity, Granularity::Group);
        QCOMPARE(blocks.spec.groupSize, int64_t(2));
        QCOMPARE(blocks.spec.axis, 1);
        QCOMPARE(blocks.params->zeroPoint, (std::vector<int32_t>{0, 0, 0, 0}));
        QCOMPARE(entryNamed(doc, "input").params->zeroPoint, std::vector<int32_t>{0});
    }

    void aimet2FromDocumentation() {
        const QParamsDocument doc = readData("small.aimet-2.json");
        const QParamsEntry& act = entryNamed(doc, "act");
        QCOMPARE(act.spec.format.name(), std::string("uint8"));
        QCOMPARE(act.spec.scheme, Scheme::Affine);
        QCOMPARE(act.params->scale[0], 0.01f);
        QCOMPARE(act.params->zeroPoint[0], 41); // ONNX's zero point, not negated
        const QParamsEntry& conv = entryNamed(doc, "conv.weight");
        QCOMPARE(conv.spec.granularity, Granularity::Channel);
        QCOMPARE(conv.spec.scheme, Scheme::Symmetric);
        QCOMPARE(conv.params->scale.size(), std::size_t(3));
        const QParamsEntry& fc = entryNamed(doc, "fc.weight");
        QCOMPARE(fc.spec.format.name(), std::string("int4"));
        QCOMPARE(fc.spec.granularity, Granularity::Group);
        QCOMPARE(fc.spec.axis, 1);
        QCOMPARE(fc.spec.groupSize, int64_t(32));
        // The nested block grid, row-major.
        QCOMPARE(fc.params->scale, (std::vector<float>{0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f}));
        const QParamsEntry& logits = entryNamed(doc, "logits");
        QCOMPARE(logits.spec.format.name(), std::string("int16"));
        QCOMPARE(logits.params->zeroPoint[0], 0); // y_zero_point may be omitted
    }

    void ortTableFromDocumentation() {
        for (const char* file : {"small.ort-calibration.json", "small.ort-calibration.cache"}) {
            const QParamsDocument doc = readData(file);
            const QParamsEntry& relu = entryNamed(doc, "relu_out");
            QCOMPARE(relu.spec.format.name(), std::string("uint8"));
            if (std::string(file).ends_with(".json")) {
                // uint8 affine of [0, 2.55]: scale 2.55 / 255 in float32, zero point 0.
                QCOMPARE(relu.params->scale[0], 2.55f / 255.0f);
                QCOMPARE(relu.params->zeroPoint[0], 0);
                const QParamsEntry& input = entryNamed(doc, "input");
                QCOMPARE(input.params->min[0], -1.0f);
                QCOMPARE(input.params->max[0], 0.5f);
                // 1.5 / 255 per level; zero sits round(1 / (1.5/255)) = 170 levels up.
                QCOMPARE(input.params->scale[0], 1.5f / 255.0f);
                QCOMPARE(input.params->zeroPoint[0], 170);
            } else {
                // calibration.cache has one value per tensor: the range [-v, v], so 5.1 / 255 per
                // level and zero at round(127.5) = 128 (ties to even).
                QCOMPARE(relu.params->min[0], -2.55f);
                QCOMPARE(relu.params->scale[0], (2.55f + 2.55f) / 255.0f);
                QCOMPARE(relu.params->zeroPoint[0], 128);
            }
        }
    }

    void ortOverridesFromDocumentation() {
        const QParamsDocument doc = readData("small.ort-overrides.json");
        const QParamsEntry& input = entryNamed(doc, "input");
        QCOMPARE(input.spec.format.name(), std::string("uint8"));
        QCOMPARE(input.params->scale[0], 0.0078125f);
        QCOMPARE(input.params->zeroPoint[0], 128);
        const QParamsEntry& conv = entryNamed(doc, "conv.weight");
        QCOMPARE(conv.kind, TensorKind::Weight);
        QCOMPARE(conv.spec.granularity, Granularity::Channel);
        QCOMPARE(conv.spec.scheme, Scheme::Symmetric);
        QVERIFY(!conv.params); // ONNX Runtime computes the per-channel scales
        QCOMPARE(entryNamed(doc, "sum").spec.format.name(), std::string("int16"));
    }

    void compressedTensorsFromDocumentation() {
        std::vector<ConversionNote> notes;
        const QParamsDocument doc =
            readParamFile(kData + "small.compressed-tensors.json", "", notes); // detected from the content
        const QParamsEntry& down = entryNamed(doc, "model.layers.0.mlp.down_proj.weight");
        QCOMPARE(down.spec.format.name(), std::string("int4"));
        QCOMPARE(down.spec.granularity, Granularity::Group);
        QCOMPARE(down.spec.groupSize, int64_t(128));
        QCOMPARE(down.spec.axis, 1);
        QVERIFY(!down.params);
        // A class target is kept under its own name, and said so.
        QCOMPARE(entryNamed(doc, "Linear").spec.granularity, Granularity::Channel);
        bool noted = false;
        for (const auto& note : notes)
            noted = noted || note.entry == "Linear";
        QVERIFY(noted);
    }

    void detection() {
        const std::pair<const char*, const char*> cases[] = {
            {"small.trt-cache", "trt-cache"},
            {"small.aimet.json", "aimet"},
            {"small.aimet-1.json", "aimet-1"},
            {"small.aimet-2.json", "aimet-2"},
            {"small.ort-calibration.json", "ort-table"},
            {"small.ort-calibration.cache", "ort-table"},
            {"small.ort-overrides.json", "ort-overrides"},
            {"small.compressed-tensors.json", "compressed-tensors"},
        };
        for (const auto& [file, format] : cases) {
            std::vector<ConversionNote> notes;
            std::string read;
            readParamFile(kData + file, "", notes, &read);
            QCOMPARE(read, std::string(format));
        }
    }

    void roundTripsKeepEveryBit_data() {
        QTest::addColumn<QString>("format");
        for (const char* name : {"qparams", "aimet", "aimet-1", "aimet-2", "trt-cache", "ort-overrides"})
            QTest::newRow(name) << QString::fromLatin1(name);
    }

    void roundTripsKeepEveryBit() {
        QFETCH(QString, format);
        const std::string name = format.toStdString();
        QParamsDocument doc;
        if (name == "trt-cache") {
            auto e = entry("x", TensorKind::Activation, "int8", Scheme::Symmetric, {kThird}, {0});
            e.spec.narrowRange = true;
            e.params->qmin = -127;
            doc.tensors.push_back(e);
            e.name = "y";
            e.params->scale = {kOdd};
            doc.tensors.push_back(e);
        } else {
            doc.tensors.push_back(
                entry("act", TensorKind::Activation, "uint8", Scheme::Affine, {kOdd}, {37}));
            doc.tensors.push_back(
                entry("w16", TensorKind::Activation, "uint16", Scheme::Affine, {kThird}, {40000}));
            if (name != "ort-overrides")
                doc.tensors.push_back(entry("fc.weight", TensorKind::Weight, "int8", Scheme::Symmetric,
                                            {kThird, kOdd, 1.0e-30f, 3.0e38f}, {0, 0, 0, 0},
                                            Granularity::Channel));
            if (name == "qparams" || name == "aimet-2" || name == "aimet-1")
                doc.tensors.push_back(entry("blocks.weight", TensorKind::Weight, "int4", Scheme::Symmetric,
                                            {0.5f, kThird, kOdd, 2.0f}, {0, 0, 0, 0}, Granularity::Group, 1,
                                            16));
        }
        const ParamFileFormat& target = paramFileFormat(name);
        std::vector<ConversionNote> notes;
        const std::string text = target.write(doc, notes);
        QVERIFY2(target.recognizes(text), text.c_str());
        const QParamsDocument back = readText(name, text);
        QCOMPARE(back.tensors.size(), doc.tensors.size());
        for (const auto& original : doc.tensors) {
            const QParamsEntry& read = entryNamed(back, original.name);
            QCOMPARE(read.spec.format, original.spec.format);
            QCOMPARE(read.spec.scheme, original.spec.scheme);
            QCOMPARE(read.spec.granularity, original.spec.granularity);
            if (original.spec.granularity != Granularity::Tensor)
                QCOMPARE(read.spec.axis, original.spec.axis);
            if (original.spec.granularity == Granularity::Group)
                QCOMPARE(read.spec.groupSize, original.spec.groupSize);
            QVERIFY2(sameBits(read.params->scale, original.params->scale), original.name.c_str());
            QCOMPARE(read.params->zeroPoint, original.params->zeroPoint);
        }
    }

    void rangeAndSettingsRoundTrips() {
        // ort-table carries ranges: read -> write -> read keeps them and the parameters.
        {
            const QParamsDocument doc = readData("small.ort-calibration.json");
            std::vector<ConversionNote> notes;
            const QParamsDocument back =
                readText("ort-table", paramFileFormat("ort-table").write(doc, notes));
            for (const auto& original : doc.tensors) {
                const QParamsEntry& read = entryNamed(back, original.name);
                QVERIFY(sameBits(read.params->min, original.params->min));
                QVERIFY(sameBits(read.params->max, original.params->max));
                QVERIFY(sameBits(read.params->scale, original.params->scale));
                QCOMPARE(read.params->zeroPoint, original.params->zeroPoint);
            }
        }
        // compressed-tensors carries settings: groups of identical settings survive.
        {
            QParamsDocument doc;
            doc.tensors.push_back(entry("a.weight", TensorKind::Weight, "int4", Scheme::Symmetric, {1.0f},
                                        {0}, Granularity::Group, 1, 64));
            doc.tensors.push_back(entry("b.weight", TensorKind::Weight, "int4", Scheme::Symmetric, {1.0f},
                                        {0}, Granularity::Group, 1, 64));
            doc.tensors.push_back(entry("c.weight", TensorKind::Weight, "int8", Scheme::Affine, {1.0f}, {3}));
            std::vector<ConversionNote> notes;
            const std::string text = paramFileFormat("compressed-tensors").write(doc, notes);
            QVERIFY(text.find("\"group_1\"") != std::string::npos);
            QVERIFY(text.find("\"group_2\"") == std::string::npos);
            const QParamsDocument back = readText("compressed-tensors", text);
            for (const auto& original : doc.tensors) {
                const QParamsEntry& read = entryNamed(back, original.name);
                QCOMPARE(read.spec.format, original.spec.format);
                QCOMPARE(read.spec.scheme, original.spec.scheme);
                QCOMPARE(read.spec.granularity, original.spec.granularity);
                QCOMPARE(read.spec.groupSize, original.spec.groupSize);
            }
        }
    }

    void whatATargetCannotExpressIsReported() {
        QParamsDocument doc;
        doc.tensors.push_back(entry("affine", TensorKind::Activation, "int8", Scheme::Affine, {0.1f}, {5}));
        doc.tensors.push_back(entry("fc.weight", TensorKind::Weight, "int8", Scheme::Symmetric, {0.1f, 0.2f},
                                    {0, 0}, Granularity::Channel));
        doc.tensors.push_back(entry("u4", TensorKind::Activation, "uint4", Scheme::Affine, {0.1f}, {3}));
        doc.tensors.push_back(entry("ok", TensorKind::Activation, "int8", Scheme::Symmetric, {0.1f}, {0}));
        std::vector<ConversionNote> notes;
        const std::string text = paramFileFormat("trt-cache").write(doc, notes);
        // Only "ok" fits a TensorRT cache; each other entry is named with the reason.
        QCOMPARE(text, std::string("TRT-8601-EntropyCalibration2\nok: 3dcccccd\n"));
        std::map<std::string, std::string> dropped;
        for (const auto& note : notes)
            if (note.dropped)
                dropped[note.entry] = note.message;
        QCOMPARE(dropped.size(), std::size_t(3));
        QVERIFY(dropped["affine"].find("zero point 5") != std::string::npos);
        QVERIFY(dropped["fc.weight"].find("per-channel") != std::string::npos);
        QVERIFY(dropped["u4"].find("uint4") != std::string::npos);
        // "ok" is written, with a note that TensorRT does not use level -128.
        bool narrowNoted = false;
        for (const auto& note : notes)
            narrowNoted = narrowNoted || (note.entry == "ok" && !note.dropped);
        QVERIFY(narrowNoted);
    }

    void malformedFilesAreClearErrors_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("trt wrong header") << "trt-cache"
                                          << "TensorRT cache\nx: 3c010204\n"
                                          << "bad.file: not a TensorRT";
        QTest::newRow("trt bad hex") << "trt-cache"
                                     << "TRT-8601-EntropyCalibration2\nx: 3c01020\n"
                                     << "bad.file: entry 'x' (line 2): the scale must be 8 hex digits";
        QTest::newRow("trt negative scale") << "trt-cache"
                                            << "TRT-8601-EntropyCalibration2\nx: bf800000\n"
                                            << "bad.file: entry 'x': the scale is -1";
        QTest::newRow("trt NaN scale") << "trt-cache"
                                       << "TRT-8601-EntropyCalibration2\nx: 7fc00000\n"
                                       << "bad.file: entry 'x': the scale is NaN";
        QTest::newRow("aimet missing scale")
            << "aimet"
            << R"({"activation_encodings": {"x": [{"bitwidth": 8, "is_symmetric": "False", "offset": 0}]}})"
            << "bad.file: entry 'x'[0]: field 'scale' is missing";
        QTest::newRow("aimet offset outside grid")
            << "aimet"
            << R"({"activation_encodings": {"x": [{"bitwidth": 8, "is_symmetric": "False", "offset": 3, "scale": 0.1}]}})"
            << "bad.file: entry 'x': offset 3 (entry 0) is outside the grid";
        QTest::newRow("aimet 32 bits")
            << "aimet"
            << R"({"param_encodings": {"w": [{"bitwidth": 32, "is_symmetric": "True", "offset": 0, "scale": 0.1}]}})"
            << "bad.file: entry 'w': bit width 32 is not supported";
        QTest::newRow("aimet-1 unknown enc_type")
            << "aimet-1"
            << R"({"version": "1.0.0", "param_encodings": [{"name": "w", "dtype": "INT", "enc_type": "LPBQ", "is_sym": true, "bw": 4, "scale": [1.0], "offset": [-8]}]})"
            << "bad.file: entry 'w': field 'enc_type' is 'LPBQ'";
        QTest::newRow("aimet-2 zero point outside range")
            << "aimet-2"
            << R"({"version": "2.0.0", "encodings": [{"name": "a", "output_dtype": "uint8", "y_scale": 0.1, "y_zero_point": 300}]})"
            << "bad.file: entry 'a': field 'y_zero_point' value 300 (entry 0) is outside uint8's range [0, "
               "255]";
        QTest::newRow("aimet-2 unknown dtype")
            << "aimet-2"
            << R"({"version": "2.0.0", "encodings": [{"name": "a", "output_dtype": "float8", "y_scale": 0.1}]})"
            << "bad.file: entry 'a': field 'output_dtype' is 'float8'";
        QTest::newRow("aimet-2 negative scale")
            << "aimet-2"
            << R"({"version": "2.0.0", "encodings": [{"name": "a", "output_dtype": "int8", "y_scale": -0.5}]})"
            << "bad.file: entry 'a': the scale is -0.5";
        QTest::newRow("aimet-2 NaN scale")
            << "aimet-2"
            << R"({"version": "2.0.0", "encodings": [{"name": "a", "output_dtype": "int8", "y_scale": null}]})"
            << "bad.file: entry 'a': the scale is NaN";
        QTest::newRow("aimet-2 missing name")
            << "aimet-2"
            << R"({"version": "2.0.0", "encodings": [{"output_dtype": "int8", "y_scale": 1.0}]})"
            << "bad.file: encodings[0]: field 'name' is missing";
        QTest::newRow("aimet-2 wrong version") << "aimet-2"
                                               << R"({"version": "1.0.0", "encodings": []})"
                                               << "bad.file: field 'version' must be";
        QTest::newRow("ort overrides unknown type")
            << "ort-overrides"
            << R"({"x": [{"quant_type": "QFloat8", "scale": 0.1, "zero_point": 0}]})"
            << "bad.file: entry 'x': field 'quant_type' is 'QFloat8'";
        QTest::newRow("ort overrides scale alone") << "ort-overrides"
                                                   << R"({"x": [{"quant_type": "QUInt8", "scale": 0.1}]})"
                                                   << "bad.file: entry 'x': field 'zero_point' is missing";
        QTest::newRow("ort overrides zero point outside")
            << "ort-overrides"
            << R"({"x": [{"quant_type": "QInt8", "scale": 0.1, "zero_point": 200}]})"
            << "bad.file: entry 'x': field 'zero_point' is 200, outside QInt8's range [-128, 127]";
        QTest::newRow("ort table reversed range") << "ort-table"
                                                  << R"({"x": [1.0, -1.0]})"
                                                  << "bad.file: entry 'x': lowest";
        QTest::newRow("not json") << "aimet-1"
                                  << "{"
                                  << "bad.file: not valid JSON";
        QTest::newRow("number overflow") << "aimet-1"
                                         << R"({"version": "1.0.0", "activation_encodings": -1e309})"
                                         << "bad.file: not valid JSON";
        QTest::newRow("compressed-tensors no groups")
            << "compressed-tensors"
            << R"({"quantization_config": {"quant_method": "compressed-tensors"}})"
            << "bad.file: quantization_config: field 'config_groups' must be an object";
    }

    void malformedFilesAreClearErrors() {
        QFETCH(QString, format);
        QFETCH(QString, text);
        QFETCH(QString, expected);
        const std::string message = errorOf(format.toStdString(), text.toStdString());
        QVERIFY2(message.rfind(expected.toStdString(), 0) == 0, message.c_str());
    }

    void unknownFormatsAndUndetectableFiles() {
        QVERIFY_THROWS_EXCEPTION(Error, paramFileFormat("onnx"));
        try {
            paramFileFormat("onnx");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), std::string("--to"));
            QVERIFY(std::string(error.detail()).find("aimet-2") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(Error, detectParamFileFormat("[1, 2, 3]", "x.json"));
        // Keys that detection reads, holding another type than the string it compares with.
        QVERIFY_THROWS_EXCEPTION(Error, detectParamFileFormat(R"({"CLS": ["TensorsData"]})", "x.json"));
        QVERIFY_THROWS_EXCEPTION(Error, detectParamFileFormat(R"({"format": 7})", "x.json"));
        QCOMPARE(detectParamFileFormat(R"({"CLS": "TensorsData", "data": {}})", "x.json").name(),
                 std::string_view("ort-table"));
    }
};

QTEST_GUILESS_MAIN(TestInteropFormats)
#include "tst_interop_formats.moc"
