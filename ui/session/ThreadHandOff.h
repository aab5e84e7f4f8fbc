#pragma once

// ThreadSanitizer cannot see the synchronisation inside Qt: Debian's Qt is not built with it, and
// QMutex waits on futexes. Where our data crosses threads through Qt (a job handed to
// QThreadPool::start, a result posted back with QMetaObject::invokeMethod), these tell it that
// what the sender wrote before the hand-off happens before what the receiver reads after it.
// They do nothing in other builds.

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace quantscope::ui {

// Called by the sending thread just before the hand-off; `token` names it (the job, say).
inline void releaseToOtherThread(const void* token) {
#if defined(__SANITIZE_THREAD__)
    __tsan_release(const_cast<void*>(token));
#else
    (void)token;
#endif
}

// Called by the receiving thread first thing, with the sender's token.
inline void acquireFromOtherThread(const void* token) {
#if defined(__SANITIZE_THREAD__)
    __tsan_acquire(const_cast<void*>(token));
#else
    (void)token;
#endif
}

} // namespace quantscope::ui
