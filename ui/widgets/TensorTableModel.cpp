#include "widgets/TensorTableModel.h"

#include "session/Session.h"
#include "session/StoredSettings.h"
#include "session/TensorLabel.h"
#include "widgets/MetricText.h"

#include "quantscope/tensor/TensorInfo.h"

#include <QApplication>
#include <QLocale>
#include <QStyle>

#include <cmath>

namespace quantscope::ui {

TensorTableModel::TensorTableModel(Session* session, QObject* parent)
    : QAbstractTableModel(parent), m_session(session) {
    for (auto signal : {&Session::fileChanged, &Session::activationsChanged})
        connect(session, signal, this, [this] {
            beginResetModel();
            relabel();
            endResetModel();
        });
    relabel();
    connect(session, &Session::settingsChanged, this, &TensorTableModel::rowsChanged);
    connect(session, &Session::summaryChanged, this, [this](int row) { rowsChanged({row}); });
    connect(session, &Session::resultChanged, this, [this](int row) { rowsChanged({row}); });
}

void TensorTableModel::relabel() {
    m_labels.clear();
    m_labelSources.clear();
    const auto file = m_session->file();
    if (!file)
        return;
    for (int row = 0; row < m_session->weightCount(); ++row) {
        m_labels << tensorLabel(*file, m_session->info(row).name);
        m_labelSources << tensorUseText(*file, m_session->info(row).name);
    }
}

QString TensorTableModel::label(int row) const {
    return row < m_labels.size() ? m_labels[row] : m_session->tensorName(row);
}

QString TensorTableModel::labelSource(int row) const {
    return row < m_labelSources.size() ? m_labelSources[row] : QString();
}

int TensorTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : m_session->tensorCount();
}

int TensorTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

void TensorTableModel::rowsChanged(const QList<int>& rows) {
    for (int row : rows)
        if (row >= 0 && row < rowCount())
            emit dataChanged(index(row, Name), index(row, Format));
}

QVariant TensorTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int row = index.row();
    const TensorInfo& info = m_session->info(row);
    const auto metrics = m_session->summaryMetrics(row);
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Name:
            return label(row);
        case Kind:
            return m_session->isActivation(row) ? tr("activation") : tr("weight");
        case Shape:
            return QString::fromStdString(shapeToString(info.shape));
        case DType:
            return QString::fromStdString(storageName(info)); // a GGUF tensor shows its ggml type
        case Elements:
            return QLocale().toString(static_cast<qulonglong>(info.elements));
        case Format: {
            const QString format = QString::fromStdString(m_session->settings(row).spec.format.name());
            // The file's own parameters are marked: they are what the tool that quantized it chose.
            return m_session->usesStoredSettings(row) ? tr("%1 · stored").arg(format) : format;
        }
        case Sqnr:
            return metrics ? MetricText::sqnr(*metrics) : QVariant();
        case Clipped:
            return metrics ? MetricText::percent(metrics->clippedFraction) : QVariant();
        }
        return {};
    case SortRole:
        switch (index.column()) {
        case Elements:
            return static_cast<qulonglong>(info.elements);
        case Sqnr:
            // Unknown sorts last, "exact" best, "zero signal" after every number.
            if (!metrics)
                return 1e300;
            if (metrics->sqnrNote == "exact")
                return 1e200;
            return std::isfinite(metrics->sqnrDb) ? metrics->sqnrDb : 1e250;
        case Clipped:
            return metrics ? metrics->clippedFraction : -1.0;
        default:
            return data(index, Qt::DisplayRole);
        }
    case KindRole:
        return static_cast<int>(m_session->kind(row));
    case FilterRole:
        return QString(label(row) + QLatin1Char('\n') + QString::fromStdString(info.name));
    case Qt::DecorationRole:
        // A disk beside the name: the tensor is analysed with the parameters its file stores.
        if (index.column() == Name && m_session->usesStoredSettings(row))
            return QApplication::style()->standardIcon(QStyle::SP_DriveHDIcon);
        return {};
    case Qt::BackgroundRole:
        if (index.column() == Sqnr && metrics) {
            const QColor colour = MetricText::sqnrColour(*metrics);
            if (colour.isValid())
                return colour;
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == Sqnr && metrics && MetricText::sqnrColour(*metrics).isValid())
            // Black: on each of the mid-tone red, orange, yellow and green cells it contrasts more
            // than white does (4.8:1 and more; white on the yellow is 2:1), in any palette.
            return QColor(Qt::black);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == Sqnr || index.column() == Clipped || index.column() == Elements)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        if (index.column() == Sqnr) {
            if (metrics && metrics->sqnrNote == "zero signal")
                return tr("Every finite value is zero (a bias or a normalization initialised to zero): "
                          "nothing to lose, so SQNR = 10·log10(Σx² / Σ(x − x̂)²) is not a number");
            if (metrics && metrics->sqnrNote == "exact")
                return tr("The quantized values equal the originals: no error, so SQNR is infinite");
            if (!metrics)
                return tr("Not analysed yet with the current settings (it fills in by itself; "
                          "Edit ▸ Analyse all tensors restarts a cancelled analysis)");
            return tr("SQNR = 10·log10(Σx² / Σ(x − x̂)²) for the tensor's current settings");
        }
        if (index.column() == Clipped)
            return tr("Share of the finite values outside the clipping range");
        if (index.column() == Format) {
            if (const StoredSettings* stored = m_session->storedSettings(row))
                return (m_session->usesStoredSettings(row)
                            ? tr("Stored in the file: %1 (%2), analysed with the file's own scale and zero "
                                 "point")
                            : tr("The file stores %1 (%2); analysed with your settings"))
                    .arg(StoredSettings::describe(stored->settings.spec),
                         QString::fromStdString(stored->format));
            return tr("The format of the tensor's current settings");
        }
        if (index.column() == Kind)
            return m_session->isActivation(row) ? tr("A node's output (or the model input) on the "
                                                     "calibration samples; quantized per tensor")
                                                : tr("A tensor of the weights file");
        if (index.column() == Name && m_session->usesStoredSettings(row))
            return tr("%1\nAnalysed with the scale and zero point stored in the file")
                .arg(labelSource(row).isEmpty() ? QString::fromStdString(info.name) : labelSource(row));
        if (const QString source = labelSource(row); !source.isEmpty())
            return source;
        return QString::fromStdString(info.name);
    }
    return {};
}

QVariant TensorTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Name:
        return tr("Tensor");
    case Kind:
        return tr("Kind");
    case Shape:
        return tr("Shape");
    case DType:
        return tr("DType");
    case Elements:
        return tr("Elements");
    case Format:
        return tr("Format");
    case Sqnr:
        return tr("SQNR");
    case Clipped:
        return tr("Clipped");
    }
    return {};
}

} // namespace quantscope::ui
