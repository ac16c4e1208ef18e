// Tests of piano-roll frames and the benchmark text format (data/pianoroll.h): the packed layout
// (key k at byte k/8, bit k%8), the reader's rules and its FILE:LINE errors, and the writer.
#include "data/pianoroll.h"

#include <gtest/gtest.h>

#include <random>

#include "data/errors.h"
#include "data/limits.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

Frame keys(std::initializer_list<int> notes) {
  Frame f;
  for (int n : notes) f.set(n - kLowestNote);
  return f;
}

TEST(PianoRollFrameTest, PackedLayoutIsKeyOverEightThenBit) {
  EXPECT_EQ(kKeys, 88);
  EXPECT_EQ(kPackedFrameBytes, 11);
  EXPECT_EQ(kHighestNote, 108);
  const PackedFrame p = pack(keys({21, 30, 108}));  // keys 0, 9, 87
  const PackedFrame want = {0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
  EXPECT_EQ(p, want);
  EXPECT_EQ(unpack(want), keys({21, 30, 108}));
  for (int k = 0; k < kKeys; ++k) {  // every key alone: byte k/8, bit k%8, nothing else
    Frame one;
    one.set(k);
    PackedFrame expected{};
    expected[k / 8] = static_cast<uint8_t>(1u << (k % 8));
    EXPECT_EQ(pack(one), expected) << k;
    EXPECT_EQ(unpack(expected), one) << k;
  }
  std::mt19937_64 engine(5);
  std::vector<Frame> frames(50);
  for (Frame& f : frames) {
    for (int k = 0; k < kKeys; ++k) f[k] = engine() % 5 == 0;
  }
  std::vector<uint8_t> bytes = {0xAA};  // appended after existing bytes
  pack_frames(frames, &bytes);
  ASSERT_EQ(bytes.size(), 1 + 50u * 11);
  EXPECT_EQ(unpack_frames(bytes.data() + 1, 50), frames);
  int64_t active = 0;
  for (const Frame& f : frames) active += static_cast<int64_t>(f.count());
  EXPECT_EQ(count_active(frames), active);
  EXPECT_TRUE(is_piano_note(21) && is_piano_note(108));
  EXPECT_FALSE(is_piano_note(20) || is_piano_note(109));
}

class PianoRollTextTest : public testing::TempDirTest {
 protected:
  std::vector<std::vector<Frame>> read(const std::string& path) {
    std::vector<std::vector<Frame>> songs;
    const int64_t n = read_pianoroll_text(path, [&](std::vector<Frame> s) { songs.push_back(std::move(s)); });
    EXPECT_EQ(n, static_cast<int64_t>(songs.size()));
    return songs;
  }
  // The InputError message of reading `content`, or "" when it reads.
  std::string error_of(const std::string& content) {
    const std::string path = write("bad.txt", content);
    try {
      read(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(PianoRollTextTest, ReadsSongsFramesAndSilence) {
  const auto songs = read(write("train.txt", "60 64 67\n-\n21 108\n\n48\n\n"));
  ASSERT_EQ(songs.size(), 2u);
  ASSERT_EQ(songs[0].size(), 3u);
  EXPECT_EQ(songs[0][0], keys({60, 64, 67}));
  EXPECT_EQ(songs[0][1], Frame());
  EXPECT_EQ(songs[0][2], keys({21, 108}));
  EXPECT_EQ(songs[1], std::vector<Frame>{keys({48})});
}

TEST_F(PianoRollTextTest, ToleratesCrLfBlanksOrderAndAMissingLastEmptyLine) {
  const auto songs = read(write("t.txt", "64  60\t67\r\n60 60\r\n\r\n-\n50"));
  ASSERT_EQ(songs.size(), 2u);
  EXPECT_EQ(songs[0][0], keys({60, 64, 67}));
  EXPECT_EQ(songs[0][1], keys({60}));
  ASSERT_EQ(songs[1].size(), 2u);
  EXPECT_EQ(songs[1][1], keys({50}));
  EXPECT_TRUE(read(write("empty.txt", "")).empty());
}

TEST_F(PianoRollTextTest, ErrorsNameFileAndLine) {
  const std::string bad = dir_ + "/bad.txt";
  EXPECT_EQ(error_of("60\n\n6x 64\n\n").rfind(bad + ":3: \"6x\" is not a MIDI note number", 0), 0u)
      << error_of("60\n\n6x 64\n\n");
  EXPECT_EQ(error_of("60\n20\n").rfind(bad + ":2: note 20 is outside", 0), 0u);
  EXPECT_EQ(error_of("60\n109\n").rfind(bad + ":2: note 109 is outside", 0), 0u);
  EXPECT_EQ(error_of("-1\n").rfind(bad + ":1: note -1 is outside", 0), 0u);
  EXPECT_EQ(error_of("+60\n").rfind(bad + ":1: \"+60\"", 0), 0u);
  EXPECT_EQ(error_of("60 -\n").rfind(bad + ":1: \"-\"", 0), 0u);
  EXPECT_EQ(error_of("- 60\n").rfind(bad + ":1: \"-\"", 0), 0u);
  EXPECT_EQ(error_of("60\n   \n").rfind(bad + ":2: line holds only blanks", 0), 0u);
  EXPECT_EQ(error_of("60\n\n\n62\n").rfind(bad + ":3: empty song", 0), 0u);
  EXPECT_EQ(error_of("\n60\n").rfind(bad + ":1: empty song", 0), 0u);
  EXPECT_EQ(error_of("60\n\n"), "");
  EXPECT_THROW(read(dir_ + "/absent.txt"), InputError);
}

TEST_F(PianoRollTextTest, AbsurdLinesAndSongsAreRefused) {
  const std::string bad = dir_ + "/bad.txt";
  // A line of 70,000 bytes (a frame holds at most 88 notes), and one of exactly the limit.
  const std::string msg = error_of("60\n" + std::string(70000, ' ') + "60\n\n");
  EXPECT_EQ(msg.rfind(bad + ":2: line longer than 65536 bytes", 0), 0u) << msg;
  EXPECT_EQ(error_of(std::string(kMaxPianoRollLineBytes - 2, ' ') + "60\n\n"), "");
  // One song of kMaxSongLength + 1 silent frames: no empty line between songs.
  std::string frames;
  frames.reserve(static_cast<size_t>(2 * (kMaxSongLength + 1)));
  for (int64_t i = 0; i <= kMaxSongLength; ++i) frames += "-\n";
  const std::string long_song = error_of(frames);
  EXPECT_EQ(long_song.rfind(bad + ":16777217: a song longer than 16777216 frames", 0), 0u)
      << long_song;
}

TEST_F(PianoRollTextTest, FormatThenReadRoundTrips) {
  std::mt19937_64 engine(9);
  std::vector<std::vector<Frame>> songs(4);
  for (size_t s = 0; s < songs.size(); ++s) {
    songs[s].resize(3 + s * 7);
    for (Frame& f : songs[s]) {
      for (int k = 0; k < kKeys; ++k) f[k] = engine() % 13 == 0;
    }
  }
  songs[1][0].reset();
  const std::string text = format_pianoroll_text(songs);
  EXPECT_NE(text.find("\n-\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 2), "\n\n");
  EXPECT_EQ(read(write("round.txt", text)), songs);
  EXPECT_EQ(format_pianoroll_text({{keys({64, 48})}}), "48 64\n\n");
  EXPECT_THROW(format_pianoroll_text({{}}), std::invalid_argument);
}

}  // namespace
}  // namespace chorus
