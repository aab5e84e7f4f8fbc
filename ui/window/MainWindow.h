#pragma once

#include <QFont>
#include <QMainWindow>

class QAction;
class QCheckBox;
class QDockWidget;
class QStackedWidget;
class QTabWidget;

namespace quantscope::ui {

class AnalysisController;
class DistributionPlot;
class ConventionsPanel;
class ErrorView;
class JobRunner;
class LearnView;
class MetricsPanel;
class ModelComparison;
class ModelMapView;
class ParamsExchange;
class PlotBase;
class RecentFiles;
class Session;
class SettingsPanel;
class TensorBrowser;
class WelcomePage;

// The window: tensor browser on the left, settings and headline metrics on the right, the views
// in tabs in the middle, job progress in the status bar. It wires the parts together and owns the
// menus; the work happens in the Session, the AnalysisController and the views.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum View { Distribution, Error, Compare, Model, Learn, Conventions, Map };

    // storedSettings: restore and save window state, recent files' defaults and settings in
    // QSettings (off for headless screenshots, which must not depend on or change them).
    explicit MainWindow(QWidget* parent = nullptr, bool storedSettings = true);
    ~MainWindow() override;

    void openFile(const QString& path);
    void openDemo();
    // Runs an ONNX model on samples (Compare, Model, activations in the browser); opens the
    // model's own weights when no weights are open. Remembered in the recent files.
    void openModel(const QString& model, const QString& samples, const QString& labels = {},
                   const QString& calibration = {});
    // Files dropped or given on the command line: weights, a model, samples, labels, parameters.
    void openPaths(const QStringList& paths);
    // The weights file of the bundled demo, or an empty string when it cannot be found.
    static QString demoWeightsPath();
    void showView(View view);
    // Presentation mode fits the window to the screen it is on: full screen, side panels hidden,
    // the application font and every plot's type and lines scaled to the screen's size.
    void setPresentationMode(bool on);
    // The app's dark palette (View ▸ Dark palette); stored with the settings of a normal run.
    void setDarkPalette(bool on);
    bool darkPalette() const { return m_dark; }
    bool presenting() const { return m_presenting; }
    // The area presentation mode fills instead of the window's screen (a screenshot of a given size).
    void setPresentationArea(const QRect& area) { m_presentationArea = area; }
    QRect presentationArea() const;

    Session* session() const { return m_session; }
    JobRunner* jobs() const { return m_jobs; }
    AnalysisController* controller() const { return m_controller; }
    ParamsExchange* params() const { return m_params; }
    ModelComparison* comparison() const { return m_comparison; }
    DistributionPlot* distributionPlot() const { return m_distribution; }
    ErrorView* errorView() const { return m_errorView; }
    MetricsPanel* metricsPanel() const { return m_metrics; }
    SettingsPanel* settingsPanel() const { return m_settings; }
    TensorBrowser* tensorBrowser() const { return m_browser; }
    QDockWidget* browserDock() const { return m_browserDock; }
    LearnView* learnView() const { return m_learn; }
    ConventionsPanel* conventionsPanel() const { return m_conventions; }
    ModelMapView* modelMapView() const { return m_modelMap; }
    QTabWidget* views() const { return m_views; }
    // Shown instead of the views while nothing is open.
    WelcomePage* welcomePage() const { return m_welcome; }
    bool showsWelcome() const;
    // The last error shown to the user (also in the status bar), for tests.
    QString lastError() const { return m_lastError; }
    // The last confirmation shown (an export or import done), for tests.
    QString lastNotice() const { return m_lastNotice; }

signals:
    void errorShown(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createMenus();
    void showError(const QString& title, const QString& message);
    void showNotice(const QString& title, const QString& message);
    void chooseAndOpen();
    void chooseModel();
    void exportParameters();
    void importParameters();
    void exportQdqModel();
    QString exportBaseName() const;
    void savePlot();
    PlotBase* currentPlot() const;
    void updateTitle();
    void restoreSettings();
    void saveSettings() const;
    void fitBrowserDock(bool firstShow);

    Session* m_session;
    JobRunner* m_jobs;
    AnalysisController* m_controller;
    ParamsExchange* m_params;
    ModelComparison* m_comparison;
    TensorBrowser* m_browser;
    SettingsPanel* m_settings;
    MetricsPanel* m_metrics;
    QTabWidget* m_views;
    QStackedWidget* m_central = nullptr;
    WelcomePage* m_welcome = nullptr;
    DistributionPlot* m_distribution;
    QCheckBox* m_logCounts;
    ErrorView* m_errorView;
    LearnView* m_learn;
    ConventionsPanel* m_conventions = nullptr;
    ModelMapView* m_modelMap = nullptr;
    RecentFiles* m_recent = nullptr;
    QAction* m_presentation = nullptr;
    QAction* m_darkPalette = nullptr;
    bool m_dark = false;
    bool m_presenting = false;
    QRect m_presentationArea;
    QFont m_normalFont;                  // the application font outside presentation mode
    bool m_docksShown[2] = {true, true}; // browser and settings docks before presenting
    Qt::WindowStates m_stateBeforePresenting;
    QByteArray m_geometryBeforePresenting;
    QString m_lastError;
    QString m_lastNotice;
    bool m_weightsRequested = false; // a weights file was asked for (it may still be opening)
    QString m_pendingModel;          // an ONNX model opened without samples: the next samples run it
    bool m_storedSettings = true;
    bool m_shownOnce = false;
    QDockWidget* m_browserDock = nullptr;
    QDockWidget* m_settingsDock = nullptr;
};

} // namespace quantscope::ui
