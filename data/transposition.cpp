// Transposed songs. Invariant: the shift of a song depends only on (seed, epoch, song) and the
// song's key range, and never moves a sounding key out of range.
#include "data/transposition.h"

#include <algorithm>
#include <stdexcept>

#include "data/streams.h"  // mix64

namespace chorus {

TransposedFrames::TransposedFrames(const SongSource& frames, int64_t max_semitones, uint64_t seed)
    : SongSource(frames.path()), frames_(frames), max_semitones_(max_semitones), seed_(seed) {
  if (max_semitones <= 0) throw std::invalid_argument("TransposedFrames: max_semitones must be > 0");
  share_splits(frames);
}

int64_t TransposedFrames::transposition(uint64_t seed, int64_t epoch, int64_t song,
                                        int64_t max_semitones, int64_t low, int64_t high,
                                        int64_t keys) {
  if (max_semitones <= 0 || low > high) return 0;  // off, or a silent song
  const int64_t down = std::min(max_semitones, low), up = std::min(max_semitones, keys - 1 - high);
  const uint64_t draw = mix64(seed ^ mix64(static_cast<uint64_t>(epoch) * 0x9e3779b97f4a7c15ULL ^
                                           mix64(static_cast<uint64_t>(song) + 0x7f4a7c15ULL)));
  return -down + static_cast<int64_t>(draw % static_cast<uint64_t>(up + down + 1));
}

void TransposedFrames::read_epoch(const std::string& split, int64_t song, int64_t epoch,
                                  SongData* out) const {
  frames_.read(split, song, out);
  SongData& s = *out;
  const int64_t K = s.width, n = s.length();
  int64_t low = K, high = -1;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t k = 0; k < K; ++k)
      if (s.at(t)[k]) low = std::min(low, k), high = std::max(high, k);
  const int64_t shift = transposition(seed_, epoch, song, max_semitones_, low, high, K);
  if (shift == 0) return;
  std::vector<int32_t> moved(s.values.size(), 0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t k = std::max<int64_t>(0, -shift); k < std::min(K, K - shift); ++k)
      moved[t * K + k + shift] = s.values[t * K + k];
  s.values = std::move(moved);
}

}  // namespace chorus
