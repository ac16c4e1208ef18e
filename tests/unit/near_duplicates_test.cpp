// Tests of near-duplicate grouping (data/near_duplicates.h) and its use by `prepare lyrics`:
// copies under other titles land in one split; unrelated songs and common phrases do not group.
#include "data/near_duplicates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>

#include "data/corpus.h"
#include "data/errors.h"
#include "data/hash.h"
#include "data/prepare.h"
#include "data/text.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

// Deterministic pseudo-lyrics: `words` words drawn from a small vocabulary.
std::string lyrics(uint32_t seed, int words) {
  static const char* const kWords[] = {"love", "night", "road", "heart", "fire", "rain", "home",
                                       "dance", "blue", "river", "light", "time", "dream", "away"};
  std::mt19937 rng(seed);
  std::string s;
  for (int i = 0; i < words; ++i) {
    s += kWords[rng() % 14];
    s += (i % 6 == 5) ? "\n" : " ";
  }
  return s;
}

std::u32string u32(const std::string& s) { return std::u32string(s.begin(), s.end()); }

TEST(NearDuplicatesTest, FingerprintIgnoresCaseAndPunctuationAndSamplesAboutOneInEight) {
  const std::string text = lyrics(1, 400);
  std::string shouted = text;
  std::transform(shouted.begin(), shouted.end(), shouted.begin(), ::toupper);
  for (char& c : shouted) c = (c == ' ') ? ',' : c;
  const auto a = song_fingerprint(u32(text)), b = song_fingerprint(u32(shouted));
  EXPECT_EQ(a, b);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  const double windows = static_cast<double>(text.size() - kShingleLength + 1);
  EXPECT_GT(a.size(), windows / 16);
  EXPECT_LT(a.size(), windows / 4);
  EXPECT_TRUE(song_fingerprint(u32("too short to have a shingle")).empty());
}

TEST(NearDuplicatesTest, GroupsCopiesTransitivelyAndNotStrangers) {
  const std::string a = lyrics(1, 300), b = lyrics(2, 300), c = lyrics(3, 300);
  // 0: a; 1: a with a new verse; 2: b; 3: the last three quarters of a, as a medley part,
  // followed by c; 4: c alone; 5: unrelated.
  const std::vector<std::string> texts = {a, a + lyrics(9, 60), b, a.substr(a.size() / 4) + c, c,
                                          lyrics(4, 300)};
  std::vector<std::vector<uint64_t>> prints;
  for (const auto& t : texts) prints.push_back(song_fingerprint(u32(t)));
  const std::vector<std::string> keys = {"k3", "k1", "k2", "k0", "k4", "k5"};
  const auto rep = group_near_duplicates(prints, keys);
  // 0~1 (a copy), 3~4 (c is all of 4), 0~3 (overlap ~0.75 of a): one group of four, whose
  // smallest key is "k0" (song 3). Needing 0.9 separates 0~3: two groups.
  EXPECT_EQ(rep, (std::vector<int64_t>{3, 3, 2, 3, 3, 5}));
  NearDuplicateOptions strict;
  strict.min_overlap = 0.9;
  EXPECT_EQ(group_near_duplicates(prints, keys, strict), (std::vector<int64_t>{1, 1, 2, 3, 3, 5}));
  // Order does not matter: reversed input, the same groups and representatives.
  std::vector<std::vector<uint64_t>> rprints(prints.rbegin(), prints.rend());
  std::vector<std::string> rkeys(keys.rbegin(), keys.rend());
  const auto rrep = group_near_duplicates(rprints, rkeys);
  for (size_t i = 0; i < rep.size(); ++i) EXPECT_EQ(keys[rep[i]], rkeys[rrep[rep.size() - 1 - i]]);
  EXPECT_THROW(group_near_duplicates(prints, {"x"}), std::invalid_argument);
}

TEST(NearDuplicatesTest, CommonPhrasesAloneDoNotGroup) {
  // 60 different songs that all share one refrain: each refrain shingle is in 60 songs (> 50).
  const std::string refrain = "na na na na hey hey hey goodbye na na na na hey hey hey goodbye\n";
  std::vector<std::vector<uint64_t>> prints;
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) {
    prints.push_back(song_fingerprint(u32(lyrics(100 + i, 40) + refrain + lyrics(200 + i, 40))));
    keys.push_back("s" + std::to_string(i));
  }
  const auto rep = group_near_duplicates(prints, keys);
  for (size_t i = 0; i < rep.size(); ++i) EXPECT_EQ(rep[i], static_cast<int64_t>(i)) << i;
}

// The grouping as first written: an in-memory inverted index, pairs counted per song. The index
// must give exactly this, whether its records stay in memory or spill to disk.
std::vector<int64_t> reference_groups(const std::vector<std::vector<uint64_t>>& prints,
                                      const std::vector<std::string>& keys, const std::vector<bool>& include,
                                      const NearDuplicateOptions& o) {
  const size_t n = prints.size();
  std::map<uint64_t, std::vector<size_t>> postings;
  for (size_t i = 0; i < n; ++i)
    if (include[i])
      for (uint64_t s : prints[i]) postings[s].push_back(i);
  std::vector<size_t> parent(n);
  for (size_t i = 0; i < n; ++i) parent[i] = i;
  std::function<size_t(size_t)> find = [&](size_t i) { return parent[i] == i ? i : parent[i] = find(parent[i]); };
  for (size_t i = 0; i < n; ++i) {
    if (!include[i]) continue;
    std::map<size_t, int64_t> shared;
    for (uint64_t s : prints[i]) {
      const auto& songs = postings.at(s);
      if (static_cast<int64_t>(songs.size()) > o.max_songs_per_shingle) continue;
      for (size_t j : songs)
        if (j != i) ++shared[j];
    }
    for (const auto& [j, count] : shared) {
      const double smaller = static_cast<double>(std::min(prints[i].size(), prints[j].size()));
      if (count >= o.min_shared && count >= o.min_overlap * smaller) {
        const size_t a = find(i), b = find(j);
        parent[std::max(a, b)] = std::min(a, b);
      }
    }
  }
  std::vector<int64_t> best(n, -1), out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t& b = best[find(i)];
    if (b < 0 || keys[i] < keys[static_cast<size_t>(b)]) b = static_cast<int64_t>(i);
  }
  for (size_t i = 0; i < n; ++i) out[i] = best[find(i)];
  return out;
}

TEST(NearDuplicatesTest, SpilledIndexGroupsExactlyAsTheInMemoryReference) {
  // 300 songs: copies, medleys of two, shared refrains (some over the 50-song limit), strangers.
  std::mt19937 rng(11);
  std::vector<std::string> texts;
  for (int i = 0; i < 300; ++i) {
    const int kind = static_cast<int>(rng() % 5);
    if (kind == 0 && !texts.empty()) {
      texts.push_back(texts[rng() % texts.size()] + lyrics(rng(), 20));
    } else if (kind == 1 && texts.size() > 1) {
      const std::string& a = texts[rng() % texts.size()];
      texts.push_back(a.substr(a.size() / 3) + texts[rng() % texts.size()]);
    } else if (kind == 2) {
      texts.push_back(lyrics(rng(), 60) + "na na na hey hey goodbye na na na hey hey goodbye\n" + lyrics(rng(), 30));
    } else {
      texts.push_back(lyrics(rng(), 40 + static_cast<int>(rng() % 200)));
    }
  }
  std::vector<std::vector<uint64_t>> prints;
  std::vector<std::string> keys;
  std::vector<bool> include;
  for (size_t i = 0; i < texts.size(); ++i) {
    prints.push_back(song_fingerprint(u32(texts[i])));
    keys.push_back("k" + std::to_string((i * 7919) % 1000));
    include.push_back(i % 13 != 5);
  }
  for (double overlap : {0.3, 0.8}) {
    NearDuplicateOptions o;
    o.min_overlap = overlap;
    const std::vector<int64_t> want = reference_groups(prints, keys, include, o);
    int64_t grouped = 0;
    for (size_t i = 0; i < want.size(); ++i) grouped += want[i] != static_cast<int64_t>(i);
    EXPECT_GT(grouped, 20) << "the fixture should group some songs";
    for (size_t in_memory : {size_t{1} << 20, size_t{7}, size_t{2}}) {  // all in memory; many runs
      NearDuplicateIndex index(o, in_memory);
      for (const auto& p : prints) index.add(p);
      EXPECT_EQ(index.group(include, keys), want) << "overlap " << overlap << ", " << in_memory << " records in memory";
    }
  }
}

class PrepareNearDuplicatesTest : public testing::TempDirTest {};

TEST_F(PrepareNearDuplicatesTest, CopiesUnderOtherTitlesShareOneSplit) {
  // Find a title in "train" and one in "valid" (by their own hashes), and give both one text.
  auto title_in = [](const std::string& split) {
    for (int i = 0;; ++i) {
      const std::string t = "Take " + std::to_string(i);
      if (split_of("Band", t, 0.3, 0.0) == split) return t;
    }
  };
  const std::string train_title = title_in("train"), valid_title = title_in("valid");
  const std::string text = lyrics(7, 200);
  std::string csv = "artist,song,link,text\n";
  csv += "Band," + train_title + ",/a,\"" + text + "\"\n";
  csv += "Band," + valid_title + ",/b,\"" + text + "(live)\"\n";
  csv += "Band,Other,/c,\"" + lyrics(8, 200) + "\"\n";
  PrepareLyricsOptions o;
  o.input = write("in.csv", csv);
  o.output = dir_ + "/grouped.h5";
  o.valid_fraction = 0.3;
  o.test_fraction = 0.0;
  std::ostringstream log;
  const auto summary = prepare_lyrics(o, log);
  EXPECT_EQ(summary["near_duplicates"]["songs"], 2);
  EXPECT_EQ(summary["near_duplicates"]["groups"], 1);
  EXPECT_EQ(summary["near_duplicates"]["moved"], 1);
  EXPECT_NE(log.str().find("near-duplicates: 2 songs in 1 groups"), std::string::npos) << log.str();
  // Both copies go where the smaller key ("Band\x1fTake i") sends them.
  const std::string expected = split_of("Band", std::min(train_title, valid_title), 0.3, 0.0);
  const std::string other = expected == "train" ? "valid" : "train";
  CorpusReader grouped(o.output);
  int copies = 0;
  for (int64_t i = 0; i < grouped.split(expected).songs(); ++i) {
    const std::string t = grouped.title(expected, i);
    copies += (t == train_title || t == valid_title);
  }
  EXPECT_EQ(copies, 2);
  for (int64_t i = 0; i < grouped.split(other).songs(); ++i) {
    EXPECT_NE(grouped.title(other, i), train_title);
    EXPECT_NE(grouped.title(other, i), valid_title);
  }

  // Grouping off: each copy follows its own hash.
  o.near_duplicate_overlap = 0.0;
  o.output = dir_ + "/apart.h5";
  const auto apart = prepare_lyrics(o, log);
  EXPECT_EQ(apart["near_duplicates"]["songs"], 0);
  CorpusReader r(o.output);
  std::vector<std::string> valid_titles;
  for (int64_t i = 0; i < r.split("valid").songs(); ++i) valid_titles.push_back(r.title("valid", i));
  EXPECT_NE(std::find(valid_titles.begin(), valid_titles.end(), valid_title), valid_titles.end());
  EXPECT_EQ(std::find(valid_titles.begin(), valid_titles.end(), train_title), valid_titles.end());

  o.near_duplicate_overlap = 1.5;
  EXPECT_THROW(prepare_lyrics(o, log), InputError);
}

}  // namespace
}  // namespace chorus
