// Tests of global streams and TBPTT windows (data/streams.h): resets at song starts, padding
// masked, every symbol of every song and its end symbol predicted once per epoch, independence
// from the split over ranks, and that a rank reads only the songs of its own streams.
#include "data/streams.h"
#include "data/transposition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "data/corpus.h"
#include "data/pianoroll_corpus.h"
#include "data/vocab.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

class StreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("streams");
    path_ = testing::write_fixture_corpus(dir_, /*songs=*/10, /*valid_songs=*/3);
    corpus_ = std::make_unique<CorpusReader>(path_);
  }
  void TearDown() override {
    corpus_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_, path_;
  std::unique_ptr<CorpusReader> corpus_;
};

TEST(SongScheduleTest, EachEpochIsAPermutationSplitOverStreams) {
  SongSchedule s(/*num_songs=*/11, /*num_streams=*/4, /*seed=*/3, /*shuffle=*/true);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::multiset<int64_t> seen;
    for (int64_t g = 0; g < 4; ++g)
      for (int64_t i = 0; i < s.songs_per_epoch(g); ++i) seen.insert(s.song(g, epoch, i));
    ASSERT_EQ(seen.size(), 11u);
    for (int64_t song = 0; song < 11; ++song) EXPECT_EQ(seen.count(song), 1u) << song;
  }
  EXPECT_EQ(s.songs_per_epoch(0), 3);
  EXPECT_EQ(s.songs_per_epoch(3), 2);
}

TEST(SongScheduleTest, SameSeedSameOrderOtherSeedOrEpochOther) {
  SongSchedule a(50, 5, 9, true), b(50, 5, 9, true), c(50, 5, 10, true);
  std::vector<int64_t> ea, eb, ec, ea1;
  for (int64_t i = 0; i < 10; ++i) {
    ea.push_back(a.song(0, 0, i));
    eb.push_back(b.song(0, 0, i));
    ec.push_back(c.song(0, 0, i));
    ea1.push_back(a.song(0, 1, i));
  }
  EXPECT_EQ(ea, eb);
  EXPECT_NE(ea, ec);
  EXPECT_NE(ea, ea1);
}

TEST(SongScheduleTest, UniformBelowIsUnbiasedEnough) {
  std::mt19937_64 engine(1);
  std::vector<int> counts(3);
  for (int i = 0; i < 30000; ++i) ++counts[uniform_below(engine, 3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

TEST_F(StreamsTest, WindowsCoverEverySongOnceWithResetsAndPadding) {
  const SplitIndex& index = corpus_->split("train");
  const int64_t G = 3, T = 16;
  StreamBatcher batcher(*corpus_, "train", SongSchedule(index.songs(), G, 5, true), 0, G, T);
  // Count each stream's targets up to each end-of-song target until all have left epoch 0.
  std::vector<int64_t> run(G, 0);
  std::multiset<int64_t> lengths_seen;
  for (int64_t windows = 0; windows < 10000; ++windows) {
    bool all_past_epoch0 = true;
    for (const auto& c : batcher.cursors()) all_past_epoch0 = all_past_epoch0 && c.epoch > 0;
    if (all_past_epoch0) break;
    const std::vector<StreamCursor> before = batcher.cursors();
    const Window w = batcher.next();
    for (int64_t b = 0; b < G; ++b) {
      if (before[b].epoch > 0) continue;
      EXPECT_EQ(w.reset[b], before[b].position == 0 ? 1 : 0);
      if (w.reset[b]) {
        EXPECT_EQ(w.inputs[b], Vocab::kEndOfSong) << "a song's first input is the end symbol";
        EXPECT_EQ(run[b], 0) << "a song starts only where the previous one ended";
      }
      bool padding = false;
      for (int64_t t = 0; t < T; ++t) {
        if (w.mask[t * G + b] == 0) {
          padding = true;
          continue;
        }
        EXPECT_FALSE(padding) << "padding only at the end of a song's last window";
        if (w.targets[t * G + b] == Vocab::kEndOfSong) {
          lengths_seen.insert(run[b]);
          run[b] = 0;
        } else {
          ++run[b];
        }
      }
    }
  }
  std::multiset<int64_t> expected;
  for (int64_t s = 0; s < index.songs(); ++s) expected.insert(index.song_length(s));
  EXPECT_EQ(lengths_seen, expected);
}

TEST_F(StreamsTest, WholeSongWindowsHoldOneSongPerLaneAsLongAsTheLongest) {
  const SplitIndex& index = corpus_->split("train");
  const int64_t G = 3;
  StreamBatcher batcher(*corpus_, "train", SongSchedule(index.songs(), G, 5, true), 0, G, 16);
  batcher.set_whole_songs(/*max_song_length=*/0);
  for (int window = 0; window < 6; ++window) {
    const std::vector<StreamCursor> before = batcher.cursors();
    const Window w = batcher.next();
    int64_t longest = 0;
    for (int64_t b = 0; b < G; ++b) {
      const int64_t song = SongSchedule(index.songs(), G, 5, true).song(b, before[b].epoch,
                                                                          before[b].index);
      const int64_t n = index.song_length(song) + 1;  // its symbols and its end
      longest = std::max(longest, n);
      EXPECT_EQ(w.reset[b], 1) << "every window starts every lane's song from a zero state";
      int64_t counted = 0;
      for (int64_t t = 0; t < w.seq_len; ++t) counted += w.mask[t * G + b] > 0;
      EXPECT_EQ(counted, n) << "lane " << b << " plays its whole song";
      EXPECT_EQ(w.targets[(n - 1) * G + b], Vocab::kEndOfSong);
    }
    EXPECT_EQ(w.seq_len, longest) << "padded to the longest song of the window, no further";
  }
}

TEST_F(StreamsTest, WholeSongWindowsSplitASongLongerThanTheCapCarryingItsState) {
  const SplitIndex& index = corpus_->split("train");
  int64_t longest = 0;
  for (int64_t s = 0; s < index.songs(); ++s) longest = std::max(longest, index.song_length(s) + 1);
  const int64_t cap = longest / 2;
  StreamBatcher batcher(*corpus_, "train", SongSchedule(index.songs(), 1, 5, true), 0, 1, 16);
  batcher.set_whole_songs(cap);
  int64_t run = 0, continued = 0;
  for (int window = 0; window < 40; ++window) {
    const bool starts = batcher.cursors()[0].position == 0;
    continued += !starts;
    const Window w = batcher.next();
    EXPECT_LE(w.seq_len, cap);
    EXPECT_EQ(w.reset[0], starts ? 1 : 0) << "a continued piece keeps the song's state";
    run += w.count;
    if (w.targets[(w.count - 1)] == Vocab::kEndOfSong) {
      EXPECT_GE(run, 1);
      run = 0;
    } else {
      EXPECT_EQ(w.count, cap) << "only the last piece of a song is shorter than the cap";
    }
  }
  EXPECT_GT(continued, 0) << "the longest song was split";
}

TEST_F(StreamsTest, SplittingStreamsOverRanksGivesTheSameWindows) {
  const int64_t songs = corpus_->split("train").songs();
  const int64_t G = 4, T = 8;
  StreamBatcher whole(*corpus_, "train", SongSchedule(songs, G, 1, true), 0, G, T);
  StreamBatcher left(*corpus_, "train", SongSchedule(songs, G, 1, true), 0, 2, T);
  StreamBatcher right(*corpus_, "train", SongSchedule(songs, G, 1, true), 2, 2, T);
  for (int i = 0; i < 60; ++i) {
    Window w = whole.next(), l = left.next(), r = right.next();
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t b = 0; b < G; ++b) {
        const Window& part = b < 2 ? l : r;
        const int64_t pb = b % 2;
        ASSERT_EQ(w.inputs[t * G + b], part.inputs[t * 2 + pb]);
        ASSERT_EQ(w.targets[t * G + b], part.targets[t * 2 + pb]);
        ASSERT_EQ(w.mask[t * G + b], part.mask[t * 2 + pb]);
      }
    }
    EXPECT_EQ(w.count, l.count + r.count);
  }
}

TEST_F(StreamsTest, ARankReadsOnlyTheSongsOfItsStreams) {
  const SplitIndex& index = corpus_->split("train");
  const int64_t G = 5, T = 1000;  // one window per song
  SongSchedule schedule(index.songs(), G, 2, true);
  CorpusReader mine(path_);
  StreamBatcher batcher(mine, "train", schedule, /*first_stream=*/3, /*num_streams=*/2, T);
  int64_t expected = 0;
  for (int64_t g = 3; g < 5; ++g)
    for (int64_t i = 0; i < schedule.songs_per_epoch(g); ++i)
      expected += index.song_length(schedule.song(g, 0, i));
  for (int64_t i = 0; i < schedule.songs_per_epoch(3); ++i) batcher.next();
  EXPECT_EQ(mine.symbols_read(), expected);
  EXPECT_LT(mine.symbols_read(), index.symbols());
}

TEST_F(StreamsTest, CursorsRestoreTheSameWindows) {
  const int64_t songs = corpus_->split("train").songs();
  StreamBatcher a(*corpus_, "train", SongSchedule(songs, 2, 4, true), 0, 2, 8);
  for (int i = 0; i < 13; ++i) a.next();
  StreamBatcher b(*corpus_, "train", SongSchedule(songs, 2, 4, true), 0, 2, 8);
  b.set_cursors(a.cursors());
  for (int i = 0; i < 20; ++i) {
    Window wa = a.next(), wb = b.next();
    ASSERT_EQ(wa.inputs, wb.inputs);
    ASSERT_EQ(wa.reset, wb.reset);
  }
}

TEST_F(StreamsTest, ValidationOrderVisitsEachSongOnceThenStops) {
  const SplitIndex& index = corpus_->split("valid");
  StreamBatcher batcher(*corpus_, "valid", SongSchedule(index.songs(), 2, 0, false), 0, 2, 1000);
  int64_t counted = 0, windows = 0;
  while (!batcher.exhausted() && windows < 100) {
    counted += batcher.next().count;
    ++windows;
  }
  EXPECT_TRUE(batcher.exhausted());
  EXPECT_EQ(counted, index.symbols() + index.songs());
}

TEST(PianoRollStreamsTest, FramesArePredictedFromTheFrameBeforeStartingFromSilence) {
  const std::string dir = testing::make_temp_dir("rollstreams");
  const std::string path = testing::write_fixture_pianoroll(dir, /*songs=*/4, /*valid_songs=*/1);
  {
    PianoRollReader corpus(path);
    const SplitIndex& index = corpus.split("train");
    const int64_t T = 16, G = 2;
    StreamBatcher batcher(corpus, "train", SongSchedule(index.songs(), G, 3, true), 0, G, T);
    SongSchedule schedule(index.songs(), G, 3, true);
    const std::vector<Frame> song = corpus.read_song("train", schedule.song(0, 0, 0));
    std::vector<Frame> inputs, targets;
    int64_t counted = 0;
    for (int64_t window = 0; counted < static_cast<int64_t>(song.size()); ++window) {
      const Window w = batcher.next();
      ASSERT_EQ(w.input_width, kKeys);
      ASSERT_EQ(w.target_width, kKeys);
      ASSERT_EQ(w.inputs.size(), static_cast<size_t>(T * G * kKeys));
      EXPECT_EQ(w.reset[0], window == 0 ? 1 : 0);
      for (int64_t t = 0; t < T; ++t) {
        if (w.mask[t * G] == 0) continue;
        Frame in, out;
        for (int k = 0; k < kKeys; ++k) {
          in[k] = w.inputs[(t * G) * kKeys + k] > 0;
          out[k] = w.targets[(t * G) * kKeys + k] > 0;
        }
        inputs.push_back(in);
        targets.push_back(out);
        ++counted;
      }
    }
    ASSERT_EQ(targets.size(), song.size()) << "a song of n frames has n predictions";
    EXPECT_EQ(targets, song);
    EXPECT_TRUE(inputs[0].none()) << "the first frame is predicted from silence";
    for (size_t i = 1; i < inputs.size(); ++i) EXPECT_EQ(inputs[i], song[i - 1]);
  }
  std::filesystem::remove_all(dir);
}

TEST(TranspositionTest, ACounterKeepsKeysInRangeAndVariesBySongAndEpoch) {
  // A song sounding keys 10..80 of 88 may move down 10 and up 7, at most N.
  std::set<int64_t> seen;
  for (int64_t song = 0; song < 200; ++song) {
    const int64_t shift = TransposedFrames::transposition(9, 0, song, 12, 10, 80, kKeys);
    EXPECT_GE(shift, -10);
    EXPECT_LE(shift, 7);
    EXPECT_EQ(shift, TransposedFrames::transposition(9, 0, song, 12, 10, 80, kKeys)) << "a counter";
    seen.insert(shift);
  }
  EXPECT_EQ(seen.size(), 18u) << "every shift in [-10, 7] occurs";
  int differ = 0;
  for (int64_t song = 0; song < 50; ++song)
    differ += TransposedFrames::transposition(9, 0, song, 3, 10, 80, kKeys) !=
              TransposedFrames::transposition(9, 1, song, 3, 10, 80, kKeys);
  EXPECT_GT(differ, 20) << "another epoch draws again";
  EXPECT_EQ(TransposedFrames::transposition(9, 0, 1, 0, 10, 80, kKeys), 0) << "off";
  EXPECT_EQ(TransposedFrames::transposition(9, 0, 1, 5, kKeys, -1, kKeys), 0) << "a silent song";
}

TEST(TranspositionTest, TrainingWindowsAreTransposedAndRestoredExactly) {
  const std::string dir = testing::make_temp_dir("transpose");
  const std::string path = testing::write_fixture_pianoroll(dir, /*songs=*/6, /*valid_songs=*/1);
  {
    PianoRollReader corpus(path);
    const SplitIndex& index = corpus.split("train");
    const int64_t G = 2, T = 16;
    const TransposedFrames transposed(corpus, /*max_semitones=*/4, /*seed=*/77);
    auto batcher = [&] {
      return StreamBatcher(transposed, "train", SongSchedule(index.songs(), G, 3, true), 0, G, T);
    };
    StreamBatcher plain(corpus, "train", SongSchedule(index.songs(), G, 3, true), 0, G, T);
    StreamBatcher a = batcher();
    int64_t moved = 0, notes = 0, windows = 0;
    for (; windows < 40; ++windows) {
      const Window wa = a.next(), wp = plain.next();
      ASSERT_EQ(wa.mask, wp.mask) << "the same songs and lengths";
      int64_t on_a = 0, on_p = 0;
      for (int64_t v : wa.targets) on_a += v;
      for (int64_t v : wp.targets) on_p += v;
      EXPECT_EQ(on_a, on_p) << "a transposition moves notes, it neither adds nor drops any";
      moved += wa.targets != wp.targets;
      notes += on_p;
    }
    EXPECT_GT(moved, windows / 2) << "most windows are transposed";
    // Cursors restore the same transposed windows (exact resume).
    StreamBatcher b = batcher();
    b.set_cursors(a.cursors());
    for (int i = 0; i < 10; ++i) ASSERT_EQ(a.next().inputs, b.next().inputs) << i;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chorus
