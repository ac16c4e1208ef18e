// Durable file operations: checksums, fsync, write-then-rename. Every writer of ours uses these so
// that a crash never leaves a file that looks complete.
#pragma once
#include <string>

namespace chorus {

// sha256 of a file as lowercase hex (OpenSSL EVP); throws InputError naming the file when unreadable.
std::string sha256_file(const std::string& path);
// fsync a file / a directory (so a rename inside it is durable); throws std::runtime_error.
void fsync_path(const std::string& path);
// Writes `content` to path+".tmp", fsyncs it, renames it over `path`, fsyncs the directory.
void write_file_atomic(const std::string& path, const std::string& content);
// Renames a finished temporary file over `to` and fsyncs the directory, so the result is durable
// and a reader never sees a half-written file; InputError naming both on failure.
void rename_durably(const std::string& from, const std::string& to);
// Whole file as a string; throws InputError naming the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace chorus
