// The scratch file under SpillSorter: unlinked at creation, so it never outlives the process.
// Invariant: every write and read is complete or throws; nothing is silently short.
#include "data/spill_sort.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace chorus {

ScratchFile::ScratchFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/chorus-sort.XXXXXX";
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) throw std::runtime_error(tmpl + ": cannot create a scratch file: " + std::strerror(errno));
  ::unlink(tmpl.c_str());
}

ScratchFile::~ScratchFile() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t ScratchFile::append(const void* data, size_t bytes) {
  const uint64_t start = size_;
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(fd_, p, bytes, static_cast<off_t>(size_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("scratch file: write failed (disk full?): ") + std::strerror(errno));
    p += n, bytes -= static_cast<size_t>(n), size_ += static_cast<uint64_t>(n);
  }
  return start;
}

void ScratchFile::read(uint64_t offset, void* data, size_t bytes) const {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pread(fd_, p, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("scratch file: read failed: ") + std::strerror(errno));
    p += n, bytes -= static_cast<size_t>(n), offset += static_cast<uint64_t>(n);
  }
}

}  // namespace chorus
