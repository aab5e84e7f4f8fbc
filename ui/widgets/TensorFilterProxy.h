#pragma once

#include "quantscope/quant/QuantSpec.h"

#include <QSortFilterProxyModel>

#include <optional>

namespace quantscope::ui {

// The tensor table filtered by a piece of the name and, optionally, by kind (weights only or
// activations only).
class TensorFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit TensorFilterProxy(QObject* parent = nullptr);

    void setKind(std::optional<TensorKind> kind);
    std::optional<TensorKind> kind() const { return m_kind; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    std::optional<TensorKind> m_kind;
};

} // namespace quantscope::ui
