// Tests of the raw lyrics readers (data/lyrics_source.h): every CSV quirk, errors with line
// numbers, fortune files, format detection, and (when present) the real shared corpora.
#include "data/lyrics_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "data/errors.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

class LyricsSourceTest : public testing::TempDirTest {
 protected:
  static std::vector<RawSong> read(const std::string& path, LyricsFormat f = LyricsFormat::kAuto) {
    std::vector<RawSong> out;
    read_lyrics(path, f, [&](const RawSong& s) { out.push_back(s); });
    return out;
  }
  // The InputError message of reading `path`, or "" when no InputError was thrown.
  static std::string error_of(const std::string& path, LyricsFormat f = LyricsFormat::kCsv) {
    try {
      read(path, f);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(LyricsSourceTest, CsvQuirks) {
  const std::string path = write("songs.csv",
      "artist,song,link,text\r\n"
      "ABBA,\"Andante, Andante\",/a/1,\"Take it easy  \nwith me  \n\"\r\n"
      "\"The \"\"Who\"\"\",Quote,/a/2,\"He said \"\"hi\"\", then\nleft\"\r\n"
      "Plain,Multi,/a/3,\"line one  \n  \nline three\"\n"
      "Last,Unquoted,/a/4,short text\r\n");
  const auto songs = read(path);
  ASSERT_EQ(songs.size(), 4u);
  EXPECT_EQ(songs[0].artist, "ABBA");
  EXPECT_EQ(songs[0].title, "Andante, Andante");
  EXPECT_EQ(songs[0].text, "Take it easy  \nwith me  \n");
  EXPECT_EQ(songs[0].line, 2);
  EXPECT_EQ(songs[1].artist, "The \"Who\"");
  EXPECT_EQ(songs[1].text, "He said \"hi\", then\nleft");
  EXPECT_EQ(songs[1].line, 5);
  EXPECT_EQ(songs[2].text, "line one  \n  \nline three");
  EXPECT_EQ(songs[2].line, 7);
  EXPECT_EQ(songs[3].title, "Unquoted");
  EXPECT_EQ(songs[3].text, "short text");
  EXPECT_EQ(songs[3].line, 10);
}

TEST_F(LyricsSourceTest, CsvColumnsInAnyOrderAndNoFinalNewline) {
  const std::string path =
      write("c.csv", "\xEF\xBB\xBFtext,extra,song,artist\n\"hello\",x,Hi,Me\n\nbye,y,By,You");
  const auto songs = read(path);
  ASSERT_EQ(songs.size(), 2u);
  EXPECT_EQ(songs[0].artist, "Me");
  EXPECT_EQ(songs[0].title, "Hi");
  EXPECT_EQ(songs[1].text, "bye");
  EXPECT_EQ(songs[1].line, 4);  // the blank line 3 is skipped, not a record
}

TEST_F(LyricsSourceTest, UnterminatedQuoteNamesItsLine) {
  const std::string path = write("bad.csv",
      "artist,song,link,text\r\n"
      "A,One,/1,\"fine\"\r\n"
      "A,Two,/2,\"fine\ntoo\"\r\n"
      "A,\"Three\nparts\",/3,\"never\nclosed\nat all\n");
  const std::string msg = error_of(path);
  // The record starts on line 5; its unterminated text field starts on line 6.
  EXPECT_NE(msg.find(path + ":6:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unterminated"), std::string::npos) << msg;
}

TEST_F(LyricsSourceTest, ARunawaySongIsRefusedNamingWhereItStarts) {
  // 17 MiB in one quoted field, as lines of 1 KiB and as one line: an error, not 17 MiB held.
  const std::string line(1023, 'x');
  std::string lines;
  for (size_t i = 0; i < (size_t{17} << 10); ++i) lines += line + "\n";
  for (const std::string& body : {lines, std::string(size_t{17} << 20, 'y')}) {
    const std::string path = write("huge.csv", "artist,song,text\nA,Fine,ok\nA,Huge,\"" + body + "\"\n");
    const std::string msg = error_of(path);
    EXPECT_NE(msg.find(path + ":3: the record starting here is longer than 16 MiB"), std::string::npos)
        << msg.substr(0, 300);
  }
  const std::string fortune = write("huge", "short\n%\n" + lines + "%\n");
  const std::string msg = error_of(fortune, LyricsFormat::kFortune);
  EXPECT_NE(msg.find(fortune + ":3: the entry starting here is longer than 16 MiB"), std::string::npos)
      << msg.substr(0, 300);
}

TEST_F(LyricsSourceTest, WrongFieldCountNamesItsLine) {
  const std::string path = write("bad.csv", "artist,song,link,text\nA,One,/1,text\nA,Two,text\n");
  const std::string msg = error_of(path);
  EXPECT_NE(msg.find(path + ":3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 fields"), std::string::npos) << msg;
}

TEST_F(LyricsSourceTest, StrayQuoteIsAnErrorWithLine) {
  const std::string path = write("bad.csv", "artist,song,text\nA,\"One\"x,t\n");
  const std::string msg = error_of(path);
  EXPECT_NE(msg.find(path + ":2:"), std::string::npos) << msg;
}

TEST_F(LyricsSourceTest, MissingColumnIsAnError) {
  const std::string path = write("bad.csv", "artist,song,lyrics\nA,B,C\n");
  const std::string msg = error_of(path);
  EXPECT_NE(msg.find("\"text\""), std::string::npos) << msg;
  EXPECT_NE(msg.find(path + ":1:"), std::string::npos) << msg;
}

TEST_F(LyricsSourceTest, MissingFileIsAnInputErrorNamingIt) {
  const std::string msg = error_of(dir_ + "/absent.csv", LyricsFormat::kAuto);
  EXPECT_NE(msg.find("absent.csv"), std::string::npos) << msg;
}

TEST_F(LyricsSourceTest, FieldsLargerThanTheReadChunkStream) {
  std::string big;
  for (int i = 0; big.size() < 300000; ++i) big += "line " + std::to_string(i) + ", \"\"q\"\"  \n";
  std::string unq;  // the doubled quotes read back as single ones
  for (size_t i = 0; i < big.size(); ++i) {
    unq += big[i];
    if (big[i] == '"') ++i;
  }
  const auto lines = std::count(big.begin(), big.end(), '\n');
  const std::string path =
      write("big.csv", "artist,song,text\r\nA,Big,\"" + big + "\"\r\nB,After,x\r\n");
  const auto songs = read(path);
  ASSERT_EQ(songs.size(), 2u);
  EXPECT_EQ(songs[0].text, unq);
  EXPECT_EQ(songs[1].line, 2 + lines + 1);
}

TEST_F(LyricsSourceTest, FortuneEntriesWithAndWithoutAttribution) {
  const std::string path = write("poems",
      "100 buckets of bits\t\nTake one down\n%\n"
      "\n  A bit of talcum\nIs always walcum\n\t\t-- Ogden Nash\n%\n"
      "Not -- an attribution\n-- nor this\n%\n"
      "Last one\n   -- J\xC3\xA9r\xC3\xB4me K. Jerome  \n%\n");
  const auto songs = read(path);
  ASSERT_EQ(songs.size(), 4u);
  EXPECT_EQ(songs[0].artist, "");
  EXPECT_EQ(songs[0].title, "100 buckets of bits");
  EXPECT_EQ(songs[0].text, "100 buckets of bits\t\nTake one down");
  EXPECT_EQ(songs[0].line, 1);
  EXPECT_EQ(songs[1].artist, "Ogden Nash");
  EXPECT_EQ(songs[1].title, "A bit of talcum");
  EXPECT_EQ(songs[1].text, "\n  A bit of talcum\nIs always walcum");
  EXPECT_EQ(songs[1].line, 4);
  EXPECT_EQ(songs[2].artist, "");  // "--" without leading white space is verse, not a name
  EXPECT_EQ(songs[2].text, "Not -- an attribution\n-- nor this");
  EXPECT_EQ(songs[3].artist, "J\xC3\xA9r\xC3\xB4me K. Jerome");
  EXPECT_EQ(songs[3].text, "Last one");
}

TEST_F(LyricsSourceTest, FortuneTitleIsAtMost60CodePoints) {
  std::string line;
  for (int i = 0; i < 70; ++i) line += "\xC3\xA9";  // 70 x é (2 bytes each)
  const auto songs = read(write("f", line + "\nsecond\r\n%\r\nno final separator\n"));
  ASSERT_EQ(songs.size(), 2u);
  EXPECT_EQ(songs[0].title, line.substr(0, 120));
  EXPECT_EQ(songs[1].text, "no final separator");
  EXPECT_EQ(songs[1].line, 4);
}

TEST_F(LyricsSourceTest, AutoDetectsCsvByItsHeader) {
  EXPECT_EQ(read(write("a.csv", "artist,song,link,text\nA,B,C,D\n")).size(), 1u);
  // A fortune whose first line merely mentions commas is not CSV.
  const auto songs = read(write("f", "artist, song and text,\nmore\n%\n"));
  ASSERT_EQ(songs.size(), 1u);
  EXPECT_EQ(songs[0].text, "artist, song and text,\nmore");
  EXPECT_EQ(parse_lyrics_format("fortune"), LyricsFormat::kFortune);
  EXPECT_EQ(parse_lyrics_format("csv"), LyricsFormat::kCsv);
  EXPECT_EQ(parse_lyrics_format("auto"), LyricsFormat::kAuto);
  EXPECT_THROW(parse_lyrics_format("tsv"), InputError);
}

// The real corpora from ../shared/data (skipped with a reason when absent).
std::string shared_file(const std::string& rel) {
  const char* root = std::getenv("CHORUS_SHARED_DATA");
  if (!root) return "";
  const std::string path = std::string(root) + "/" + rel;
  return std::filesystem::exists(path) ? path : "";
}

TEST(LyricsSourceSharedDataTest, SongdataSubsetHas873SongsBy24Artists) {
  const std::string path = shared_file("lyrics-songdata/songdata_subset.csv");
  if (path.empty()) GTEST_SKIP() << "set CHORUS_SHARED_DATA to the shared data directory "
                                    "(with lyrics-songdata/songdata_subset.csv) to run this test";
  int64_t songs = 0;
  std::set<std::string> artists;
  read_lyrics(path, LyricsFormat::kAuto, [&](const RawSong& s) {
    ++songs;
    artists.insert(s.artist);
  });
  EXPECT_EQ(songs, 873);
  EXPECT_EQ(artists.size(), 24u);
}

TEST(LyricsSourceSharedDataTest, SongsPoemsFortuneMatchesItsCsvDerivation) {
  const std::string fortune = shared_file("songs-poems/songs-poems");
  const std::string csv = shared_file("songs-poems/songs-poems.csv");
  if (fortune.empty() || csv.empty()) {
    GTEST_SKIP() << "set CHORUS_SHARED_DATA to the shared data directory (with songs-poems/) "
                    "to run this test";
  }
  std::vector<RawSong> a, b;
  read_lyrics(fortune, LyricsFormat::kFortune, [&](const RawSong& s) { a.push_back(s); });
  read_lyrics(csv, LyricsFormat::kAuto, [&](const RawSong& s) { b.push_back(s); });
  ASSERT_EQ(a.size(), 720u);
  ASSERT_EQ(b.size(), 720u);
  int attributed = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    attributed += !a[i].artist.empty();
    EXPECT_EQ(a[i].artist, b[i].artist) << "entry " << i;
    EXPECT_EQ(a[i].title, b[i].title) << "entry " << i;
    EXPECT_EQ(a[i].text, b[i].text) << "entry " << i;
  }
  EXPECT_EQ(attributed, 492);
}

}  // namespace
}  // namespace chorus
