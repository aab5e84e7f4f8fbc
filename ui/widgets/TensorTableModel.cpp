#include "widgets/TensorTableModel.h"

#include "session/Session.h"
#include "widgets/MetricText.h"

#include "quantscope/tensor/TensorInfo.h"

#include <QLocale>

#include <cmath>

namespace quantscope::ui {

TensorTableModel::TensorTableModel(Session* session, QObject* parent)
    : QAbstractTableModel(parent), m_session(session) {
    for (auto signal : {&Session::fileChanged, &Session::activationsChanged})
        connect(session, signal, this, [this] {
            beginResetModel();
            endResetModel();
        });
    connect(session, &Session::settingsChanged, this, &TensorTableModel::rowsChanged);
    connect(session, &Session::summaryChanged, this, [this](int row) { rowsChanged({row}); });
    connect(session, &Session::resultChanged, this, [this](int row) { rowsChanged({row}); });
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
            emit dataChanged(index(row, Sqnr), index(row, Format));
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
            return QString::fromStdString(info.name);
        case Kind:
            return m_session->isActivation(row) ? tr("activation") : tr("weight");
        case Shape:
            return QString::fromStdString(shapeToString(info.shape));
        case DType:
            return QString::fromLatin1(dtypeName(info.dtype));
        case Elements:
            return QLocale().toString(static_cast<qulonglong>(info.elements));
        case Format:
            return QString::fromStdString(m_session->settings(row).spec.format.name());
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
    case Qt::BackgroundRole:
        if (index.column() == Sqnr && metrics) {
            const QColor colour = MetricText::sqnrColour(*metrics);
            if (colour.isValid())
                return colour;
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == Sqnr && metrics && MetricText::sqnrColour(*metrics).isValid())
            return QColor(Qt::white);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == Sqnr || index.column() == Clipped || index.column() == Elements)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        if (index.column() == Sqnr)
            return tr("SQNR = 10·log10(Σx² / Σ(x − x̂)²) for the tensor's current settings");
        if (index.column() == Clipped)
            return tr("Share of the finite values outside the clipping range");
        if (index.column() == Kind)
            return m_session->isActivation(row) ? tr("A node's output (or the model input) on the "
                                                     "calibration samples; quantized per tensor")
                                                : tr("A tensor of the weights file");
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
