#include "session/StoredSettings.h"

#include "quantscope/Error.h"
#include "quantscope/quant/BlockLayout.h"
#include "quantscope/quant/StoredParameters.h"

#include <QCoreApplication>

namespace quantscope::ui {

std::optional<StoredSettings> StoredSettings::read(const WeightFile& file, const TensorInfo& info,
                                                   const QuantSpec& base) {
    try {
        const auto stored = file.storedQuantization(info.name);
        if (!stored)
            return std::nullopt;
        StoredSettings result;
        QuantSpec spec = base;
        QParams params;
        if (!applyStoredParameters(*stored, info.shape, spec, params))
            return std::nullopt;
        // Parameters that do not fit the tensor's block grid cannot be analysed: the user's
        // settings apply instead, as for a plainly stored weight.
        spec.validateFor(info.shape);
        if (BlockLayout(info.shape, spec).blockCount() != static_cast<int64_t>(params.blockCount()))
            return std::nullopt;
        result.settings = TensorSettings{spec, std::nullopt, std::move(params)};
        result.settings.stored = true;
        result.format = stored->format;
        result.note = stored->note;
        return result;
    } catch (const Error&) {
        // A stored type the analysis has no format for (an int32 bias): analysed as the user sets.
        return std::nullopt;
    }
}

std::vector<std::optional<StoredSettings>>
StoredSettings::readAll(const WeightFile& file, const QuantSpec& base, const ProgressCallback& progress) {
    const auto& tensors = file.tensors();
    std::vector<std::optional<StoredSettings>> result;
    result.reserve(tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        reportProgress(progress, Stage::Statistics,
                       static_cast<double>(i) / static_cast<double>(tensors.size()));
        result.push_back(read(file, tensors[i], base));
    }
    return result;
}

QString StoredSettings::describe(const QuantSpec& spec) {
    const auto tr = [](const char* text) { return QCoreApplication::translate("StoredSettings", text); };
    QString text = QString::fromStdString(spec.format.name()) + QLatin1Char(' ');
    switch (spec.granularity) {
    case Granularity::Tensor:
        text += tr("per-tensor");
        break;
    case Granularity::Channel:
        text += tr("per-channel, axis %1").arg(spec.axis);
        break;
    case Granularity::Group:
        text += tr("per-group of %1, axis %2").arg(spec.groupSize).arg(spec.axis);
        break;
    }
    return text + QStringLiteral(", ") + QString::fromLatin1(schemeName(spec.scheme));
}

} // namespace quantscope::ui
