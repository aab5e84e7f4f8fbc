#pragma once

#include <zip.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace quantscope {

// libzip's text for an error code of zip_open.
std::string zipErrorText(int code);

// One open entry of a zip archive (.npz, PyTorch checkpoints), closed on every path out. Errors
// name `subject` (the file and the entry).
class ZipEntryStream {
public:
    ZipEntryStream(zip_t* archive, uint64_t index, const std::string& subject);
    ~ZipEntryStream();
    ZipEntryStream(const ZipEntryStream&) = delete;
    ZipEntryStream& operator=(const ZipEntryStream&) = delete;

    // Reads up to `length` bytes into `destination`; fewer only at the end of the entry.
    uint64_t read(std::byte* destination, uint64_t length);
    // Reads exactly `length` bytes, or throws naming what was found instead.
    void readExactly(std::byte* destination, uint64_t length, const char* what);
    // Moves to `offset`: a seek for a stored entry, reading and discarding for a compressed one.
    void skipTo(uint64_t offset, bool seekable);

private:
    std::string m_subject;
    zip_file_t* m_file = nullptr;
};

} // namespace quantscope
