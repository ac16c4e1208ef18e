// The MAT-file v5 structure walked element by element, compressed ones through zlib, before
// matio sees the file. Invariant: every size a header states is checked against the bytes that
// hold it (its parent, the file, the inflated stream) before anything relies on it.
#include "data/mat_check.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "data/errors.h"

namespace chorus {
namespace {

using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;

// The bytes of one top-level element: a stretch of the file, or the zlib stream stored there.
class Source {
 public:
  Source(FILE* f, uint64_t at, uint64_t n, bool compressed, uint64_t max_inflated, const std::string& where)
      : f_(f), left_(n), compressed_(compressed), max_(max_inflated), where_(where) {
    if (std::fseek(f_, static_cast<long>(at), SEEK_SET) != 0) throw InputError(where_ + ": cannot seek");
    if (compressed_ && inflateInit(&z_) != Z_OK) throw std::runtime_error("zlib: inflateInit failed");
  }
  ~Source() {
    if (compressed_) inflateEnd(&z_);
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  // All `n` bytes, or InputError: the element (or its stream) ends first.
  void read(unsigned char* out, uint64_t n) {
    while (n > 0) {
      if (pos_ == buf_.size() && !fill()) throw InputError(where_ + ": truncated: its data ends inside an array");
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf_.size() - pos_));
      if (out) std::memcpy(out, buf_.data() + pos_, k), out += k;
      pos_ += k, n -= k;
    }
  }
  void skip(uint64_t n) { read(nullptr, n); }
  // After the one array: the stream must end, checksum verified, with nothing after it.
  void finish() {
    if (pos_ != buf_.size() || fill()) throw InputError(where_ + ": bytes after its array");
    if (compressed_ && (!ended_ || z_.avail_in != 0 || left_ != 0)) {
      throw InputError(where_ + ": bytes after the end of its compressed data");
    }
  }

 private:
  bool fill() {  // the next bytes into buf_; false at the end
    buf_.clear();
    pos_ = 0;
    if (!compressed_) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(left_, 1 << 16));
      buf_.resize(k);
      if (k > 0 && std::fread(buf_.data(), 1, k, f_) != k) throw InputError(where_ + ": read error");
      left_ -= k;
      return k > 0;
    }
    while (buf_.empty() && !ended_) {
      if (z_.avail_in == 0) {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(left_, in_.size()));
        if (k == 0) throw InputError(where_ + ": truncated compressed data (the zlib stream does not end)");
        if (std::fread(in_.data(), 1, k, f_) != k) throw InputError(where_ + ": read error");
        left_ -= k;
        z_.next_in = in_.data();
        z_.avail_in = static_cast<uInt>(k);
      }
      buf_.resize(1 << 16);
      z_.next_out = buf_.data();
      z_.avail_out = static_cast<uInt>(buf_.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        throw InputError(where_ + ": corrupt compressed data (zlib: " + (z_.msg ? z_.msg : std::to_string(rc)) + ")");
      }
      ended_ = rc == Z_STREAM_END;
      buf_.resize(buf_.size() - z_.avail_out);
      if (z_.total_out > max_) {
        throw InputError(where_ + ": inflates to more than " + std::to_string(max_ >> 20) + " MiB");
      }
    }
    return !buf_.empty();
  }

  FILE* f_;
  uint64_t left_;
  bool compressed_, ended_ = false;
  uint64_t max_;
  const std::string& where_;
  z_stream z_{};
  std::vector<unsigned char> in_ = std::vector<unsigned char>(1 << 16), buf_;
  size_t pos_ = 0;
};

// Bytes per element of the MAT-file data types an array's data may use (0: not data).
uint64_t data_type_size(uint64_t t) {
  switch (t) {
    case 1: case 2: case 16: return 1;            // miINT8, miUINT8, miUTF8
    case 3: case 4: case 17: return 2;            // miINT16, miUINT16, miUTF16
    case 5: case 6: case 7: case 18: return 4;    // miINT32, miUINT32, miSINGLE, miUTF32
    case 9: case 12: case 13: return 8;           // miDOUBLE, miINT64, miUINT64
    default: return 0;
  }
}

class Walk {
 public:
  Walk(bool little, int64_t max_cells) : little_(little), max_cells_(static_cast<uint64_t>(max_cells)) {}

  uint64_t u32(const unsigned char* b) const {
    return little_ ? uint64_t{b[0]} | uint64_t{b[1]} << 8 | uint64_t{b[2]} << 16 | uint64_t{b[3]} << 24
                   : uint64_t{b[3]} | uint64_t{b[2]} << 8 | uint64_t{b[1]} << 16 | uint64_t{b[0]} << 24;
  }

  // One array element of at most `room` bytes (tag included); returns its size.
  uint64_t array(Source& s, uint64_t room, int depth, const std::string& where) {
    unsigned char tag[8];
    if (room < 8) throw InputError(where + ": an array does not fit in its parent");
    s.read(tag, 8);
    const uint64_t n = u32(tag + 4);
    if (u32(tag) != 14) throw InputError(where + ": not a MATLAB array (corrupt file?)");
    if (n > room - 8) throw InputError(where + ": an array of " + std::to_string(n) + " bytes in " + std::to_string(room - 8));
    uint64_t left = n;
    unsigned char b[32];
    sub(s, left, 6, where, b, 8, 8);  // array flags
    const uint64_t cls = b[little_ ? 0 : 3], complex = (b[little_ ? 1 : 2] & 0x08) != 0;
    const uint64_t dims_bytes = sub(s, left, 5, where, b, 8, 32);
    if (dims_bytes % 4) throw InputError(where + ": malformed dimensions (corrupt file?)");
    uint64_t count = 1;  // saturates far above any limit
    for (uint64_t d = 0; d < dims_bytes / 4; ++d) count = std::min<uint64_t>(count * u32(b + 4 * d), uint64_t{1} << 40);
    sub(s, left, 1, where, nullptr, 0, 63);  // the name
    const bool numeric = cls >= 6 && cls <= 15, is_char = cls == 4;
    if (cls == 1 && depth == 0) {  // a cell array of songs
      if (count > max_cells_ || count > left / 56) {
        throw InputError(where + ": " + std::to_string(count) + " cells in " + std::to_string(left) +
                         " bytes, over the limit of " + std::to_string(max_cells_) + " (corrupt file?)");
      }
      for (uint64_t i = 0; i < count; ++i) left -= array(s, left, depth + 1, where);
    } else if (numeric || is_char) {
      for (int part = 0; part < (complex ? 2 : 1); ++part) {
        unsigned char t[8];
        if (left < 8) throw InputError(where + ": an array's data does not fit in it");
        s.read(t, 8);
        left -= 8;
        uint64_t type = u32(t), bytes = type >> 16, stored = 4;  // the small-element form
        if (bytes == 0) {
          bytes = u32(t + 4);
          stored = (bytes + 7) / 8 * 8;
          if (stored > left) throw InputError(where + ": an array's data does not fit in it");
        } else {
          type &= 0xffff;
          stored = 0;  // its bytes were the tag's second half
        }
        if (data_type_size(type) == 0 || bytes != count * data_type_size(type)) {
          throw InputError(where + ": an array of " + std::to_string(count) + " elements holds " +
                           std::to_string(bytes) + " bytes of data type " + std::to_string(type) + " (corrupt file?)");
        }
        s.skip(stored);
        left -= stored;
      }
    } else {
      throw InputError(where + ": a MATLAB " + (cls == 2 ? std::string("struct") : "class " + std::to_string(cls)) +
                       " where a benchmark file holds cell arrays of numeric matrices");
    }
    s.skip(left);
    return 8 + n;
  }

 private:
  // A sub-element of `type` holding min_bytes..max_bytes, copied to `out` (padded to 8 in the file).
  uint64_t sub(Source& s, uint64_t& left, uint64_t type, const std::string& where, unsigned char* out,
               uint64_t min_bytes, uint64_t max_bytes) {
    unsigned char t[8];
    if (left < 8) throw InputError(where + ": an array's header does not fit in it");
    s.read(t, 8);
    left -= 8;
    uint64_t got = u32(t), bytes = got >> 16, stored = 0;
    if (bytes != 0) {  // small-element form: up to 4 bytes in the tag's second half
      got &= 0xffff;
      if (out) std::memcpy(out, t + 4, static_cast<size_t>(std::min<uint64_t>(bytes, 4)));
    } else {
      bytes = u32(t + 4);
      stored = (bytes + 7) / 8 * 8;
    }
    if (got != type || bytes < min_bytes || bytes > max_bytes || stored > left) {
      throw InputError(where + ": a malformed array header (corrupt file?)");
    }
    if (stored > 0) {
      if (out) s.read(out, bytes), s.skip(stored - bytes);
      if (!out) s.skip(stored);
    }
    left -= stored;
    return bytes;
  }

  bool little_;
  uint64_t max_cells_;
};

}  // namespace

void check_mat_file(const std::string& path, int64_t max_cells, uint64_t max_inflated) {
  FilePtr f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw InputError(path + ": cannot open: " + std::strerror(errno));
  // Only v5 and v7.3 headers reach matio: its v4 reader (tried on anything else) allocates
  // whatever a forged header asks for, and no benchmark file is v4.
  unsigned char header[128];
  const std::string not_mat = path + ": not a MATLAB v5 or v7.3 file (no MAT-file header)";
  if (std::fread(header, 1, sizeof header, f.get()) != sizeof header) throw InputError(not_mat);
  const bool little = header[126] == 'I' && header[127] == 'M';
  if (!little && !(header[126] == 'M' && header[127] == 'I')) throw InputError(not_mat);
  const unsigned version = little ? header[124] | header[125] << 8 : header[124] << 8 | header[125];
  if (version == 0x0200) return;  // v7.3: HDF5
  if (version != 0x0100) throw InputError(not_mat);
  if (std::fseek(f.get(), 0, SEEK_END) != 0) throw InputError(path + ": cannot seek");
  const uint64_t size = static_cast<uint64_t>(std::ftell(f.get()));
  Walk walk(little, max_cells);
  uint64_t at = 128;
  for (int element = 1; at < size; ++element) {
    const std::string where = path + ": data element " + std::to_string(element) + " (byte " + std::to_string(at) + ")";
    unsigned char tag[8];
    if (size - at < 8 || std::fseek(f.get(), static_cast<long>(at), SEEK_SET) != 0 ||
        std::fread(tag, 1, 8, f.get()) != 8) {
      throw InputError(where + ": truncated: the file ends inside its tag");
    }
    const uint64_t type = walk.u32(tag), bytes = walk.u32(tag + 4);
    if (bytes > size - at - 8) {
      throw InputError(where + ": truncated: it needs " + std::to_string(bytes) + " bytes, the file has " +
                       std::to_string(size - at - 8) + " left");
    }
    if (type == 15) {  // miCOMPRESSED: one array inside a zlib stream
      Source s(f.get(), at + 8, bytes, /*compressed=*/true, max_inflated, where);
      walk.array(s, max_inflated, 0, where);
      s.finish();
    } else {  // an array stored as it is (its tag included)
      Source s(f.get(), at, 8 + bytes, /*compressed=*/false, max_inflated, where);
      walk.array(s, 8 + bytes, 0, where);
      s.finish();
    }
    at += 8 + bytes;
  }
}

}  // namespace chorus
