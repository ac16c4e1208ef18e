// Near-duplicate grouping by sampled shingles: an inverted index from shingle to songs, pairs
// counted through it, union-find over the pairs that pass the overlap test.
// Invariant: the grouping (and each group's representative) is independent of the input order.
#include "data/near_duplicates.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

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

std::vector<int64_t> group_near_duplicates(const std::vector<std::vector<uint64_t>>& fingerprints,
                                           const std::vector<std::string>& keys,
                                           const NearDuplicateOptions& options) {
  if (keys.size() != fingerprints.size()) {
    throw std::invalid_argument("group_near_duplicates: one key per fingerprint");
  }
  if (!(options.min_overlap > 0.0 && options.min_overlap <= 1.0)) {
    throw std::invalid_argument("group_near_duplicates: min_overlap must be in (0, 1]");
  }
  const size_t n = fingerprints.size();
  std::unordered_map<uint64_t, std::vector<int64_t>> postings;
  for (size_t i = 0; i < n; ++i) {
    for (uint64_t s : fingerprints[i]) postings[s].push_back(static_cast<int64_t>(i));
  }
  UnionFind groups(n);
  std::unordered_map<int64_t, int64_t> shared;
  for (size_t i = 0; i < n; ++i) {
    shared.clear();
    for (uint64_t s : fingerprints[i]) {
      const auto& songs = postings.at(s);
      if (static_cast<int64_t>(songs.size()) > options.max_songs_per_shingle) continue;
      for (int64_t j : songs) {
        if (j != static_cast<int64_t>(i)) ++shared[j];
      }
    }
    for (const auto& [j, count] : shared) {
      const double smaller = static_cast<double>(std::min(fingerprints[i].size(), fingerprints[j].size()));
      if (count >= options.min_shared && count >= options.min_overlap * smaller) {
        groups.join(static_cast<int64_t>(i), j);
      }
    }
  }
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

}  // namespace chorus
