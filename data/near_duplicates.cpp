// Near-duplicate grouping by sampled shingles: (shingle, song) records sorted (spilled to disk
// beyond a bound), pairs of songs under each rare shingle counted the same way, union-find over
// the pairs that pass the overlap test.
// Invariant: the grouping (and each group's representative) is independent of the input order
// and of the memory bound.
#include "data/near_duplicates.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "data/spill_sort.h"

namespace chorus {
namespace {

// splitmix64's finaliser: spreads an FNV-style hash so its low bits can select the samples.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::u32string fold(const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size());
  bool gap = false;
  for (char32_t c : text) {
    if (c >= U'A' && c <= U'Z') c = c - U'A' + U'a';
    const bool word = (c >= U'a' && c <= U'z') || (c >= U'0' && c <= U'9') || c > 0x7f;
    if (word) {
      if (gap && !out.empty()) out.push_back(U' ');
      out.push_back(c);
      gap = false;
    } else {
      gap = true;
    }
  }
  return out;
}

struct UnionFind {
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int64_t find(int64_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  }
  void join(int64_t a, int64_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  std::vector<int64_t> parent;
};

}  // namespace

std::vector<uint64_t> song_fingerprint(const std::u32string& text) {
  const std::u32string folded = fold(text);
  std::vector<uint64_t> out;
  if (folded.size() < static_cast<size_t>(kShingleLength)) return out;
  for (size_t i = 0; i + kShingleLength <= folded.size(); ++i) {
    uint64_t h = 14695981039346656037ull;
    for (size_t k = i; k < i + kShingleLength; ++k) {
      h ^= static_cast<uint64_t>(folded[k]);
      h *= 1099511628211ull;
    }
    h = mix(h);
    if ((h & 7) == 0) out.push_back(h);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {
// A shingle of a song, and a pair of songs with the number of (group-size-limited) shingles they
// share: the records the index sorts.
struct ShingleRecord {
  uint64_t hash;
  uint32_t song;
};
struct PairRecord {
  uint32_t a, b, shared;  // a < b
};
}  // namespace

struct NearDuplicateIndex::Shingles {
  explicit Shingles(size_t capacity)
      : sorter(capacity, [](const ShingleRecord& x, const ShingleRecord& y) {
          return x.hash != y.hash ? x.hash < y.hash : x.song < y.song;
        }) {}
  SpillSorter<ShingleRecord> sorter;
};

NearDuplicateIndex::NearDuplicateIndex(const NearDuplicateOptions& options, size_t records_in_memory)
    : options_(options), records_in_memory_(records_in_memory),
      shingles_(std::make_unique<Shingles>(records_in_memory)) {
  if (!(options.min_overlap > 0.0 && options.min_overlap <= 1.0)) {
    throw std::invalid_argument("near-duplicate grouping: min_overlap must be in (0, 1]");
  }
}

NearDuplicateIndex::~NearDuplicateIndex() = default;

void NearDuplicateIndex::add(const std::vector<uint64_t>& fingerprint) {
  if (sizes_.size() >= std::numeric_limits<uint32_t>::max()) throw std::length_error("near-duplicate index: too many songs");
  const uint32_t song = static_cast<uint32_t>(sizes_.size());
  sizes_.push_back(static_cast<uint32_t>(fingerprint.size()));
  for (uint64_t h : fingerprint) shingles_->sorter.add({h, song});
}

std::vector<int64_t> NearDuplicateIndex::group(const std::vector<bool>& include,
                                               const std::vector<std::string>& keys) {
  const size_t n = sizes_.size();
  if (keys.size() != n || include.size() != n) {
    throw std::invalid_argument("near-duplicate grouping: one key and one flag per song");
  }
  // Candidate pairs: every two included songs under one shingle held by at most
  // max_songs_per_shingle included songs (more is a common phrase, not evidence of copying).
  auto pair_less = [](const PairRecord& x, const PairRecord& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; };
  auto merge_equal = [](std::vector<PairRecord>& run) {
    size_t out = 0;
    for (size_t i = 0; i < run.size(); ++i) {
      if (out > 0 && run[out - 1].a == run[i].a && run[out - 1].b == run[i].b) {
        run[out - 1].shared += run[i].shared;
      } else {
        run[out++] = run[i];
      }
    }
    run.resize(out);
  };
  SpillSorter<PairRecord> pairs(records_in_memory_, pair_less, merge_equal);
  const size_t limit = static_cast<size_t>(std::max<int64_t>(options_.max_songs_per_shingle, 0));
  std::vector<uint32_t> members;  // of the current shingle, up to limit + 1
  size_t count = 0;
  uint64_t current = 0;
  auto close = [&] {
    if (count < 2 || count > limit) return;
    for (size_t x = 0; x < members.size(); ++x)
      for (size_t y = x + 1; y < members.size(); ++y) pairs.add({members[x], members[y], 1});
  };
  shingles_->sorter.for_each([&](const ShingleRecord& r) {
    if (!include[r.song]) return;
    if (count == 0 || r.hash != current) {
      close();
      members.clear();
      count = 0;
      current = r.hash;
    }
    ++count;
    if (members.size() <= limit) members.push_back(r.song);
  });
  close();
  shingles_.reset();  // its scratch file and buffers are no longer needed

  UnionFind groups(n);
  PairRecord run{0, 0, 0};
  auto decide = [&] {
    if (run.shared == 0) return;
    const double smaller = static_cast<double>(std::min(sizes_[run.a], sizes_[run.b]));
    if (run.shared >= options_.min_shared && run.shared >= options_.min_overlap * smaller) {
      groups.join(run.a, run.b);
    }
  };
  pairs.for_each([&](const PairRecord& p) {  // sorted; a pair may come once per spilled run
    if (p.a == run.a && p.b == run.b && run.shared > 0) {
      run.shared += p.shared;
      return;
    }
    decide();
    run = p;
  });
  decide();
  // Representative: the member with the smallest key (ties: the smallest index).
  std::vector<int64_t> best(n, -1);
  for (size_t i = 0; i < n; ++i) {
    int64_t& b = best[groups.find(static_cast<int64_t>(i))];
    if (b < 0 || keys[i] < keys[b]) b = static_cast<int64_t>(i);
  }
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = best[groups.find(static_cast<int64_t>(i))];
  return out;
}

std::vector<int64_t> group_near_duplicates(const std::vector<std::vector<uint64_t>>& fingerprints,
                                           const std::vector<std::string>& keys,
                                           const NearDuplicateOptions& options) {
  if (keys.size() != fingerprints.size()) {
    throw std::invalid_argument("group_near_duplicates: one key per fingerprint");
  }
  NearDuplicateIndex index(options);
  for (const auto& f : fingerprints) index.add(f);
  return index.group(std::vector<bool>(fingerprints.size(), true), keys);
}

}  // namespace chorus
