// Near-duplicate songs (the same lyrics under two titles, a live or remastered copy, a medley
// part) found from sampled character shingles, so that `prepare lyrics` can keep each group of
// copies in one split: otherwise the valid split partly measures how well a model remembers
// training songs (an order-20 n-gram then copies them nearly for free).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chorus {

struct NearDuplicateOptions {
  // A pair is near-duplicate when the shingles they share are at least this fraction of the
  // smaller song's shingles (the overlap coefficient). Default 0.3; must be in (0, 1].
  double min_overlap = 0.3;
  // ... and at least this many (short songs have few shingles; default 4).
  int64_t min_shared = 4;
  // Shingles found in more songs than this are common phrases ("la la la ..."), not evidence of
  // copying, and are ignored (also bounds the work per song). Default 50.
  int64_t max_songs_per_shingle = 50;
};

// The sampled shingles of a song, sorted and unique. The text is folded first (ASCII letters
// lower-cased; each run of characters that are neither letters nor digits becomes one space), then
// every window of kShingleLength code points is hashed and about one in eight kept, chosen by the
// hash itself, so that the same passage yields the same samples in every song that contains it.
constexpr int kShingleLength = 32;
std::vector<uint64_t> song_fingerprint(const std::u32string& text);

// The grouping for songs that arrive one at a time, in memory bounded by `records_in_memory`
// (shingles and candidate pairs beyond it go to sorted runs in a scratch file, merged when
// grouping), plus 4 bytes per song. `prepare lyrics` streams a whole songdata CSV through it.
class NearDuplicateIndex {
 public:
  explicit NearDuplicateIndex(const NearDuplicateOptions& options = {},
                              size_t records_in_memory = size_t{1} << 20);
  ~NearDuplicateIndex();
  // Adds song number songs() with its fingerprint (song_fingerprint's: sorted and unique).
  void add(const std::vector<uint64_t>& fingerprint);
  int64_t songs() const { return static_cast<int64_t>(sizes_.size()); }
  // group_near_duplicates over the songs with include[i] true; the others share nothing and are
  // their own representatives. keys[i] identifies song i. Call once, after the last add().
  std::vector<int64_t> group(const std::vector<bool>& include, const std::vector<std::string>& keys);

 private:
  struct Shingles;
  NearDuplicateOptions options_;
  size_t records_in_memory_;
  std::vector<uint32_t> sizes_;  // shingles per song
  std::unique_ptr<Shingles> shingles_;
};

// Groups songs by near-duplication (transitively: A~B and B~C put A, B and C together).
// Returns, for each song, the index of its group's representative: the member with the smallest
// `keys` value (keys[i] identifies song i; the result does not depend on the songs' order).
// A song with no near-duplicate is its own representative.
std::vector<int64_t> group_near_duplicates(const std::vector<std::vector<uint64_t>>& fingerprints,
                                           const std::vector<std::string>& keys,
                                           const NearDuplicateOptions& options = {});

}  // namespace chorus
