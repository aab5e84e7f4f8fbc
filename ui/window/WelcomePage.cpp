#include "window/WelcomePage.h"

#include "session/RecentFiles.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace quantscope::ui {
namespace {

constexpr int kPathRole = Qt::UserRole;
constexpr int kModelRole = Qt::UserRole + 1;

} // namespace

WelcomePage::WelcomePage(RecentFiles* recent, QWidget* parent)
    : QWidget(parent), m_recent(recent), m_recentList(new QListWidget(this)) {
    auto* title = new QLabel(tr("<h1>Quantscope</h1><p>See what quantization does to a model's weights and "
                                "activations: histograms, clipping, error, accuracy.</p>"),
                             this);
    title->setWordWrap(true);
    auto* demo = new QPushButton(tr("Open the &demo (a digits classifier)"), this);
    auto* open = new QPushButton(tr("Open &weights… (.safetensors, .onnx, .gguf, .npz, .npy)"), this);
    auto* model = new QPushButton(tr("Open a &model and samples…"), this);
    demo->setDefault(true);
    for (QPushButton* button : {demo, open, model})
        button->setMinimumHeight(button->sizeHint().height() * 3 / 2);
    connect(demo, &QPushButton::clicked, this, &WelcomePage::demoRequested);
    connect(open, &QPushButton::clicked, this, &WelcomePage::openRequested);
    connect(model, &QPushButton::clicked, this, &WelcomePage::modelRequested);
    auto* recentTitle = new QLabel(tr("<b>Recent files</b> (double-click to open)"), this);
    m_recentList->setAlternatingRowColors(true);
    m_recentList->setTextElideMode(Qt::ElideMiddle);
    connect(m_recentList, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        const QStringList parts = item->data(kModelRole).toStringList();
        if (!parts.isEmpty())
            emit recentModelRequested(parts);
        else
            emit recentFileRequested(item->data(kPathRole).toString());
    });
    auto* hint = new QLabel(tr("Or drop files on the window: weights, a model with its samples, exported "
                               "parameters."),
                            this);
    hint->setEnabled(false);
    hint->setWordWrap(true);

    auto* column = new QVBoxLayout;
    column->addWidget(title);
    column->addSpacing(12);
    column->addWidget(demo);
    column->addWidget(open);
    column->addWidget(model);
    column->addSpacing(12);
    column->addWidget(recentTitle);
    column->addWidget(m_recentList, 1);
    column->addWidget(hint);
    // A readable column in the middle, however wide the window.
    auto* outer = new QHBoxLayout(this);
    outer->addStretch(1);
    outer->addLayout(column, 4);
    outer->addStretch(1);
    refresh();
}

void WelcomePage::refresh() {
    m_recentList->clear();
    for (const QStringList& parts : m_recent->models()) {
        auto* item = new QListWidgetItem(
            tr("%1 on %2 (model)")
                .arg(QFileInfo(parts.value(0)).fileName(), QFileInfo(parts.value(1)).fileName()),
            m_recentList);
        item->setData(kModelRole, parts);
        item->setToolTip(parts.join(QStringLiteral("\n")));
    }
    for (const QString& path : m_recent->files()) {
        auto* item =
            new QListWidgetItem(QFileInfo(path).fileName() + QStringLiteral("  —  ") + path, m_recentList);
        item->setData(kPathRole, path);
        item->setToolTip(path);
    }
    if (m_recentList->count() == 0) {
        auto* none = new QListWidgetItem(tr("(none yet)"), m_recentList);
        none->setFlags(Qt::NoItemFlags);
    }
}

void WelcomePage::showEvent(QShowEvent* event) {
    refresh();
    QWidget::showEvent(event);
}

} // namespace quantscope::ui
