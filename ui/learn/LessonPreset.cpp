#include "learn/LessonPreset.h"

#include <QObject>

namespace quantscope::ui {
namespace {

QuantSpec spec(int bits, bool isSigned, Scheme scheme, Granularity granularity = Granularity::Tensor,
               int axis = 0, int64_t groupSize = 128, CalibMethod calib = CalibMethod::MinMax) {
    QuantSpec s;
    s.format = QuantFormat::integer(bits, isSigned);
    s.scheme = scheme;
    s.granularity = granularity;
    s.axis = axis;
    s.groupSize = groupSize;
    s.calib = calib;
    return s;
}

std::vector<LessonPreset> makeLessons() {
    std::vector<LessonPreset> lessons;
    {
        LessonPreset l;
        l.id = QStringLiteral("mapping");
        l.title = QObject::tr("One value, step by step");
        l.explanation = QObject::tr(
            "A weight of the first layer goes through x/S, + Z, rounding and clipping to an 8-bit integer, "
            "and back. "
            "The error is at most half a step S, unless the value lies outside the range and is clipped.");
        l.tensor = QStringLiteral("fc1.weight");
        l.spec = spec(8, true, Scheme::Affine);
        l.page = LessonPreset::Mapping;
        lessons.push_back(l);
    }
    {
        LessonPreset l;
        l.id = QStringLiteral("six-db-per-bit");
        l.title = QObject::tr("Every bit is worth 6 dB");
        l.explanation = QObject::tr("Each bit removed doubles the step S and so doubles the rounding error: "
                                    "the SQNR falls by about 6.02 dB per "
                                    "bit, until so few levels remain that the rule breaks down. Count the "
                                    "levels the tensor actually uses.");
        l.tensor = QStringLiteral("fc2.weight");
        l.spec = spec(8, true, Scheme::Affine);
        l.page = LessonPreset::BitWidth;
        lessons.push_back(l);
    }
    {
        LessonPreset l;
        l.id = QStringLiteral("outliers");
        l.title = QObject::tr("Outliers break min-max");
        l.explanation = QObject::tr("Min-max stretches the 16 levels of int4 over the few largest weights, "
                                    "so the step is coarse for all the "
                                    "others. MSE or entropy calibration clip about 1 % of the values and "
                                    "lower the total error: compare the "
                                    "stacked bars, clipping error against rounding error.");
        l.tensor = QStringLiteral("fc2.weight");
        l.spec = spec(4, true, Scheme::Affine);
        l.page = LessonPreset::Calibration;
        lessons.push_back(l);
    }
    {
        LessonPreset l;
        l.id = QStringLiteral("per-channel");
        l.title = QObject::tr("Per-channel rescues a layer");
        l.explanation = QObject::tr(
            "The output channels of fc1 have very different ranges; one scale for the whole tensor is set by "
            "the widest. "
            "A scale per channel costs 32 bits per row and gains several dB at 4 bits: see the Pareto plot.");
        l.tensor = QStringLiteral("fc1.weight");
        l.spec = spec(4, true, Scheme::Symmetric, Granularity::Channel, 0);
        l.page = LessonPreset::BitWidth;
        lessons.push_back(l);
    }
    {
        LessonPreset l;
        l.id = QStringLiteral("groups");
        l.title = QObject::tr("4-bit needs groups");
        l.explanation = QObject::tr("With 16 levels, even a scale per channel is too coarse. Groups of 32 "
                                    "consecutive inputs each get their own "
                                    "scale (as GPTQ and llama.cpp do): about one more bit per value of "
                                    "storage, and the best error at 4 bits.");
        l.tensor = QStringLiteral("fc2.weight");
        l.spec = spec(4, true, Scheme::Symmetric, Granularity::Group, 1, 32);
        l.page = LessonPreset::BitWidth;
        lessons.push_back(l);
    }
    {
        LessonPreset l;
        l.id = QStringLiteral("relu-symmetric");
        l.title = QObject::tr("Symmetric wastes levels on ReLU outputs");
        l.explanation = QObject::tr("ReLU outputs are never negative. A symmetric int8 grid keeps half of "
                                    "its levels for negative values that "
                                    "never occur, so its step is twice the affine one; affine puts Z at the "
                                    "bottom and uses all 256 levels.");
        l.source = LessonPreset::Source::DemoReluOutputs;
        l.tensor = QStringLiteral("fc1_relu_output");
        l.spec = spec(8, true, Scheme::Symmetric);
        l.page = LessonPreset::Mapping;
        lessons.push_back(l);
    }
    {
        LessonPreset l;
        l.id = QStringLiteral("static-dynamic");
        l.title = QObject::tr("Static or dynamic?");
        l.explanation = QObject::tr("Static quantization fixes every activation's range beforehand on "
                                    "calibration data; dynamic measures it on "
                                    "each batch at run time. Compare the measured accuracy and throughput of "
                                    "the demo model in every mode.");
        l.tensor = QStringLiteral("fc1.weight");
        l.spec = spec(8, true, Scheme::Symmetric, Granularity::Channel, 0);
        l.page = LessonPreset::Modes;
        lessons.push_back(l);
    }
    {
        LessonPreset l;
        l.id = QStringLiteral("datapath");
        l.title = QObject::tr("Integers all the way");
        l.explanation = QObject::tr("One output of the second layer, computed as the hardware does: uint8 "
                                    "inputs times int8 weights summed in "
                                    "int32, zero-point corrections, and the rescale by M = S1·S2/S3 done as "
                                    "an integer multiply and a shift. "
                                    "The result is checked against the SIMD kernel.");
        l.tensor = QStringLiteral("fc2.weight");
        l.spec = spec(8, true, Scheme::Symmetric, Granularity::Channel, 0);
        l.page = LessonPreset::Datapath;
        l.datapathLayer = 1;
        l.datapathOutput = 0;
        lessons.push_back(l);
    }
    return lessons;
}

} // namespace

const std::vector<LessonPreset>& LessonPreset::all() {
    static const std::vector<LessonPreset> lessons = makeLessons();
    return lessons;
}

const LessonPreset* LessonPreset::find(const QString& id) {
    for (const LessonPreset& lesson : all())
        if (lesson.id == id)
            return &lesson;
    return nullptr;
}

} // namespace quantscope::ui
