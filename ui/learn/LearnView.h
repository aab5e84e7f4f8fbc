#pragma once

#include "learn/LessonPreset.h"

#include <QWidget>

#include <memory>

class QLabel;
class QPushButton;
class QTabWidget;

namespace quantscope::ui {

class AnalysisController;
class JobRunner;
class LearnBitWidthPage;
class LearnCalibrationPage;
class LearnDatapathPage;
class LearnMappingPage;
class LearnModesPage;
class LessonPage;
class ModelComparison;
class Session;
struct LearnTensorStudy;

// Teaching mode: quantization explained with the live numbers of the selected tensor and its
// settings, one lesson per page (the mapping step by step, bit width and granularity,
// calibration, static against dynamic, the integer datapath) plus saved lessons that set
// everything up in one click. The tensor lessons are measured on the job runner while the view
// is visible; a newer selection or setting supersedes an older measurement.
class LearnView : public QWidget {
    Q_OBJECT
public:
    LearnView(Session* session, AnalysisController* controller, JobRunner* jobs, ModelComparison* comparison,
              QWidget* parent = nullptr);

    void showPage(LessonPreset::Page page);
    LessonPreset::Page currentPage() const;
    // The next (+1) or previous (-1) page; stays on the first and the last (PgUp / PgDn).
    void stepPage(int delta);
    static constexpr int kPageCount = 6;
    // Keeps the Present button in step with the window's presentation mode.
    void setPresenting(bool on);
    // Loads what the lesson needs (the demo, or its ReLU outputs) and applies its settings.
    void applyLesson(const QString& id);
    QString activeLesson() const { return m_activeLesson; }

    // The walked-through value of the mapping lesson.
    void setValue(double x);
    QString stepsText() const;

    std::shared_ptr<const LearnTensorStudy> study() const { return m_study; }
    // The study for the current tensor and settings is computed, and so is the datapath when a model is open.
    bool isSettled() const;

    LearnMappingPage* mappingPage() const { return m_mapping; }
    LearnBitWidthPage* bitWidthPage() const { return m_bitWidth; }
    LearnCalibrationPage* calibrationPage() const { return m_calibration; }
    LearnModesPage* modesPage() const { return m_modes; }
    LearnDatapathPage* datapathPage() const { return m_datapath; }

signals:
    void presentationRequested(bool on);
    void studyChanged();

protected:
    void showEvent(QShowEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void scheduleStudy();
    void startStudy();
    void showStudy();
    void setBanner(const QString& text);
    void onFileChanged();
    void finishLesson();
    void updateDatapathModel();
    bool studyIsCurrent() const;

    Session* m_session;
    AnalysisController* m_controller;
    JobRunner* m_jobs;
    ModelComparison* m_comparison;
    QLabel* m_banner;
    bool m_bannerIsIntro = false;
    QPushButton* m_present;
    QTabWidget* m_pages;
    LearnMappingPage* m_mapping;
    LearnBitWidthPage* m_bitWidth;
    LearnCalibrationPage* m_calibration;
    LearnModesPage* m_modes;
    LearnDatapathPage* m_datapath;
    LessonPage* m_lessons;
    std::shared_ptr<const LearnTensorStudy> m_study;
    int m_studyJob = 0;
    bool m_studyStale = true;
    bool m_studyFailed = false; // the last study failed: its message is shown instead
    QString m_pendingLesson;
    QString m_activeLesson;
    bool m_replaceAllowed = false; // the user agreed that a lesson replaces their open file
};

} // namespace quantscope::ui
