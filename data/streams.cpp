// Global song streams and TBPTT windows. Invariant: the windows a stream produces depend only on
// (seed, song count, stream count, stream id, cursor), never on how streams are spread over ranks.
#include "data/streams.h"

#include <algorithm>
#include <random>
#include <stdexcept>


namespace chorus {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

SongSchedule::SongSchedule(int64_t num_songs, int64_t num_streams, uint64_t seed, bool shuffle)
    : num_songs_(num_songs), num_streams_(num_streams), seed_(seed), shuffle_(shuffle) {
  if (num_streams <= 0) throw std::invalid_argument("SongSchedule: num_streams must be > 0");
}

int64_t SongSchedule::songs_per_epoch(int64_t stream) const {
  if (stream >= num_songs_) return 0;
  return (num_songs_ - stream + num_streams_ - 1) / num_streams_;
}

const std::vector<int64_t>& SongSchedule::permutation(int64_t epoch) const {
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->first == epoch) {
      cache_.splice(cache_.begin(), cache_, it);
      return cache_.front().second;
    }
  }
  std::vector<int64_t> perm(num_songs_);
  for (int64_t i = 0; i < num_songs_; ++i) perm[i] = i;
  // Own Fisher-Yates: std::shuffle differs between standard libraries.
  std::mt19937_64 engine(mix64(seed_ ^ mix64(static_cast<uint64_t>(epoch) + 1)));
  for (int64_t i = num_songs_ - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(engine, static_cast<uint64_t>(i) + 1));
    std::swap(perm[i], perm[j]);
  }
  cache_.emplace_front(epoch, std::move(perm));
  if (cache_.size() > 4) cache_.pop_back();
  return cache_.front().second;
}

int64_t SongSchedule::song(int64_t stream, int64_t epoch, int64_t index) const {
  const int64_t i = stream + index * num_streams_;
  if (!shuffle_) return i;
  return permutation(epoch)[i];
}

StreamBatcher::StreamBatcher(const SongSource& corpus, std::string split, SongSchedule schedule,
                             int64_t first_stream, int64_t num_streams, int64_t seq_len)
    : corpus_(corpus), split_(std::move(split)), schedule_(std::move(schedule)),
      first_stream_(first_stream), seq_len_(seq_len), cursors_(num_streams),
      loaded_song_(num_streams, -1), loaded_epoch_(num_streams, 0), songs_(num_streams) {
  if (first_stream < 0 || first_stream + num_streams > schedule_.num_streams())
    throw std::invalid_argument("StreamBatcher: streams out of range");
  if (schedule_.shuffle() && schedule_.num_songs() < schedule_.num_streams())
    throw std::invalid_argument("StreamBatcher: fewer songs than streams");
}

void StreamBatcher::set_cursors(std::vector<StreamCursor> cursors) {
  if (cursors.size() != cursors_.size())
    throw std::invalid_argument("StreamBatcher::set_cursors: wrong number of streams");
  cursors_ = std::move(cursors);
  std::fill(loaded_song_.begin(), loaded_song_.end(), -1);
}

bool StreamBatcher::lane_done(int64_t b) const {
  const StreamCursor& c = cursors_[b];
  return !schedule_.shuffle() &&
         (c.epoch > 0 || c.index >= schedule_.songs_per_epoch(first_stream_ + b));
}

bool StreamBatcher::exhausted() const {
  for (int64_t b = 0; b < num_streams(); ++b)
    if (!lane_done(b)) return false;
  return true;
}

void StreamBatcher::load(int64_t b) {
  const StreamCursor& c = cursors_[b];
  const int64_t song = schedule_.song(first_stream_ + b, c.epoch, c.index);
  // A song that differs by epoch (augmented) is another song in another epoch: the cache keys on
  // both then.
  const int64_t epoch = corpus_.varies_by_epoch() ? c.epoch : 0;
  if (loaded_song_[b] == song && loaded_epoch_[b] == epoch) return;
  corpus_.read_epoch(split_, song, c.epoch, &songs_[b]);
  loaded_song_[b] = song;
  loaded_epoch_[b] = epoch;
}

int64_t StreamBatcher::predictions(int64_t b) const {
  return corpus_.predictions(songs_[b].length());
}

void StreamBatcher::set_whole_songs(int64_t max_song_length) {
  if (max_song_length < 0) throw std::invalid_argument("StreamBatcher: negative max_song_length");
  whole_songs_ = true;
  max_song_length_ = max_song_length;
}

int64_t StreamBatcher::window_length() {
  if (!whole_songs_) return seq_len_;
  // The longest rest of a song among the lanes (a whole song, unless a capped one goes on).
  int64_t T = 1;
  for (int64_t b = 0; b < num_streams(); ++b) {
    if (lane_done(b)) continue;
    load(b);
    T = std::max(T, predictions(b) - cursors_[b].position);
  }
  return max_song_length_ > 0 ? std::min(T, max_song_length_) : T;
}

Window StreamBatcher::next() {
  const int64_t B = num_streams(), T = window_length();
  const int64_t WI = corpus_.input_width(), WT = corpus_.target_width();
  Window w;
  w.seq_len = T;
  w.streams = B;
  w.input_width = WI;
  w.target_width = WT;
  w.inputs.assign(T * B * WI, 0);
  w.targets.assign(T * B * WT, 0);
  w.mask.assign(T * B, 0.0f);
  w.counted.assign(T * B, 0);
  w.reset.assign(B, 1);
  w.artist.assign(B, 0);
  w.stream_ids.resize(B);
  const SplitIndex& index = corpus_.split(split_);
  for (int64_t b = 0; b < B; ++b) {
    w.stream_ids[b] = first_stream_ + b;
    if (lane_done(b)) continue;
    load(b);
    StreamCursor& c = cursors_[b];
    const SongData& s = songs_[b];
    const int64_t n = predictions(b);
    w.reset[b] = c.position == 0;
    w.artist[b] = index.artist[loaded_song_[b]];
    for (int64_t t = 0; t < T && c.position + t < n; ++t) {
      const int64_t p = c.position + t, row = t * B + b;
      corpus_.input_row(s, p, w.inputs.data() + row * WI);
      corpus_.target_row(s, p, w.targets.data() + row * WT);
      w.mask[row] = 1.0f;
      if (corpus_.counted(s, p)) {
        w.counted[row] = 1;
        ++w.count;
      }
    }
    c.position += T;
    if (c.position >= n) {  // the song is over: the next window starts the next one
      c.position = 0;
      if (++c.index >= schedule_.songs_per_epoch(first_stream_ + b) && schedule_.shuffle()) {
        c.index = 0;
        ++c.epoch;
      }
    }
  }
  return w;
}

}  // namespace chorus
