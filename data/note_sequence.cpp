// Note sequences of piano rolls. Invariants: a frame's symbols rise from low to high and end with
// kEndOfFrame; NoteSource's input rows and NoteEncoder's are the same function of the symbols
// before a prediction (note_input_row), so sampling feeds a model exactly what training did.
#include "data/note_sequence.h"

#include <algorithm>
#include <stdexcept>

namespace chorus {

std::vector<int32_t> frames_to_symbols(const SongData& frames) {
  std::vector<int32_t> symbols;
  const int64_t K = frames.width;
  for (int64_t t = 0; t < frames.length(); ++t) {
    const int32_t* f = frames.at(t);
    for (int64_t k = 0; k < K; ++k)
      if (f[k] != 0) symbols.push_back(static_cast<int32_t>(k + 1));
    symbols.push_back(kEndOfFrame);
  }
  return symbols;
}

std::vector<std::vector<int32_t>> symbols_to_frames(const std::vector<int32_t>& symbols,
                                                    int64_t keys) {
  std::vector<std::vector<int32_t>> frames;
  std::vector<int32_t> frame(keys, 0);
  bool open = false;
  for (int32_t s : symbols) {
    if (s == kEndOfFrame) {
      frames.push_back(frame);
      std::fill(frame.begin(), frame.end(), 0);
      open = false;
    } else {
      if (s < 1 || s > keys) throw std::out_of_range("note symbol out of range");
      frame[s - 1] = 1;
      open = true;
    }
  }
  if (open) frames.push_back(frame);
  return frames;
}

void note_input_row(int32_t previous, const int32_t* previous_frame, int64_t previous_count,
                    const int32_t* current, int64_t current_count, int64_t keys, int64_t* out) {
  std::fill(out, out + note_input_width(keys), 0);
  out[0] = previous;
  for (int64_t i = 0; i < previous_count; ++i) out[1 + previous_frame[i]] = 1;
  for (int64_t i = 0; i < current_count; ++i) out[1 + keys + current[i]] = 1;
}

void NoteEncoder::push(int32_t symbol) {
  if (symbol == kEndOfFrame) {
    previous_frame_ = current_;
    current_.clear();
  } else {
    if (symbol < floor() || symbol > keys_)
      throw std::invalid_argument("NoteEncoder: symbol " + std::to_string(symbol) +
                                  " breaks the rising order of a frame's keys");
    current_.push_back(symbol - 1);
  }
  previous_ = symbol;
}

void NoteEncoder::input_row(int64_t* out) const {
  note_input_row(previous_, previous_frame_.data(), static_cast<int64_t>(previous_frame_.size()),
                 current_.data(), static_cast<int64_t>(current_.size()), keys_, out);
}

NoteSource::NoteSource(const SongSource& frames)
    : SongSource(frames.path()), frames_(frames), keys_(frames.width()) {
  if (frames.predicts_end()) throw std::invalid_argument("NoteSource: not a frame source");
  share_splits(frames);
}

void NoteSource::serialise(const SongData& frames, SongData* out) {
  const std::vector<int32_t> symbols = frames_to_symbols(frames);
  out->width = 2;
  out->artist = frames.artist;
  out->values.resize(2 * symbols.size());
  int32_t start = 0;
  for (size_t p = 0; p < symbols.size(); ++p) {
    out->values[2 * p] = symbols[p];
    out->values[2 * p + 1] = start;
    if (symbols[p] == kEndOfFrame) start = static_cast<int32_t>(p + 1);
  }
}

void NoteSource::read(const std::string& split, int64_t song, SongData* out) const {
  SongData frames;
  frames_.read(split, song, &frames);
  serialise(frames, out);
}

void NoteSource::read_epoch(const std::string& split, int64_t song, int64_t epoch,
                            SongData* out) const {
  SongData frames;
  frames_.read_epoch(split, song, epoch, &frames);
  serialise(frames, out);
}

int64_t NoteSource::positions(const std::string& split, int64_t song) const {
  SongData s;
  read(split, song, &s);
  return s.length();
}

void NoteSource::input_row(const SongData& song, int64_t p, int64_t* out) const {
  // Symbols before p: the current frame runs from its start to p - 1; the previous frame is the
  // one whose end symbol sits just before that start.
  int32_t keys_before[2][64];
  std::vector<int32_t> spill[2];
  auto gather = [&](int which, int64_t from, int64_t to) -> std::pair<const int32_t*, int64_t> {
    const int64_t n = std::max<int64_t>(0, to - from);
    int32_t* dst = keys_before[which];
    if (n > 64) spill[which].resize(n), dst = spill[which].data();
    for (int64_t i = 0; i < n; ++i) dst[i] = song.at(from + i)[0] - 1;
    return {dst, n};
  };
  if (p == 0) return note_input_row(kEndOfFrame, nullptr, 0, nullptr, 0, keys_, out);
  const int64_t start = song.at(p - 1)[0] == kEndOfFrame ? p : song.at(p - 1)[1];
  const auto current = gather(1, start, p);
  std::pair<const int32_t*, int64_t> previous{nullptr, 0};
  if (start > 0) previous = gather(0, song.at(start - 1)[1], start - 1);
  note_input_row(song.at(p - 1)[0], previous.first, previous.second, current.first,
                 current.second, keys_, out);
}

void NoteSource::target_row(const SongData& song, int64_t p, int64_t* out) const {
  if (p >= song.length()) {
    out[0] = out[1] = 0;
    return;
  }
  out[0] = song.at(p)[0];
  const bool first_of_frame = p == 0 || song.at(p - 1)[0] == kEndOfFrame;
  out[1] = first_of_frame ? 1 : song.at(p - 1)[0] + 1;
}

}  // namespace chorus
