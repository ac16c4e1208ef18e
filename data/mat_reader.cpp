// The benchmark .mat files through libmatio, a song at a time.
// Invariants: no song is trusted before its class, shape and size are checked; matio's messages
// become part of an InputError naming the file (never printed, never an abort); a value that is
// not 0 or 1 is an error, not a note.
#include "data/mat_reader.h"

#include <matio.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "data/errors.h"

namespace chorus {
namespace {

// matio reports through one process-wide log function; the last message of this thread is kept
// for the error we throw (matio's default would print it, and abort on its error level).
thread_local std::string last_matio_message;

void capture_matio_log(int /*level*/, char* message) { last_matio_message = message ? message : ""; }

void install_matio_log() {
  static std::once_flag once;
  std::call_once(once, [] { Mat_LogInitFunc("chorus", &capture_matio_log); });
}

std::string matio_said() {
  std::string m = last_matio_message;
  last_matio_message.clear();
  return m.empty() ? "" : " (matio: " + m + ")";
}

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};

bool numeric(matio_classes c) { return c >= MAT_C_DOUBLE && c <= MAT_C_UINT64; }

// Element `i` of a block read in the variable's own class, as a double.
double element(const std::vector<uint8_t>& block, matio_classes c, size_t i) {
  auto get = [&](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, block.data() + i * sizeof v, sizeof v);
    return static_cast<double>(v);
  };
  switch (c) {
    case MAT_C_DOUBLE: return get(double{});
    case MAT_C_SINGLE: return get(float{});
    case MAT_C_INT8: return get(int8_t{});
    case MAT_C_UINT8: return get(uint8_t{});
    case MAT_C_INT16: return get(int16_t{});
    case MAT_C_UINT16: return get(uint16_t{});
    case MAT_C_INT32: return get(int32_t{});
    case MAT_C_UINT32: return get(uint32_t{});
    case MAT_C_INT64: return get(int64_t{});
    default: return get(uint64_t{});
  }
}

// Rows read per call: a block of 16384 x 88 doubles is 11 MiB.
constexpr int64_t kBlockRows = 16384;

std::vector<Frame> read_song(mat_t* mat, matvar_t* cell, const std::string& where) {
  if (cell == nullptr) throw InputError(where + ": missing (corrupt file)" + matio_said());
  if (!numeric(cell->class_type) || cell->isComplex) {
    throw InputError(where + ": not a real numeric or logical matrix (MATLAB class " +
                     std::to_string(cell->class_type) + ")");
  }
  if (cell->rank != 2 || cell->dims == nullptr || cell->dims[1] != static_cast<size_t>(kKeys)) {
    const std::string shape = cell->rank == 2 && cell->dims
                                  ? std::to_string(cell->dims[0]) + " x " + std::to_string(cell->dims[1])
                                  : "rank " + std::to_string(cell->rank);
    throw InputError(where + ": a " + shape + " matrix; a song is frames x 88");
  }
  const int64_t frames = static_cast<int64_t>(cell->dims[0]);
  if (frames == 0) throw InputError(where + ": an empty song");
  if (frames > kMaxMatSongFrames) {
    throw InputError(where + ": " + std::to_string(frames) + " frames, over the limit of " +
                     std::to_string(kMaxMatSongFrames));
  }
  const size_t bytes = Mat_SizeOfClass(cell->class_type);
  std::vector<Frame> song(static_cast<size_t>(frames));
  std::vector<uint8_t> block;
  for (int64_t first = 0; first < frames; first += kBlockRows) {
    const int64_t rows = std::min(kBlockRows, frames - first);
    block.assign(static_cast<size_t>(rows) * kKeys * bytes, 0);
    int start[2] = {static_cast<int>(first), 0}, stride[2] = {1, 1};
    int edge[2] = {static_cast<int>(rows), kKeys};
    if (Mat_VarReadData(mat, cell, block.data(), start, stride, edge) != 0) {
      throw InputError(where + ": cannot read its data (truncated or corrupt file)" + matio_said());
    }
    for (int k = 0; k < kKeys; ++k) {  // column-major: (row r, column k) at k * rows + r
      for (int64_t r = 0; r < rows; ++r) {
        const double v = element(block, cell->class_type, static_cast<size_t>(k * rows + r));
        if (v == 1) {
          song[static_cast<size_t>(first + r)].set(static_cast<size_t>(k));
        } else if (v != 0) {
          throw InputError(where + ": frame " + std::to_string(first + r) + ", column " + std::to_string(k) +
                           " holds " + std::to_string(v) + "; a piano roll holds 0 or 1");
        }
      }
    }
  }
  return song;
}

// matio trusts the sizes a file states: a corrupt zlib stream or a forged header makes it
// allocate gigabytes or leak its stream copies (found by tests/fuzz/mat_fuzz.cpp). So a v5 file
// is checked before matio reads it: its data elements must tile the file exactly (matio does not
// notice a file cut inside the last variable's stream once the matrix data is complete), every
// compressed element must inflate to its end as one intact zlib stream (checksum included), and
// every variable must be a plain array (numeric, logical, char or cell; a cell array of at most
// kMaxMatSongs cells) with at most 8 dimensions. v7.3 files are HDF5, which checks its own
// structure; v4 files (no MAT-file header) are refused.
class V5Check {
 public:
  explicit V5Check(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "rb"), &std::fclose) {}

  void run() {
    if (!f_) throw InputError(path_ + ": cannot open: " + std::strerror(errno));
    // Only v5 and v7.3 headers reach matio: its v4 reader (tried on anything else) allocates
    // whatever a forged header asks for, and no benchmark file is v4.
    unsigned char header[128];
    const std::string not_mat = path_ + ": not a MATLAB v5 or v7.3 file (no MAT-file header)";
    if (std::fread(header, 1, sizeof header, f_.get()) != sizeof header) throw InputError(not_mat);
    little_ = header[126] == 'I' && header[127] == 'M';
    if (!little_ && !(header[126] == 'M' && header[127] == 'I')) throw InputError(not_mat);
    if (u16(header + 124) == 0x0200) return;  // v7.3: HDF5, which checks its own structure
    if (u16(header + 124) != 0x0100) throw InputError(not_mat);
    if (std::fseek(f_.get(), 0, SEEK_END) != 0) throw InputError(path_ + ": cannot seek");
    const uint64_t size = static_cast<uint64_t>(std::ftell(f_.get()));
    uint64_t at = 128;
    for (int element = 1; at < size; ++element) {
      const std::string where =
          path_ + ": data element " + std::to_string(element) + " (byte " + std::to_string(at) + ")";
      unsigned char tag[8];
      if (size - at < 8 || !read_at(at, tag, 8)) throw InputError(where + ": truncated: the file ends inside its tag");
      const uint64_t type = u32(tag), bytes = u32(tag + 4);
      if (bytes > size - at - 8) {
        throw InputError(where + ": truncated: it needs " + std::to_string(bytes) + " bytes, the file has " +
                         std::to_string(size - at - 8) + " left");
      }
      std::vector<unsigned char> head;
      if (type == 15) {  // miCOMPRESSED
        head = inflate_all(at + 8, bytes, where);
      } else {
        head.resize(static_cast<size_t>(std::min<uint64_t>(bytes + 8, 64)));
        if (!read_at(at, head.data(), head.size())) throw InputError(where + ": read error");
      }
      check_array(head, where);
      at += 8 + bytes;
    }
  }

 private:
  uint64_t u16(const unsigned char* b) const { return little_ ? b[0] | b[1] << 8 : b[0] << 8 | b[1]; }
  uint64_t u32(const unsigned char* b) const {
    return little_ ? uint64_t{b[0]} | uint64_t{b[1]} << 8 | uint64_t{b[2]} << 16 | uint64_t{b[3]} << 24
                   : uint64_t{b[3]} | uint64_t{b[2]} << 8 | uint64_t{b[1]} << 16 | uint64_t{b[0]} << 24;
  }
  bool read_at(uint64_t at, void* out, size_t n) {
    return std::fseek(f_.get(), static_cast<long>(at), SEEK_SET) == 0 && std::fread(out, 1, n, f_.get()) == n;
  }
  // Inflates bytes [at, at + n) as one zlib stream, discarding the output but its first 64 bytes.
  std::vector<unsigned char> inflate_all(uint64_t at, uint64_t n, const std::string& where) {
    z_stream z{};
    if (inflateInit(&z) != Z_OK) throw std::runtime_error("zlib: inflateInit failed");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, &inflateEnd);
    std::vector<unsigned char> in(1 << 16), out(1 << 16), head;
    int rc = Z_OK;
    uint64_t left = n;
    if (std::fseek(f_.get(), static_cast<long>(at), SEEK_SET) != 0) throw InputError(where + ": cannot seek");
    while (rc != Z_STREAM_END) {
      if (z.avail_in == 0) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left, in.size()));
        if (take == 0) break;  // the element ended before the stream did
        if (std::fread(in.data(), 1, take, f_.get()) != take) throw InputError(where + ": read error");
        left -= take;
        z.next_in = in.data();
        z.avail_in = static_cast<uInt>(take);
      }
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        throw InputError(where + ": corrupt compressed data (zlib: " + (z.msg ? z.msg : std::to_string(rc)) + ")");
      }
      const size_t made = out.size() - z.avail_out;
      const size_t keep = std::min<size_t>(made, 64 - std::min<size_t>(head.size(), 64));
      head.insert(head.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep));
    }
    if (rc != Z_STREAM_END) throw InputError(where + ": truncated compressed data (the zlib stream does not end)");
    if (z.avail_in != 0 || left != 0) throw InputError(where + ": bytes after the end of its compressed data");
    return head;
  }
  // The start of a miMATRIX element: tag, array flags, dimensions.
  void check_array(const std::vector<unsigned char>& h, const std::string& where) {
    if (h.size() < 40 || u32(h.data()) != 14 || u32(h.data() + 8) != 6 || u32(h.data() + 12) != 8 ||
        u32(h.data() + 24) != 5) {
      throw InputError(where + ": not a MATLAB array (corrupt file?)");
    }
    const uint64_t cls = u32(h.data() + 16) & 0xff, dims_bytes = u32(h.data() + 28);
    if (cls != MAT_C_CELL && cls != MAT_C_CHAR && !numeric(static_cast<matio_classes>(cls))) {
      throw InputError(where + ": a MATLAB " + (cls == MAT_C_STRUCT ? "struct" : "class " + std::to_string(cls)) +
                       " variable; a benchmark file holds cell arrays of numeric matrices");
    }
    if (dims_bytes % 4 != 0 || dims_bytes < 8 || dims_bytes > 32) {
      throw InputError(where + ": " + std::to_string(dims_bytes / 4) + " dimensions (corrupt file?)");
    }
    uint64_t cells = 1;
    for (uint64_t d = 0; d < dims_bytes / 4 && 32 + 4 * d + 4 <= h.size(); ++d) {
      const uint64_t n = u32(h.data() + 32 + 4 * d);
      if (n > static_cast<uint64_t>(kMaxMatSongs) || (n >> 31)) cells = static_cast<uint64_t>(kMaxMatSongs) + 1;
      cells = std::min<uint64_t>(cells * n, static_cast<uint64_t>(kMaxMatSongs) + 1);
    }
    if (cls == MAT_C_CELL && cells > static_cast<uint64_t>(kMaxMatSongs)) {
      throw InputError(where + ": more than " + std::to_string(kMaxMatSongs) + " cells (corrupt file?)");
    }
  }

  std::string path_;
  std::unique_ptr<FILE, int (*)(FILE*)> f_;
  bool little_ = true;
};

}  // namespace

void read_pianoroll_mat(const std::string& path, const SplitSongSink& sink) {
  install_matio_log();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) throw InputError(path + ": --mat: no such file");
  V5Check(path).run();  // before matio sees the file
  last_matio_message.clear();
  std::unique_ptr<mat_t, MatCloser> mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  if (!mat) throw InputError(path + ": not a MATLAB v5 or v7.3 file that matio can open" + matio_said());
  const std::pair<const char*, const char*> variables[] = {
      {"traindata", "train"}, {"validdata", "valid"}, {"testdata", "test"}};
  // All three are required: the published files hold them, and a missing one is what a file
  // truncated between two variables looks like (matio cannot tell the two apart).
  for (const auto& [variable, split] : variables) {
    const std::string where = path + ": " + variable;
    std::unique_ptr<matvar_t, VarFreer> var(Mat_VarReadInfo(mat.get(), variable));
    if (!var) {
      throw InputError(where + ": no such variable, or it cannot be read (a benchmark file holds "
                       "traindata, validdata and testdata; truncated or corrupt?)" + matio_said());
    }
    if (var->class_type != MAT_C_CELL) {
      throw InputError(where + ": not a cell array of songs (MATLAB class " + std::to_string(var->class_type) + ")");
    }
    size_t songs = 1;  // checked as it grows, so a hostile shape cannot overflow it
    for (int d = 0; d < var->rank && var->dims && songs <= static_cast<size_t>(kMaxMatSongs); ++d) {
      songs = var->dims[d] > static_cast<size_t>(kMaxMatSongs) ? var->dims[d] : songs * var->dims[d];
    }
    if (var->rank < 1 || var->dims == nullptr || songs > static_cast<size_t>(kMaxMatSongs)) {
      throw InputError(where + ": more than " + std::to_string(kMaxMatSongs) + " cells (corrupt file?)");
    }
    for (size_t i = 0; i < songs; ++i) {
      const std::string cell = where + "{" + std::to_string(i + 1) + "}";  // MATLAB's 1-based index
      sink(split, read_song(mat.get(), Mat_VarGetCell(var.get(), static_cast<int>(i)), cell));
    }
  }
}

}  // namespace chorus
