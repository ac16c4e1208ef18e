// Tests of near-duplicate grouping (data/near_duplicates.h) and its use by `prepare lyrics`:
// copies under other titles land in one split; unrelated songs and common phrases do not group.
#include "data/near_duplicates.h"

#include <gtest/gtest.h>

#include <algorithm>
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
