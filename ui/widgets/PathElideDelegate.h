#pragma once

#include <QStyledItemDelegate>

namespace quantscope::ui {

// Draws a cell's text as a path elided by elidePath (its last two components kept whole), where
// the view's own ElideMiddle would cut "/layer3/downsample/downsample.0/Conv" to "/layer…0/Conv".
class PathElideDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    // The text room of a cell `cellWidth` wide, as the style lays it out.
    static int textWidth(const QWidget* view, int cellWidth);

protected:
    void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override;
};

} // namespace quantscope::ui
