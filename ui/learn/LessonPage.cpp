#include "learn/LessonPage.h"

#include "learn/LessonPreset.h"
#include "widgets/FitScrollArea.h"

#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace quantscope::ui {

LessonPage::LessonPage(QWidget* parent) : QWidget(parent) {
    auto* content = new QWidget(this);
    auto* grid = new QGridLayout(content);
    grid->setVerticalSpacing(14);
    grid->setHorizontalSpacing(24);
    auto* intro = new QLabel(
        tr("<p>Each lesson opens the bundled digits demo, selects a tensor, sets the quantization and "
           "shows the page that makes the point. Every lesson is one undoable step (Ctrl+Z). "
           "F5 switches presentation mode (large type), F11 full screen.</p>"),
        content);
    intro->setWordWrap(true);
    grid->addWidget(intro, 0, 0, 1, 2);
    // Two columns of lessons, each a button above its explanation: the list fits a projector's
    // screen in presentation mode's large type.
    int index = 0;
    for (const LessonPreset& lesson : LessonPreset::all()) {
        auto* button = new QPushButton(lesson.title, content);
        button->setObjectName(QStringLiteral("lesson-") + lesson.id);
        // Bold only: the size follows the application font (presentation mode enlarges it).
        QFont font;
        font.setBold(true);
        button->setFont(font);
        auto* text = new QLabel(lesson.explanation, content);
        text->setWordWrap(true);
        auto* cell = new QVBoxLayout;
        cell->addWidget(button, 0, Qt::AlignLeft);
        cell->addWidget(text);
        cell->addStretch(1);
        grid->addLayout(cell, 1 + index / 2, index % 2);
        connect(button, &QPushButton::clicked, this, [this, id = lesson.id] { emit lessonChosen(id); });
        ++index;
    }
    const int row = 1 + (index + 1) / 2;
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    auto* present = new QPushButton(tr("Presentation mode (F5) and full screen"), content);
    present->setCheckable(true);
    connect(present, &QPushButton::toggled, this, &LessonPage::presentationRequested);
    grid->addWidget(present, row, 0, Qt::AlignLeft);
    grid->setRowStretch(row + 1, 1);
    auto* scroll = new FitScrollArea(this);
    scroll->setWidget(content);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll);
}

} // namespace quantscope::ui
