// What the two corpus formats (lyrics, piano rolls) share on disk: a file whose root names its
// format and version, and three split groups "train", "valid", "test", each with one chunked rows
// dataset (/<split>/symbols uint8, uint16 or int32 [N], or /<split>/frames uint8 [N, 11]) that
// grows a chunk at a time, and /<split>/offsets int64 [S+1] (song i is rows
// [offsets[i], offsets[i+1])). Each format
// adds its own attributes and per-split datasets (artist ids and titles; song names) around this
// core. Internal to data/: the public headers are corpus.h and pianoroll_corpus.h.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/hdf5_util.h"
#include "data/song_source.h"

namespace chorus {

inline constexpr const char* kSplitNames[] = {"train", "valid", "test"};
bool is_split_name(const std::string& name);

// A split's rows dataset: its name, element type and row width (1 = a 1-D dataset).
struct RowFormat {
  std::string name;           // "symbols" | "frames"
  hid_t file_type = -1;       // type on disk
  hid_t mem_type = -1;        // type in memory
  size_t element_bytes = 0;   // bytes of one element in memory
  hsize_t width = 1;          // elements per row
  hsize_t chunk_rows = 0;     // rows per chunk (64-256 KiB: docs/design.md "HDF5 access")
};

// Creates a corpus file (truncating) with the format's root attributes and an empty rows dataset
// per split. The format-specific writer adds its own attributes through file() and its own
// per-split datasets in commit(). Destroying an uncommitted writer removes the file, so a failure
// never leaves a file that looks complete.
class CorpusFileWriter {
 public:
  CorpusFileWriter(const std::string& path, const std::string& format, int version,
                   RowFormat rows, const nlohmann::json& provenance);
  ~CorpusFileWriter();
  CorpusFileWriter(const CorpusFileWriter&) = delete;
  CorpusFileWriter& operator=(const CorpusFileWriter&) = delete;

  hid_t file() const { return file_.get(); }
  const std::string& path() const { return path_; }
  // Appends one song of `n` rows (n * width elements in the memory type) to `split`.
  void add_song(const std::string& split, const void* rows, int64_t n);
  // Writes the pending rows and each split's offsets, then `index(split, group)` (the format's
  // own per-split datasets), flushes, closes and fsyncs the file.
  void commit(const std::function<void(const std::string& split, hid_t group)>& index);

 private:
  struct Split {
    h5::Id rows;
    int64_t written = 0;             // rows on disk
    std::vector<uint8_t> pending;    // rows not yet written (the dataset grows a chunk at a time)
    std::vector<int64_t> offsets{0};
  };
  void flush(Split& s);
  void abandon();

  std::string path_;
  RowFormat format_;
  h5::Id file_;
  std::map<std::string, Split> splits_;
  bool created_ = false, committed_ = false;
};

// Opens a corpus file read-only (h5::open_corpus: format and version checked with a hint) and
// gives each present split's index and rows. The format-specific reader checks the rest.
class CorpusFileReader {
 public:
  // Reads files of versions min_version..max_version (the older ones a format still reads).
  CorpusFileReader(const std::string& path, const std::string& format, int64_t min_version,
                   int64_t max_version, const std::string& what, const std::string& prepare,
                   RowFormat rows);
  hid_t file() const { return file_.get(); }
  int64_t version() const { return version_; }
  // The splits the file holds, in train, valid, test order.
  std::vector<std::string> splits() const;
  // Opens /<split>/<rows> and /<split>/offsets, checks the rows' shape and type (InputError with
  // `hint`) and the offsets against the row count; returns the index (artist ids left empty).
  SplitIndex open_split(const std::string& split, const std::string& hint);
  // Reads rows [start, start + count) of `split` into `out` (count * width elements).
  void read_rows(const std::string& split, int64_t start, int64_t count, void* out) const;

 private:
  std::string path_;
  RowFormat format_;
  int64_t version_ = 0;
  h5::Id file_;
  std::map<std::string, h5::Id> rows_;
};

}  // namespace chorus
