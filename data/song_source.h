// What a stream batcher reads: the songs of a corpus as positions of integer values (a lyrics
// corpus's symbol ids, a piano-roll corpus's 88-key frames), behind one interface so that one
// trainer serves every kind of data. A source also says how a song is laid out as predictions
// (the input row and the target row of each), so a task can shape what its model reads — a
// column of context, a serialisation of frames into notes — without the batcher knowing. By
// default the input before a song's first position and the padding after its last are all zeros
// (the end-of-song symbol; a silent frame).
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
  int32_t artist = 0;  // the song's artist id (lyrics corpora; 0 where the source has none)
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
  // Positions of a song as read (its length in the index, unless a layout changes it).
  virtual int64_t positions(const std::string& split_name, int64_t song) const {
    return split(split_name).song_length(song);
  }
  virtual void read(const std::string& split, int64_t song, SongData* out) const = 0;

  // ---- Augmentation: sources whose songs differ from epoch to epoch (a transposition drawn per
  // epoch and song). The batcher reads a song anew when its epoch changes if this says so.
  virtual bool varies_by_epoch() const { return false; }
  // The song as epoch `epoch` of training sees it; by default the song itself.
  virtual void read_epoch(const std::string& split, int64_t song, int64_t epoch,
                          SongData* out) const {
    read(split, song, out);
  }

  // ---- Layout: a song as read, as the model sees it, one prediction after another ----
  // Values per input row and per target row.
  virtual int64_t input_width() const { return width(); }
  virtual int64_t target_width() const { return width(); }
  // Prediction p's input row: by default the values of position p - 1, zeros at p = 0.
  virtual void input_row(const SongData& song, int64_t p, int64_t* out) const;
  // Prediction p's target row: by default the values of position p, zeros past the last position
  // (the end-of-song symbol of a source that predicts_end).
  virtual void target_row(const SongData& song, int64_t p, int64_t* out) const;
  // Whether prediction p adds one to the count its loss is divided by (by default every one; a
  // note sequence counts one per frame: at each end-of-frame symbol).
  virtual bool counted(const SongData& song, int64_t p) const { return true; }

 protected:
  // The split's index after checking that `song` is in it (std::out_of_range otherwise).
  const SplitIndex& checked_song(const std::string& split, int64_t song) const;
  explicit SongSource(std::string path) : path_(std::move(path)) {}
  // A source over another one (a view with a layout or an augmentation of its own) indexes the
  // same songs: it takes the other's path and splits.
  void share_splits(const SongSource& inner) { splits_ = inner.splits_; }
  std::string path_;
  std::vector<SplitIndex> splits_;  // filled by the reader that opens the file
};

}  // namespace chorus
