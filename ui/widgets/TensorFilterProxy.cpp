#include "widgets/TensorFilterProxy.h"

#include "widgets/TensorTableModel.h"

namespace quantscope::ui {

TensorFilterProxy::TensorFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {}

void TensorFilterProxy::setKind(std::optional<TensorKind> kind) {
    if (kind == m_kind)
        return;
    m_kind = kind;
    invalidateFilter();
}

bool TensorFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    if (m_kind) {
        const QModelIndex index = sourceModel()->index(sourceRow, TensorTableModel::Name, sourceParent);
        if (index.data(TensorTableModel::KindRole).toInt() != static_cast<int>(*m_kind))
            return false;
    }
    return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}

} // namespace quantscope::ui
