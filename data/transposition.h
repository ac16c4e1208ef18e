// Transposition as data augmentation (train.transpose): a view of a frame source (piano rolls,
// width = keys) in which every song of every epoch is moved by a number of semitones drawn from
// (seed, epoch, song) — a counter, not a generator, so any rank, a resume and a recomputation see
// the same transposition — within what keeps its lowest and highest sounding keys in range.
#pragma once
#include <cstdint>
#include <string>

#include "data/song_source.h"

namespace chorus {

class TransposedFrames : public SongSource {
 public:
  // `frames` must outlive the view; max_semitones > 0.
  TransposedFrames(const SongSource& frames, int64_t max_semitones, uint64_t seed);

  // The transposition of `song` in `epoch` for a song sounding keys [low, high] of `keys`
  // (0 for a silent song, low > high, or max_semitones <= 0).
  static int64_t transposition(uint64_t seed, int64_t epoch, int64_t song, int64_t max_semitones,
                               int64_t low, int64_t high, int64_t keys);

  int64_t width() const override { return frames_.width(); }
  bool predicts_end() const override { return frames_.predicts_end(); }
  bool varies_by_epoch() const override { return true; }
  // The song itself (epoch-free reads, e.g. evaluation, see it untransposed).
  void read(const std::string& split, int64_t song, SongData* out) const override {
    frames_.read(split, song, out);
  }
  void read_epoch(const std::string& split, int64_t song, int64_t epoch,
                  SongData* out) const override;

 private:
  const SongSource& frames_;
  int64_t max_semitones_;
  uint64_t seed_;
};

}  // namespace chorus
