#pragma once

#include <QAbstractTableModel>

namespace quantscope::ui {

class Session;

// The tensors of the session as a table: name, kind (weight or activation), shape, dtype,
// elements, and for the current
// settings the exact SQNR and clipped share (empty until computed). The SQNR cell is coloured so
// the worst tensors stand out; SortRole gives numbers for sorting.
class TensorTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // SQNR and clipped share come right after the name, so the worst tensors show in a narrow dock.
    enum Column { Name, Sqnr, Clipped, Format, Kind, Shape, DType, Elements, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;
    // The row's TensorKind as an int, for filtering.
    static constexpr int KindRole = Qt::UserRole + 2;

    explicit TensorTableModel(Session* session, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void rowsChanged(const QList<int>& rows);

    Session* m_session;
};

} // namespace quantscope::ui
