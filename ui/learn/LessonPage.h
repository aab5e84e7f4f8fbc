#pragma once

#include <QWidget>

namespace quantscope::ui {

// Lesson 6, the saved lessons: one large button per LessonPreset with its explanation.
class LessonPage : public QWidget {
    Q_OBJECT
public:
    explicit LessonPage(QWidget* parent = nullptr);

signals:
    void lessonChosen(const QString& id);
    void presentationRequested(bool on);
};

} // namespace quantscope::ui
