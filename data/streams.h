// Global streams of songs and their TBPTT windows (docs/design.md "Global streams", "Windows and resets").
// A batch is G streams defined over the whole corpus, independent of the rank count; a rank owns a
// contiguous block of streams and reads only the songs those streams play.
#pragma once
#include <cstdint>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "data/song_source.h"

namespace chorus {


// Which song stream g plays as its index-th song of epoch e. With shuffling, epoch e is a
// permutation of the songs drawn from (seed, e) by our own Fisher-Yates; stream g plays
// perm[g], perm[g + G], perm[g + 2G], ... Without shuffling, perm is the identity and there is
// only epoch 0 (used for validation: every song exactly once).
class SongSchedule {
 public:
  SongSchedule(int64_t num_songs, int64_t num_streams, uint64_t seed, bool shuffle);
  int64_t num_songs() const { return num_songs_; }
  int64_t num_streams() const { return num_streams_; }
  bool shuffle() const { return shuffle_; }
  // Songs stream g plays in one epoch: ceil((N - g) / G), 0 when g >= N.
  int64_t songs_per_epoch(int64_t stream) const;
  int64_t song(int64_t stream, int64_t epoch, int64_t index) const;

 private:
  const std::vector<int64_t>& permutation(int64_t epoch) const;
  int64_t num_songs_, num_streams_;
  uint64_t seed_;
  bool shuffle_;
  // Streams drift apart by whole epochs, so a few recent permutations are kept.
  mutable std::list<std::pair<int64_t, std::vector<int64_t>>> cache_;
};

// The resumable position of one stream.
struct StreamCursor {
  int64_t epoch = 0;     // epoch of the song being played
  int64_t index = 0;     // its index among the stream's songs of that epoch
  int64_t position = 0;  // next prediction within the song (0 = the song starts: zero state)
  bool operator==(const StreamCursor& o) const {
    return epoch == o.epoch && index == o.index && position == o.position;
  }
};

// One TBPTT window of this rank's streams, time-major: position t of stream b is row t * B + b;
// each input row holds `input_width` values and each target row `target_width` (the source's
// layout: a symbol id, one 0/1 value per key of a frame, or whatever its task's model reads).
struct Window {
  int64_t seq_len = 0;
  int64_t streams = 0;
  int64_t input_width = 1;       // values per input row (SongSource::input_width)
  int64_t target_width = 1;      // values per target row (SongSource::target_width)
  std::vector<int64_t> inputs;   // [T * B * input_width]; all padding is zeros
  std::vector<int64_t> targets;  // [T * B * target_width]
  std::vector<float> mask;       // [T * B] 1 where the target's loss is summed, 0 at padding
  std::vector<uint8_t> counted;  // [T * B] 1 where the prediction adds to `count`
                                 // (SongSource::counted; never where mask is 0)
  std::vector<uint8_t> reset;    // [B] 1 where this window starts a song: state must be zeroed
  std::vector<int64_t> artist;   // [B] artist id of the song each stream plays (0 when
                                 // exhausted), for per-artist reports; models read any
                                 // conditioning from their input rows
  std::vector<int64_t> stream_ids;  // [B] global stream ids (for dropout masks)
  int64_t count = 0;             // counted predictions: the loss is divided by their global sum
};

// Cuts this rank's streams into windows, each prediction laid out by the source (input_row,
// target_row; by default position p is predicted from position p - 1, from zeros at p = 0: the
// end-of-song symbol, or a silent frame). A lyrics song of n symbols also predicts its end (n + 1
// targets, the last one the end-of-song symbol: SongSource::predicts_end), a piano-roll song of n
// frames has n targets. Each song starts at a window boundary; its last window is padded and
// masked. Songs are read with SongSource::read_epoch, so a source that augments (transposes)
// gives each epoch its own version of a song.
class StreamBatcher {
 public:
  StreamBatcher(const SongSource& corpus, std::string split, SongSchedule schedule,
                int64_t first_stream, int64_t num_streams, int64_t seq_len);
  Window next();
  // train.bptt: full. Each window is as long as the longest rest of a song among this rank's
  // lanes, so every lane plays one whole song per window (shorter ones padded and masked) and
  // starts from a zero state. With max_song_length > 0 a window is at most that long: a longer
  // song goes on in the next window with its state carried (TBPTT for that song only).
  void set_whole_songs(int64_t max_song_length);
  // True when no stream has anything left (only without shuffling: the single epoch is over).
  bool exhausted() const;
  const std::vector<StreamCursor>& cursors() const { return cursors_; }
  void set_cursors(std::vector<StreamCursor> cursors);
  int64_t first_stream() const { return first_stream_; }
  int64_t num_streams() const { return static_cast<int64_t>(cursors_.size()); }

 private:
  bool lane_done(int64_t b) const;
  int64_t window_length();  // seq_len, or (whole songs) the longest rest among the lanes
  void load(int64_t b);  // reads the song of lane b's cursor (if not loaded)
  int64_t predictions(int64_t b) const;  // targets of lane b's loaded song
  const SongSource& corpus_;
  std::string split_;
  SongSchedule schedule_;
  int64_t first_stream_, seq_len_;
  bool whole_songs_ = false;
  int64_t max_song_length_ = 0;
  std::vector<StreamCursor> cursors_;
  std::vector<int64_t> loaded_song_;             // song id loaded per lane, -1 none
  std::vector<int64_t> loaded_epoch_;            // and its epoch (a source that varies by epoch)
  std::vector<SongData> songs_;                  // that song's values
};

// mt19937_64-based helpers whose results do not depend on the standard library.
uint64_t mix64(uint64_t x);  // splitmix64 finaliser
// Uniform integer in [0, n) by rejection from raw 64-bit draws of `next`.
template <class Engine>
uint64_t uniform_below(Engine& engine, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = engine(); while (x >= limit);
  return x % n;
}
// Uniform double in [0, 1) from the top 53 bits of one draw.
template <class Engine>
double uniform_01(Engine& engine) {
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

}  // namespace chorus
