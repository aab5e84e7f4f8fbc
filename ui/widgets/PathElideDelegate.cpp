#include "widgets/PathElideDelegate.h"

#include "widgets/ElidedPath.h"

#include <QApplication>
#include <QStyle>
#include <QWidget>

namespace quantscope::ui {

int PathElideDelegate::textWidth(const QWidget* view, int cellWidth) {
    // QCommonStyle keeps this margin on both sides of an item's text.
    const QStyle* style = view ? view->style() : QApplication::style();
    const int margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, view) + 1;
    return cellWidth - 2 * margin;
}

void PathElideDelegate::initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const {
    QStyledItemDelegate::initStyleOption(option, index);
    if (option->text.isEmpty())
        return;
    option->text =
        elidePath(option->text, option->fontMetrics, textWidth(option->widget, option->rect.width()));
    option->textElideMode = Qt::ElideNone; // already short enough
}

} // namespace quantscope::ui
