#include "widgets/TensorBrowser.h"

#include "session/Session.h"
#include "widgets/TensorFilterProxy.h"
#include "widgets/TensorTableModel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace quantscope::ui {

TensorBrowser::TensorBrowser(Session* session, QWidget* parent)
    : QWidget(parent), m_session(session), m_model(new TensorTableModel(session, this)),
      m_proxy(new TensorFilterProxy(this)), m_view(new QTableView(this)), m_filter(new QLineEdit(this)),
      m_kind(new QComboBox(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(TensorTableModel::SortRole);
    m_proxy->setFilterKeyColumn(TensorTableModel::Name);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);

    m_filter->setPlaceholderText(tr("Filter tensors by name"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    m_kind->addItems({tr("All tensors"), tr("Weights"), tr("Activations")});
    m_kind->setToolTip(tr("Show weights, activations (after a model ran on samples), or both"));
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_proxy->setKind(index == 1   ? std::optional(TensorKind::Weight)
                         : index == 2 ? std::optional(TensorKind::Activation)
                                      : std::nullopt);
    });

    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // file order until the user sorts
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    // Every column as wide as its contents, names first; the view scrolls when the dock is narrow.
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->setWordWrap(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* filters = new QHBoxLayout;
    filters->addWidget(m_filter, 1);
    filters->addWidget(m_kind);
    layout->addLayout(filters);
    layout->addWidget(m_view);

    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &TensorBrowser::selectionToSession);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (!m_updating && current.isValid())
                    m_session->setCurrentRow(m_proxy->mapToSource(current).row());
            });
    connect(session, &Session::currentRowChanged, this, &TensorBrowser::showCurrent);
    for (auto signal : {&Session::fileChanged, &Session::activationsChanged})
        connect(session, signal, this, [this] { showCurrent(m_session->currentRow()); });
}

void TensorBrowser::selectionToSession() {
    if (m_updating)
        return;
    QList<int> rows;
    const auto selected = m_view->selectionModel()->selectedRows();
    for (const QModelIndex& index : selected)
        rows.append(m_proxy->mapToSource(index).row());
    std::sort(rows.begin(), rows.end());
    m_session->setSelectedRows(rows);
}

void TensorBrowser::showCurrent(int row) {
    if (row < 0)
        return;
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, 0));
    if (!index.isValid() || m_view->selectionModel()->currentIndex().row() == index.row())
        return;
    m_updating = true;
    m_view->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                         QItemSelectionModel::Rows);
    m_view->scrollTo(index);
    m_updating = false;
    m_session->setSelectedRows({row});
}

} // namespace quantscope::ui
