// Split lookup shared by the corpus readers (a missing split is an InputError listing the ones the
// file has), and the default layout of a song as predictions.
#include "data/song_source.h"

#include <algorithm>
#include <stdexcept>

#include "data/errors.h"

namespace chorus {

bool SongSource::has_split(const std::string& split) const {
  for (const auto& s : splits_) {
    if (s.name == split) return true;
  }
  return false;
}

const SplitIndex& SongSource::split(const std::string& split) const {
  for (const auto& s : splits_) {
    if (s.name == split) return s;
  }
  std::string have;
  for (const auto& s : splits_) have += (have.empty() ? "" : ", ") + s.name;
  throw InputError(path_ + ": no split \"" + split + "\" (the file has: " + have + ")");
}

const SplitIndex& SongSource::checked_song(const std::string& split_name, int64_t song) const {
  const SplitIndex& idx = split(split_name);
  if (song < 0 || song >= idx.songs()) {
    throw std::out_of_range(path_ + ": song " + std::to_string(song) + " of split " + split_name +
                            " out of range (" + std::to_string(idx.songs()) + " songs)");
  }
  return idx;
}

void SongSource::input_row(const SongData& song, int64_t p, int64_t* out) const {
  const int64_t W = song.width;
  if (p > 0 && p <= song.length()) std::copy(song.at(p - 1), song.at(p), out);
  else std::fill(out, out + W, 0);
}

void SongSource::target_row(const SongData& song, int64_t p, int64_t* out) const {
  const int64_t W = song.width;
  if (p < song.length()) std::copy(song.at(p), song.at(p + 1), out);
  else std::fill(out, out + W, 0);
}

void SplitIndex::check_offsets(int64_t rows, const std::string& where,
                               const std::string& rows_name) const {
  if (offsets.front() != 0) throw InputError(where + "offsets[0] is not 0");
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] < offsets[i - 1])
      throw InputError(where + "offsets decrease at " + std::to_string(i));
    if (offsets[i] - offsets[i - 1] > kMaxSongLength)
      throw InputError(where + "song " + std::to_string(i - 1) + " holds " +
                       std::to_string(offsets[i] - offsets[i - 1]) + " " + rows_name +
                       ", over the limit of " + std::to_string(kMaxSongLength));
  }
  if (offsets.back() != rows) {
    throw InputError(where + "offsets end at " + std::to_string(offsets.back()) + " but " +
                     rows_name + " holds " + std::to_string(rows));
  }
}

}  // namespace chorus
