#include "UnavailableView.h"

#include <QLabel>
#include <QVBoxLayout>

namespace quantscope::ui {

UnavailableView::UnavailableView(const QString& title, const QString& explanation, QWidget* parent)
    : QWidget(parent), m_explanation(explanation) {
    auto* heading = new QLabel(title, this);
    QFont font = heading->font();
    font.setPointSizeF(font.pointSizeF() * 1.6);
    font.setBold(true);
    heading->setFont(font);
    auto* text = new QLabel(explanation, this);
    text->setWordWrap(true);
    text->setTextFormat(Qt::RichText);
    text->setMaximumWidth(620);
    auto* layout = new QVBoxLayout(this);
    layout->addStretch(1);
    layout->addWidget(heading, 0, Qt::AlignHCenter);
    layout->addSpacing(12);
    layout->addWidget(text, 0, Qt::AlignHCenter);
    layout->addStretch(2);
}

} // namespace quantscope::ui
