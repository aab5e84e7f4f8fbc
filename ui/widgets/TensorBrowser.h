#pragma once

#include <QWidget>

class QComboBox;
class QLineEdit;
class QTableView;

namespace quantscope::ui {

class Session;
class TensorFilterProxy;
class TensorTableModel;

// The tensor list: a sortable table of the weights and (once a model ran on samples) the
// activations, with a name filter and a kind filter. Its selection is the session's selection;
// the current row drives every view.
class TensorBrowser : public QWidget {
    Q_OBJECT
public:
    explicit TensorBrowser(Session* session, QWidget* parent = nullptr);

    QSize sizeHint() const override { return {preferredWidth(), 600}; }
    // Wide enough for the longest label (up to ~44 characters; longer ones are elided in the
    // middle, so their tails stay readable) and the SQNR and clipped columns beside it, and
    // the format column when the names are short.
    int preferredWidth() const;
    // Column widths the user chose, kept across sessions (QSettings).
    void restoreColumns(const QByteArray& state);
    QByteArray saveColumns() const;
    QTableView* view() const { return m_view; }
    QLineEdit* filterEdit() const { return m_filter; }
    QComboBox* kindFilter() const { return m_kind; }
    TensorFilterProxy* proxy() const { return m_proxy; }
    TensorTableModel* model() const { return m_model; }

private:
    void selectionToSession();
    void showCurrent(int row);
    void fitNameColumn();
    int fittedNameWidth() const;
    // Names up to this wide leave room for the format column in the dock's preferred width.
    int shortestNameWidth() const;

    Session* m_session;
    TensorTableModel* m_model;
    TensorFilterProxy* m_proxy;
    QTableView* m_view;
    QLineEdit* m_filter;
    QComboBox* m_kind;
    bool m_updating = false;
    bool m_fitting = false;
    int m_userNameWidth = 0; // the name column's width the user chose (0: fit to the names)
};

} // namespace quantscope::ui
