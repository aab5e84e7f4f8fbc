#include "quantscope/Error.h"
#include "quantscope/Progress.h"

namespace quantscope {

Error::Error(std::string subject, std::string detail)
    : std::runtime_error(subject + ": " + detail), m_subject(std::move(subject)),
      m_detail(std::move(detail)) {}

void reportProgress(const ProgressCallback& progress, Stage stage, double fraction) {
    if (progress && !progress(stage, fraction))
        throw Cancelled();
}

} // namespace quantscope
