#include "widgets/TensorBrowser.h"

#include "session/Session.h"
#include "widgets/TensorFilterProxy.h"
#include "widgets/TensorTableModel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace quantscope::ui {

TensorBrowser::TensorBrowser(Session* session, QWidget* parent)
    : QWidget(parent), m_session(session), m_model(new TensorTableModel(session, this)),
      m_proxy(new TensorFilterProxy(this)), m_view(new QTableView(this)), m_filter(new QLineEdit(this)),
      m_kind(new QComboBox(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(TensorTableModel::SortRole);
    m_proxy->setFilterKeyColumn(TensorTableModel::Name);
    m_proxy->setFilterRole(TensorTableModel::FilterRole);
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
    // Names are elided in the middle (the layer index and the tail both matter); the name column
    // is sized to the names and can be resized, the others are as wide as their contents and the
    // view scrolls sideways for them.
    m_view->setTextElideMode(Qt::ElideMiddle);
    m_view->setWordWrap(false);
    QHeaderView* header = m_view->horizontalHeader();
    header->setStretchLastSection(true);
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(TensorTableModel::Name, QHeaderView::Interactive);
    header->resizeSection(TensorTableModel::Name, fittedNameWidth());
    connect(header, &QHeaderView::sectionResized, this, [this](int section, int, int size) {
        if (section == TensorTableModel::Name && !m_fitting)
            m_userNameWidth = size;
    });

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
        connect(session, signal, this, [this] {
            fitNameColumn();
            showCurrent(m_session->currentRow());
        });
}

int TensorBrowser::fittedNameWidth() const {
    const QFontMetrics metrics = m_view->fontMetrics();
    int widest = metrics.horizontalAdvance(tr("Tensor")) + 24;
    for (int row = 0; row < m_session->tensorCount(); ++row)
        widest = std::max(widest, metrics.horizontalAdvance(m_model->label(row)) + 16);
    return std::min(widest, metrics.averageCharWidth() * 44);
}

void TensorBrowser::fitNameColumn() {
    // A new file resets the header's sections: the width the user chose comes back.
    m_fitting = true;
    m_view->horizontalHeader()->resizeSection(TensorTableModel::Name,
                                              m_userNameWidth > 0 ? m_userNameWidth : fittedNameWidth());
    m_fitting = false;
}

int TensorBrowser::shortestNameWidth() const {
    return m_view->fontMetrics().averageCharWidth() * 20;
}

int TensorBrowser::preferredWidth() const {
    const QFontMetrics metrics = m_view->fontMetrics();
    const QHeaderView* header = m_view->horizontalHeader();
    // The SQNR and clipped columns at the width of their widest text, even before they fill in.
    const int sqnr = std::max(header->sectionSizeHint(TensorTableModel::Sqnr),
                              metrics.horizontalAdvance(QStringLiteral("zero signal")) + 16);
    const int clipped = std::max(header->sectionSizeHint(TensorTableModel::Clipped),
                                 metrics.horizontalAdvance(QStringLiteral("100.00 %")) + 16);
    const int frame = 2 * m_view->frameWidth() + m_view->verticalScrollBar()->sizeHint().width() + 4;
    const int format = header->sectionSize(TensorTableModel::Format);
    const int names = header->sectionSize(TensorTableModel::Name);
    // Short names leave room for the format column too (a format cut at the dock's edge reads as
    // another one: "int" for int8); long names come first, the view scrolls sideways to the rest.
    return std::max(names + sqnr + clipped, std::min(names, shortestNameWidth()) + sqnr + clipped + format) +
           frame;
}

void TensorBrowser::restoreColumns(const QByteArray& state) {
    if (state.isEmpty())
        return;
    m_fitting = true;
    QHeaderView* header = m_view->horizontalHeader();
    const int before = header->sectionSize(TensorTableModel::Name);
    if (header->restoreState(state)) {
        // The restored state brings the resize modes back too; names stay interactive.
        header->setSectionResizeMode(TensorTableModel::Name, QHeaderView::Interactive);
        if (header->sectionSize(TensorTableModel::Name) != before)
            m_userNameWidth = header->sectionSize(TensorTableModel::Name);
    }
    m_fitting = false;
}

QByteArray TensorBrowser::saveColumns() const {
    return m_view->horizontalHeader()->saveState();
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
