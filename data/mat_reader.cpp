// The benchmark .mat files through libmatio, a song at a time, once data/mat_check.h has walked
// the file's structure. Invariants: matio never sees a file whose sizes were not checked; no song
// is trusted before its class, shape and size are checked; matio's messages become part of an
// InputError naming the file (never printed, never an abort); a value that is not 0 or 1 is an
// error, not a note.
#include "data/mat_reader.h"

#include <matio.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "data/errors.h"
#include "data/mat_check.h"

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

// An int, not matio_classes: a header's class byte may be any value, and an out-of-range enum is UB.
bool numeric(int c) { return c >= MAT_C_DOUBLE && c <= MAT_C_UINT64; }

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

// Rows read per call: a whole song (kMaxMatSongFrames x 88 doubles is 46 MiB at most).
constexpr int64_t kBlockRows = kMaxMatSongFrames;

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

}  // namespace

void read_pianoroll_mat(const std::string& path, const SplitSongSink& sink) {
  install_matio_log();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) throw InputError(path + ": --mat: no such file");
  check_mat_file(path, kMaxMatSongs, kMaxMatVariableBytes);  // before matio sees the file
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
