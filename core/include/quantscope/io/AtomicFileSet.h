#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace quantscope {

// The output files of one command, committed together or not at all. stage() writes each file's
// contents to a temporary beside its target; commit() then renames every temporary into place, so
// a failure before commit() (a later output that cannot be written, an error, Ctrl-C) leaves
// every target as it was. Temporaries not committed are removed by the destructor.
//
// Targets are resolved the way a shell's `>` would write them:
// - an existing symlink is written through: the temporary goes beside the file it points to, and
//   replaces that file, so the link stays a link;
// - an existing target that is not a regular file (a character device such as /dev/null, a FIFO)
//   is written to directly at commit(), never replaced by a regular file; a FIFO without a reader
//   is an error rather than a wait;
// - a directory is refused.
// Every write, fsync and close is checked: a full disk is an Error naming the file, not a success.
class AtomicFileSet {
public:
    AtomicFileSet() = default;
    ~AtomicFileSet();
    AtomicFileSet(const AtomicFileSet&) = delete;
    AtomicFileSet& operator=(const AtomicFileSet&) = delete;

    // Throws Error naming `path` when the file cannot be written; what was staged so far stays
    // staged (and is removed unless committed).
    void stage(const std::string& path, std::string_view contents);

    // Writes the non-regular targets, then renames every temporary onto its target. Throws Error
    // naming the file that failed; on failure no temporary is left behind.
    void commit();

private:
    struct Staged {
        std::string path;      // as the caller named it, for messages
        std::string target;    // the file to replace or write (symlinks resolved)
        std::string temporary; // empty for a target written directly
        std::string contents;  // only for a target written directly
    };

    void removeTemporaries() noexcept;

    std::vector<Staged> m_staged;
};

} // namespace quantscope
