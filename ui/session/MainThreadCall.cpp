#include "session/MainThreadCall.h"

#include "session/ThreadHandOff.h"

#include <QCoreApplication>
#include <QEvent>

#include <atomic>
#include <utility>

namespace quantscope::ui {

namespace {

const QEvent::Type kCallEvent = static_cast<QEvent::Type>(QEvent::registerEventType());

class CallEvent : public QEvent {
public:
    explicit CallEvent(std::function<void()> call) : QEvent(kCallEvent), m_call(std::move(call)) {}
    void run() { m_call(); }

private:
    std::function<void()> m_call;
};

class CallRunner;

// Set on the main thread as the application is constructed (before other threads can post),
// cleared as it goes.
std::atomic<CallRunner*> runner{nullptr};

// Receives the calls: a child of the application object made as that is constructed, so it lives
// on the main thread and goes with the application (dropping calls still queued).
class CallRunner : public QObject {
public:
    using QObject::QObject;
    ~CallRunner() override { runner = nullptr; }
    bool event(QEvent* event) override {
        acquireFromOtherThread(event); // before reading anything of it
        if (event->type() != kCallEvent)
            return QObject::event(event);
        static_cast<CallEvent*>(event)->run();
        return true;
    }
};

void makeCallRunner() {
    runner = new CallRunner(QCoreApplication::instance());
}

} // namespace

Q_COREAPP_STARTUP_FUNCTION(makeCallRunner)

void postToMainThread(std::function<void()> call) {
    CallRunner* receiver = runner;
    if (!receiver)
        return;
    auto* event = new CallEvent(std::move(call));
    releaseToOtherThread(event);
    QCoreApplication::postEvent(receiver, event);
}

} // namespace quantscope::ui
