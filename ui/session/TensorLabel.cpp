#include "session/TensorLabel.h"

#include "quantscope/io/OnnxReader.h"

#include <QCoreApplication>

namespace quantscope::ui {
namespace {

const OnnxReader::TensorUse* useOf(const WeightFile& file, const std::string& name) {
    const auto* onnx = dynamic_cast<const OnnxReader*>(&file);
    if (!onnx)
        return nullptr;
    const auto found = onnx->uses().find(name);
    return found == onnx->uses().end() ? nullptr : &found->second;
}

// The role of a node's input, as the ONNX operator specifications name it.
QString inputRole(const std::string& opType, int input) {
    const bool convLike = opType == "Conv" || opType == "ConvTranspose" || opType == "Gemm" ||
                          opType == "MatMul" || opType == "ConvInteger" || opType == "MatMulInteger";
    if (convLike && input == 1)
        return QStringLiteral("weight");
    if (convLike && input == 2)
        return QStringLiteral("bias");
    if (opType == "BatchNormalization") {
        static const char* const roles[] = {"input", "scale", "bias", "mean", "var"};
        if (input >= 0 && input < 5)
            return QString::fromLatin1(roles[input]);
    }
    if ((opType == "LayerNormalization" || opType == "InstanceNormalization" ||
         opType == "SimplifiedLayerNormalization") &&
        (input == 1 || input == 2))
        return input == 1 ? QStringLiteral("scale") : QStringLiteral("bias");
    if (opType == "Gather" && input == 0)
        return QStringLiteral("table");
    if (opType == "PRelu" && input == 1)
        return QStringLiteral("slope");
    return QStringLiteral("input %1").arg(input);
}

} // namespace

QString tensorLabel(const WeightFile& file, const std::string& name) {
    const auto* use = useOf(file, name);
    if (!use)
        return QString::fromStdString(name);
    // A name the exporter made up (`onnx::Conv_193`) always gives way to the layer; a module's own
    // name (`q.bias` read by an Add) stays unless the layer knows the tensor's role.
    const QString role = inputRole(use->opType, use->input);
    const bool madeUp = name.find("::") != std::string::npos;
    if (!madeUp && role.startsWith(QStringLiteral("input ")))
        return QString::fromStdString(name);
    QString layer = QString::fromStdString(use->node);
    // PyTorch names nodes "<module path>/<OpType>": the module path is the layer.
    const QString opSuffix = QLatin1Char('/') + QString::fromStdString(use->opType);
    if (layer.endsWith(opSuffix) && layer.size() > opSuffix.size())
        layer.chop(opSuffix.size());
    return layer + QStringLiteral(" · ") + role;
}

QString tensorUseText(const WeightFile& file, const std::string& name) {
    const auto* use = useOf(file, name);
    if (!use)
        return {};
    return QCoreApplication::translate("quantscope::ui::TensorLabel", "%1, read by %2 (%3), input %4")
        .arg(QString::fromStdString(name), QString::fromStdString(use->node),
             QString::fromStdString(use->opType))
        .arg(use->input);
}

} // namespace quantscope::ui
