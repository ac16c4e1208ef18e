// Tests of `chorus prepare lyrics` (data/prepare.h) and the durable file helpers it relies on:
// split stability, filters, vocabulary reuse, summaries, and no output left on failure.
#include "data/prepare.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "data/corpus.h"
#include "data/errors.h"
#include "tests/support/fixtures.h"
#include "data/files.h"

namespace chorus {
namespace {

class PrepareTest : public testing::TempDirTest {
 protected:
  // A CSV with `per_artist` songs for each artist; song texts use only ASCII letters.
  std::string csv(const std::string& name, const std::vector<std::string>& artists, int per_artist,
                  const std::string& extra = "") {
    std::string s = "artist,song,link,text\r\n";
    for (const auto& a : artists) {
      for (int i = 0; i < per_artist; ++i) {
        s += a + ",Song " + std::to_string(i) + ",/x,\"la la " + a + "  \nline " +
             std::to_string(i) + "  \n\"\r\n";
      }
    }
    return write(name, s + extra);
  }
  PrepareLyricsOptions options(const std::string& input, const std::string& out) {
    PrepareLyricsOptions o;
    o.input = input;
    o.output = dir_ + "/" + out;
    o.valid_fraction = 0.2;
    o.test_fraction = 0.2;
    return o;
  }
  // title -> split of every song in a corpus, keyed by "artist/title".
  static std::map<std::string, std::string> splits_of(const std::string& path) {
    std::map<std::string, std::string> out;
    CorpusReader r(path);
    for (const char* s : {"train", "valid", "test"}) {
      const SplitIndex& idx = r.split(s);
      for (int64_t i = 0; i < idx.songs(); ++i) {
        out[r.artists()[idx.artist[i]] + "/" + r.title(s, i)] = s;
      }
    }
    return out;
  }
  std::ostringstream log_;
};

TEST(SplitOfTest, PinnedFnv1aHash) {
  // FNV-1a 64 of "ABBA\x1f" "Andante, Andante" is 0x130003dd6a41ab5e, i.e. u = 0.0742189803...
  EXPECT_EQ(split_of("ABBA", "Andante, Andante", 0.0743, 0.0), "valid");
  EXPECT_EQ(split_of("ABBA", "Andante, Andante", 0.0741, 0.0), "train");
  EXPECT_EQ(split_of("ABBA", "Andante, Andante", 0.07, 0.0043), "test");
  // "" + "\x1f" + "" hashes to 0xaf63d24c8601db8e, u = 0.68511690...
  EXPECT_EQ(split_of("", "", 0.6852, 0.0), "valid");
  EXPECT_EQ(split_of("", "", 0.6850, 0.0), "train");
  EXPECT_EQ(split_of("", "", 0.0, 0.0), "train");
  EXPECT_EQ(split_of("", "", 1.0, 0.0), "valid");
}

TEST(ParseArtistListTest, CommaListAndFile) {
  EXPECT_EQ(parse_artist_list("ABBA, Adele,,Air Supply "),
            (std::vector<std::string>{"ABBA", "Adele", "Air Supply"}));
  std::string tmpl = ::testing::TempDir() + "chorus_artists_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::ofstream(tmpl + "/list") << "Billy Joel, \"Glass Houses\"\r\n\n  ABBA\n";
  EXPECT_EQ(parse_artist_list("@" + tmpl + "/list"),
            (std::vector<std::string>{"Billy Joel, \"Glass Houses\"", "ABBA"}));
  EXPECT_THROW(parse_artist_list("@" + tmpl + "/absent"), InputError);
  std::filesystem::remove_all(tmpl);
}

TEST_F(PrepareTest, CsvToCorpusWithSummaryAndProvenance) {
  const std::string in = csv("in.csv", {"Beta", "Alpha"}, 10, "Alpha,Blank,/x,\"  \n  \n\"\r\n");
  auto o = options(in, "out.h5");
  const nlohmann::json summary = prepare_lyrics(o, log_);
  CorpusReader r(o.output);
  EXPECT_EQ(r.artists(), (std::vector<std::string>{"Alpha", "Beta"}));  // sorted by name
  int64_t songs = 0, symbols = 0;
  for (const char* s : {"train", "valid", "test"}) {
    songs += r.split(s).songs();
    symbols += r.split(s).symbols();
    EXPECT_EQ(summary["splits"][s]["songs"], r.split(s).songs());
    EXPECT_EQ(summary["splits"][s]["symbols"], r.split(s).symbols());
  }
  EXPECT_EQ(songs, 20);
  EXPECT_EQ(summary["skipped_empty"], 1);
  EXPECT_EQ(summary["artists"], 2);
  EXPECT_EQ(summary["symbol_bytes"], 1);  // a vocabulary of a few dozen symbols: one byte each
  EXPECT_EQ(r.info()["version"], kLyricsFormatVersion);
  // "la la Beta\nline 3": the quirk's spaces and the trailing newline are gone.
  const SplitIndex& train = r.split("train");
  ASSERT_GT(train.songs(), 0);
  std::u32string text;
  for (int32_t id : r.read_song("train", 0)) text.push_back(r.vocab().code_point(id));
  EXPECT_EQ(text.find(U' ' + std::u32string(U"\n")), std::u32string::npos);
  EXPECT_EQ(text.substr(0, 6), U"la la ");
  const nlohmann::json info = r.info();
  EXPECT_EQ(info["source"], in);
  EXPECT_EQ(info["source_sha256"], sha256_file(in));
  EXPECT_DOUBLE_EQ(info["options"]["valid_fraction"].get<double>(), 0.2);
  EXPECT_NE(log_.str().find("train"), std::string::npos);
  EXPECT_NE(log_.str().find("unknown"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(o.output + ".tmp"));
}

TEST_F(PrepareTest, SplitsAreStableWhenArtistsComeAndGo) {
  auto few = options(csv("few.csv", {"A", "B"}, 30), "few.h5");
  auto more = options(csv("more.csv", {"C", "A", "D", "B"}, 30), "more.h5");
  auto filtered = options(more.input, "filtered.h5");
  filtered.artists = {"B", "D"};
  for (auto* o : {&few, &more, &filtered}) prepare_lyrics(*o, log_);
  const auto s_few = splits_of(few.output), s_more = splits_of(more.output),
             s_filtered = splits_of(filtered.output);
  EXPECT_EQ(s_few.size(), 60u);
  EXPECT_EQ(s_more.size(), 120u);
  EXPECT_EQ(s_filtered.size(), 60u);
  std::map<std::string, int> per_split;
  for (const auto& [song, split] : s_few) {
    EXPECT_EQ(s_more.at(song), split) << song;
    ++per_split[split];
  }
  for (const auto& [song, split] : s_filtered) EXPECT_EQ(s_more.at(song), split) << song;
  EXPECT_GT(per_split["valid"] + per_split["test"], 0);  // the fractions really split
  EXPECT_GT(per_split["train"], 0);
}

TEST_F(PrepareTest, MinSongsAndArtistFilter) {
  auto o = options(csv("in.csv", {"Big"}, 5, "Small,S,/x,only one\r\nOther,O,/x,other\r\n"),
                   "out.h5");
  o.min_songs = 2;
  prepare_lyrics(o, log_);
  EXPECT_EQ(CorpusReader(o.output).artists(), (std::vector<std::string>{"Big"}));
  o.min_songs = 1;
  o.artists = {"Small", "Nobody"};
  prepare_lyrics(o, log_);
  EXPECT_EQ(CorpusReader(o.output).artists(), (std::vector<std::string>{"Small"}));
  EXPECT_NE(log_.str().find("Nobody"), std::string::npos);
}

TEST_F(PrepareTest, NoSongsAfterFilteringIsAnInputErrorAndLeavesNothing) {
  auto o = options(csv("in.csv", {"A"}, 3), "out.h5");
  o.artists = {"Z"};
  EXPECT_THROW(prepare_lyrics(o, log_), InputError);
  EXPECT_FALSE(std::filesystem::exists(o.output));
  EXPECT_FALSE(std::filesystem::exists(o.output + ".tmp"));
  auto empty = options(write("empty", "%\n  \n%\n"), "empty.h5");
  EXPECT_THROW(prepare_lyrics(empty, log_), InputError);
}

TEST_F(PrepareTest, FailureLeavesNoOutputAndKeepsAnOldOne) {
  // A malformed source fails in pass 1, naming the line of the bad record.
  const std::string in = csv("bad.csv", {"A"}, 2000, "A,Broken,/x,\"no closing quote\n");
  auto o = options(in, "out.h5");
  try {
    prepare_lyrics(o, log_);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(in + ":" + std::to_string(2 + 2000 * 3)),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(o.output));
  EXPECT_FALSE(std::filesystem::exists(o.output + ".tmp"));

  write("out.h5", "previous");
  EXPECT_THROW(prepare_lyrics(o, log_), InputError);
  EXPECT_EQ(read_file(o.output), "previous");
  EXPECT_FALSE(std::filesystem::exists(o.output + ".tmp"));

  // Failures after the corpus was written (the final rename onto a non-empty directory) and
  // before (an output directory that does not exist) leave nothing either.
  auto good = options(csv("good.csv", {"A"}, 5), "taken");
  std::filesystem::create_directory(dir_ + "/taken");
  write("taken/keep", "x");
  EXPECT_THROW(prepare_lyrics(good, log_), InputError);
  EXPECT_TRUE(std::filesystem::is_directory(good.output));
  EXPECT_FALSE(std::filesystem::exists(good.output + ".tmp"));
  good.output = dir_ + "/no/such/dir/out.h5";
  EXPECT_THROW(prepare_lyrics(good, log_), InputError);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/no"));
}

TEST_F(PrepareTest, VocabFromReusesVocabularyAndCountsUnknownSymbols) {
  auto first = options(write("a", "abc ab\n\t\t-- X\n%\nba\n\t-- Y\n%\n"), "first.h5");
  first.valid_fraction = first.test_fraction = 0;
  prepare_lyrics(first, log_);
  auto second = options(write("b", "abc\xC3\xBCz\n\t-- Y\n%\nzz\n\t-- Q\n%\n"), "second.h5");
  second.valid_fraction = second.test_fraction = 0;
  second.vocab_from = first.output;
  const nlohmann::json summary = prepare_lyrics(second, log_);
  CorpusReader a(first.output), b(second.output);
  EXPECT_EQ(b.vocab(), a.vocab());
  // The model's artists keep their ids; Q, new to it, is appended and its song kept.
  EXPECT_EQ(b.artists(), (std::vector<std::string>{"X", "Y", "Q"}));
  EXPECT_EQ(summary["splits"]["train"]["songs"], 2);
  EXPECT_EQ(summary["splits"]["train"]["unknown"], 4);  // ü and z, then z and z
  const auto ids = b.read_song("train", 0);
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids[3], Vocab::kUnknown);
  EXPECT_EQ(ids[4], Vocab::kUnknown);
  EXPECT_NE(log_.str().find("1 artists unknown to"), std::string::npos) << log_.str();

  // The same from a checkpoint directory's vocab.json.
  const std::string ckpt = dir_ + "/ckpt";
  std::filesystem::create_directory(ckpt);
  nlohmann::json j = Vocab({U'z'}).to_json();
  j["artists"] = {"Q", "Y"};
  write("ckpt/vocab.json", j.dump());
  second.vocab_from = ckpt;
  prepare_lyrics(second, log_);
  CorpusReader c(second.output);
  EXPECT_EQ(c.vocab(), Vocab({U'z'}));
  EXPECT_EQ(c.artists(), (std::vector<std::string>{"Q", "Y"}));
  EXPECT_EQ(c.split("train").songs(), 2);

  second.vocab_from = dir_ + "/absent.h5";
  EXPECT_THROW(prepare_lyrics(second, log_), InputError);
}

TEST_F(PrepareTest, BadOptionsAreInputErrors) {
  auto o = options(csv("in.csv", {"A"}, 1), "out.h5");
  o.valid_fraction = 0.7;
  o.test_fraction = 0.5;
  EXPECT_THROW(prepare_lyrics(o, log_), InputError);
  o = options("", "out.h5");
  EXPECT_THROW(prepare_lyrics(o, log_), InputError);
  o = options(dir_ + "/absent.csv", "out.h5");
  EXPECT_THROW(prepare_lyrics(o, log_), InputError);
}

TEST(FilesTest, Sha256AtomicWriteAndRead) {
  std::string tmpl = ::testing::TempDir() + "chorus_files_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string path = tmpl + "/f.txt";
  write_file_atomic(path, "abc");
  EXPECT_EQ(read_file(path), "abc");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(sha256_file(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  write_file_atomic(path, "");
  EXPECT_EQ(sha256_file(path), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_THROW(read_file(tmpl + "/absent"), InputError);
  EXPECT_THROW(sha256_file(tmpl + "/absent"), InputError);
  EXPECT_THROW(read_file(tmpl), InputError);  // a directory
  EXPECT_NO_THROW(fsync_path(tmpl));
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace chorus
