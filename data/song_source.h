// What a stream batcher reads: the songs of a corpus as positions of integer values (a lyrics
// corpus's symbol ids, a piano-roll corpus's 88-key frames), behind one interface so that one
// trainer serves every kind of data. In both kinds the input before a song's first position and
// the padding after its last are all zeros (the end-of-song symbol; a silent frame).
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

// One song as the stream batcher and the baselines see it: `length` positions of `width` values
// each, row-major: a symbol id per position (lyrics, width 1) or one 0/1 value per key (piano
// rolls, width 88).
struct SongData {
  std::vector<int32_t> values;
  int64_t width = 1;
  int64_t length() const { return static_cast<int64_t>(values.size()) / width; }
  const int32_t* at(int64_t position) const { return values.data() + position * width; }
};

class SongSource {
 public:
  virtual ~SongSource() = default;
  const std::string& path() const { return path_; }
  bool has_split(const std::string& split) const;
  // Throws InputError naming the file when the split does not exist.
  const SplitIndex& split(const std::string& split) const;
  // Values per position: 1 (a symbol id) or kKeys (a piano-roll frame).
  virtual int64_t width() const = 0;
  // True when every song is followed by a predicted end-of-song symbol (lyrics: a song of n
  // symbols has n + 1 predictions); false when a song of n frames has n.
  virtual bool predicts_end() const = 0;
  int64_t predictions(int64_t song_length) const { return song_length + (predicts_end() ? 1 : 0); }
  virtual void read(const std::string& split, int64_t song, SongData* out) const = 0;

 protected:
  // The split's index after checking that `song` is in it (std::out_of_range otherwise).
  const SplitIndex& checked_song(const std::string& split, int64_t song) const;
  explicit SongSource(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::vector<SplitIndex> splits_;  // filled by the reader that opens the file
};

}  // namespace chorus
