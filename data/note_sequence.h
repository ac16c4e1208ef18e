// Piano rolls note by note (model.kind: notes): each frame becomes its sounding keys from low to
// high, then an end-of-frame symbol (a silent frame is the end symbol alone), and a model predicts
// that one sequence symbol by symbol. Symbols: 0 = end of frame (also the input before a song's
// first symbol), k + 1 = key k. The likelihood of a frame is the product over its symbols, so
// nats per frame stay exact and comparable with the per-key heads: a note source counts one
// prediction per frame (at its end symbol) while the loss sums every symbol.
//
// What the model reads before predicting symbol p (the input row, 1 + 2K values): the symbol
// before it, the keys of the previous complete frame, and the keys of the current frame so far.
// What it is scored on (the target row, 2 values): the symbol, and the lowest symbol the order
// allows there (keys rise within a frame: after key k only keys above k or the end may follow),
// so a softmax restricted to the allowed symbols gives every frame one way to be written and the
// probabilities of all 2^K frames sum to 1.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/song_source.h"

namespace chorus {

inline constexpr int32_t kEndOfFrame = 0;

// Symbols of frames given as `width`-value 0/1 rows (SongData of a frame source).
std::vector<int32_t> frames_to_symbols(const SongData& frames);
// Frames (K values each) of a symbol sequence; a last frame without its end symbol is kept.
std::vector<std::vector<int32_t>> symbols_to_frames(const std::vector<int32_t>& symbols, int64_t keys);

// Values per input row of a note sequence over `keys` keys.
inline int64_t note_input_width(int64_t keys) { return 1 + 2 * keys; }
inline constexpr int64_t kNoteTargetWidth = 2;

// The model's input row after `previous` (the last symbol; kEndOfFrame at a song's start) with the
// previous frame's keys and the current frame's keys so far (key indices, any order).
void note_input_row(int32_t previous, const int32_t* previous_frame, int64_t previous_count,
                    const int32_t* current, int64_t current_count, int64_t keys, int64_t* out);

// The running form of a note sequence, one symbol at a time (sampling): the input row and the
// lowest allowed symbol for the next prediction. Its rows equal NoteSource's for the same symbols.
class NoteEncoder {
 public:
  explicit NoteEncoder(int64_t keys) : keys_(keys) {}
  void push(int32_t symbol);
  void input_row(int64_t* out) const;
  // The lowest symbol id allowed next among the keys (1 after an end of frame).
  int32_t floor() const { return current_.empty() ? 1 : current_.back() + 2; }
  int64_t keys() const { return keys_; }

 private:
  int64_t keys_;
  int32_t previous_ = kEndOfFrame;
  std::vector<int32_t> previous_frame_, current_;  // key indices
};

// A frame source (width = keys) seen as note sequences. Song positions are symbols; a song's
// values are (symbol, position where its frame starts) pairs. The split index is the frame
// source's (songs; lengths in frames), so opening reads no songs and a rank reads only its shard.
class NoteSource : public SongSource {
 public:
  // `frames` must outlive the view.
  explicit NoteSource(const SongSource& frames);

  int64_t keys() const { return keys_; }
  const SongSource& frames() const { return frames_; }
  int64_t width() const override { return 2; }
  bool predicts_end() const override { return false; }
  bool varies_by_epoch() const override { return frames_.varies_by_epoch(); }
  void read(const std::string& split, int64_t song, SongData* out) const override;
  void read_epoch(const std::string& split, int64_t song, int64_t epoch,
                  SongData* out) const override;
  int64_t input_width() const override { return note_input_width(keys_); }
  int64_t target_width() const override { return kNoteTargetWidth; }
  void input_row(const SongData& song, int64_t p, int64_t* out) const override;
  void target_row(const SongData& song, int64_t p, int64_t* out) const override;
  bool counted(const SongData& song, int64_t p) const override {
    return song.at(p)[0] == kEndOfFrame;
  }
  // Symbols of a song: reads it (the index counts frames).
  int64_t positions(const std::string& split, int64_t song) const override;

  // The note sequence of a frame song (values as read() writes them).
  static void serialise(const SongData& frames, SongData* out);

 private:
  const SongSource& frames_;
  int64_t keys_;
};

}  // namespace chorus
