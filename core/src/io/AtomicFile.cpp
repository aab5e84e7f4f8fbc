#include "quantscope/io/AtomicFile.h"

#include "quantscope/io/AtomicFileSet.h"

namespace quantscope {

void writeFileAtomically(const std::string& path, std::string_view contents) {
    AtomicFileSet files;
    files.stage(path, contents);
    files.commit();
}

} // namespace quantscope
