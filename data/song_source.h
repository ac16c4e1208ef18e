// What a stream batcher reads: the songs of a lyrics corpus (symbol ids) or of a piano-roll corpus
// (88-key frames), behind one interface so that one trainer serves both kinds of data.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/limits.h"
#include "data/pianoroll.h"

namespace chorus {

// The small per-split index, read whole: offsets and artist ids (not the symbols).
struct SplitIndex {
  std::string name;
  std::vector<int64_t> offsets;  // size songs()+1
  std::vector<int32_t> artist;   // size songs()
  int64_t songs() const { return static_cast<int64_t>(artist.size()); }
  int64_t song_length(int64_t i) const { return offsets[i + 1] - offsets[i]; }
  int64_t symbols() const { return offsets.empty() ? 0 : offsets.back(); }
  // Structure check on opening a file: offsets start at 0, never decrease, no song is longer than
  // kMaxSongLength, and they end at `rows` (the length of the split's data, called `rows_name` in
  // messages). InputError after `where`.
  void check_offsets(int64_t rows, const std::string& where, const std::string& rows_name) const;
};

// One song's content: symbol ids (lyrics) or frames (piano rolls); the other stays empty.
struct SongData {
  std::vector<int32_t> symbols;
  std::vector<Frame> frames;
};

class SongSource {
 public:
  virtual ~SongSource() = default;
  const std::string& path() const { return path_; }
  bool has_split(const std::string& split) const;
  // Throws InputError naming the file when the split does not exist.
  const SplitIndex& split(const std::string& split) const;
  // 0 when songs are symbol ids, kKeys when they are piano-roll frames.
  virtual int64_t frame_keys() const = 0;
  virtual void read(const std::string& split, int64_t song, SongData* out) const = 0;

 protected:
  // The split's index after checking that `song` is in it (std::out_of_range otherwise).
  const SplitIndex& checked_song(const std::string& split, int64_t song) const;
  explicit SongSource(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::vector<SplitIndex> splits_;  // filled by the reader that opens the file
};

}  // namespace chorus
