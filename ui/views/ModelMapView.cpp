#include "views/ModelMapView.h"

#include "session/Session.h"
#include "widgets/ModelMapGrid.h"
#include "widgets/ModelMapLegend.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace quantscope::ui {

ModelMapView::ModelMapView(Session* session, QWidget* parent)
    : QWidget(parent), m_grid(new ModelMapGrid(session, this)), m_legend(new ModelMapLegend(m_grid, this)),
      m_metric(new QComboBox(this)), m_status(new QLabel(this)) {
    m_metric->addItem(tr("SQNR"), static_cast<int>(ModelMapGrid::Metric::Sqnr));
    m_metric->addItem(tr("Clipped %"), static_cast<int>(ModelMapGrid::Metric::Clipped));
    m_metric->setToolTip(tr("What the colours show: each tensor's SQNR with its current settings, or the "
                            "share of its values clipped"));
    connect(m_metric, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_grid->setMetric(static_cast<ModelMapGrid::Metric>(m_metric->itemData(index).toInt()));
    });
    auto* colourBy = new QLabel(tr("Colour by"), this);
    colourBy->setBuddy(m_metric);
    m_status->setEnabled(false);
    auto* bar = new QHBoxLayout;
    bar->addWidget(colourBy);
    bar->addWidget(m_metric);
    bar->addSpacing(12);
    bar->addWidget(m_legend, 1);
    bar->addWidget(m_status);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(m_grid, 1);
    connect(m_grid, &ModelMapGrid::scaleChanged, this, &ModelMapView::updateStatus);
    updateStatus();
}

bool ModelMapView::isComplete() const {
    return m_grid->knownCount() == m_grid->mappedCount();
}

void ModelMapView::updateStatus() {
    const int known = m_grid->knownCount();
    const int mapped = m_grid->mappedCount();
    m_status->setText(mapped == 0 ? QString()
                      : known == mapped
                          ? tr("%n tensor(s) in %1 layer(s)", nullptr, mapped).arg(m_grid->layerRowCount())
                          : tr("%1 of %2 tensors analysed").arg(known).arg(mapped));
}

} // namespace quantscope::ui
