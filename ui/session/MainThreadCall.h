#pragma once

#include <functional>

namespace quantscope::ui {

// Runs `call` on the application's main (GUI) thread, from any thread, as a queued call: it runs
// when the main thread's event loop next processes events, after the calls posted before it.
//
// Unlike QMetaObject::invokeMethod with a functor, the call's storage is created on the posting
// thread and always freed on the main thread after it ran (the event that carries it is posted to
// an object living there and deleted there), and the hand-off is shown to ThreadSanitizer. The
// functor form frees its storage on whichever thread drops the last reference, ordered by an
// atomic inside Qt that a ThreadSanitizer build cannot see, so every such call was reported as a
// race. Calls still queued when the application object is destroyed are dropped unrun.
// The call must check itself that what it touches still exists (capture a QPointer).
void postToMainThread(std::function<void()> call);

} // namespace quantscope::ui
