#pragma once

#include <QAbstractTableModel>
#include <QStringList>

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
    // What the name filter matches: the label shown and the tensor's own name.
    static constexpr int FilterRole = Qt::UserRole + 3;

    explicit TensorTableModel(Session* session, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // How a row is shown: the tensor's name, or for an ONNX weight the layer that reads it (see
    // TensorLabel.h); `labelSource` says where that label comes from (empty when it is the name).
    QString label(int row) const;
    QString labelSource(int row) const;

private:
    void rowsChanged(const QList<int>& rows);
    void relabel();

    Session* m_session;
    QStringList m_labels;       // of the weight rows; activations show their names
    QStringList m_labelSources; // parallel to m_labels
};

} // namespace quantscope::ui
