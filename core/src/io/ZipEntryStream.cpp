#include "io/ZipEntryStream.h"

#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"

#include <algorithm>
#include <vector>

namespace quantscope {

std::string zipErrorText(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}

ZipEntryStream::ZipEntryStream(zip_t* archive, uint64_t index, const std::string& subject)
    : m_subject(subject) {
    m_file = zip_fopen_index(archive, index, 0);
    if (m_file == nullptr)
        throw Error(subject, std::string("cannot open the entry: ") + zip_strerror(archive));
}

ZipEntryStream::~ZipEntryStream() {
    zip_fclose(m_file);
}

uint64_t ZipEntryStream::read(std::byte* destination, uint64_t length) {
    uint64_t total = 0;
    // Large reads go in slices so a cancelled job stops within one slice.
    constexpr uint64_t kSliceBytes = 8 << 20;
    while (total < length) {
        throwIfCancelled();
        const zip_int64_t got = zip_fread(m_file, destination + total, std::min(length - total, kSliceBytes));
        if (got < 0)
            throw Error(m_subject, std::string("cannot read the entry: ") + zip_file_strerror(m_file));
        if (got == 0)
            break;
        total += static_cast<uint64_t>(got);
    }
    return total;
}

void ZipEntryStream::readExactly(std::byte* destination, uint64_t length, const char* what) {
    const uint64_t got = read(destination, length);
    if (got != length)
        throw Error(m_subject, std::string("truncated ") + what + ": " + std::to_string(length) +
                                   " bytes needed, the entry holds " + std::to_string(got));
}

void ZipEntryStream::skipTo(uint64_t offset, bool seekable) {
    if (seekable) {
        if (zip_fseek(m_file, static_cast<zip_int64_t>(offset), SEEK_SET) != 0)
            throw Error(m_subject, std::string("cannot seek in the entry: ") + zip_file_strerror(m_file));
        return;
    }
    std::vector<std::byte> discard(64 << 10);
    while (offset > 0) {
        const uint64_t step = std::min<uint64_t>(offset, discard.size());
        readExactly(discard.data(), step, "data");
        offset -= step;
    }
}

} // namespace quantscope
