// Note sequences of piano rolls (data/note_sequence.h): the serialisation of frames, the layout of
// input and target rows the note model reads, frames counted once each, transposition before the
// serialisation, and the running encoder of sampling agreeing with the source's rows.
#include "data/note_sequence.h"

#include <gtest/gtest.h>

#include <random>

#include "data/pianoroll_corpus.h"
#include "data/streams.h"
#include "data/transposition.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

SongData frames_of(const std::vector<std::vector<int>>& keys, int64_t K) {
  SongData s;
  s.width = K;
  for (const auto& frame : keys) {
    std::vector<int32_t> row(K, 0);
    for (int k : frame) row[k] = 1;
    s.values.insert(s.values.end(), row.begin(), row.end());
  }
  return s;
}

// A frame source held in memory: one split "train" of the given songs.
class MemoryFrames : public SongSource {
 public:
  MemoryFrames(std::vector<SongData> songs, int64_t keys)
      : SongSource("memory"), songs_(std::move(songs)), keys_(keys) {
    SplitIndex index;
    index.name = "train";
    index.offsets = {0};
    for (const SongData& s : songs_) {
      index.offsets.push_back(index.offsets.back() + s.length());
      index.artist.push_back(0);
    }
    splits_.push_back(index);
  }
  int64_t width() const override { return keys_; }
  bool predicts_end() const override { return false; }
  void read(const std::string&, int64_t song, SongData* out) const override { *out = songs_[song]; }

 private:
  std::vector<SongData> songs_;
  int64_t keys_;
};

TEST(NoteSequenceTest, FramesBecomeRisingKeysAndAnEndOfFrame) {
  const SongData frames = frames_of({{4, 1}, {}, {0, 5, 3}}, 6);
  const std::vector<int32_t> symbols = frames_to_symbols(frames);
  EXPECT_EQ(symbols, (std::vector<int32_t>{2, 5, 0, 0, 1, 4, 6, 0}))
      << "keys low to high as key + 1, a silent frame is the end symbol alone";
  const auto back = symbols_to_frames(symbols, 6);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(std::vector<int32_t>(frames.values.begin(), frames.values.begin() + 6), back[0]);
  EXPECT_EQ(back[1], std::vector<int32_t>(6, 0));
  EXPECT_EQ(symbols_to_frames({3}, 6).size(), 1u) << "an unfinished last frame is kept";
}

TEST(NoteSequenceTest, RowsSayWhatCameBeforeAndWhatTheOrderAllows) {
  const int64_t K = 6;
  const MemoryFrames frames({frames_of({{1, 4}, {}, {0, 5}}, K)}, K);
  const NoteSource notes(frames);
  SongData song;
  notes.read("train", 0, &song);
  ASSERT_EQ(song.length(), 7);  // 2 5 0 | 0 | 1 6 0
  EXPECT_EQ(notes.positions("train", 0), 7);
  EXPECT_EQ(notes.split("train").song_length(0), 3) << "the index still counts frames";
  std::vector<int64_t> in(note_input_width(K)), target(2);
  auto bits = [&](int64_t first) { return std::vector<int64_t>(in.begin() + first, in.begin() + first + K); };
  // Prediction 0: nothing before (the start row is all zeros); any key may come.
  notes.input_row(song, 0, in.data());
  EXPECT_EQ(in, std::vector<int64_t>(in.size(), 0));
  notes.target_row(song, 0, target.data());
  EXPECT_EQ(target, (std::vector<int64_t>{2, 1}));
  // Prediction 1 (key 4, symbol 5): after key 1 only keys above it.
  notes.input_row(song, 1, in.data());
  EXPECT_EQ(in[0], 2);
  EXPECT_EQ(bits(1), std::vector<int64_t>(K, 0)) << "no previous frame yet";
  EXPECT_EQ(bits(1 + K), (std::vector<int64_t>{0, 1, 0, 0, 0, 0})) << "key 1 so far";
  notes.target_row(song, 1, target.data());
  EXPECT_EQ(target, (std::vector<int64_t>{5, 3}));
  // Prediction 4 (key 0 of the third frame): the previous frame is the silent one.
  notes.input_row(song, 4, in.data());
  EXPECT_EQ(in[0], 0);
  EXPECT_EQ(bits(1), std::vector<int64_t>(K, 0));
  EXPECT_EQ(bits(1 + K), std::vector<int64_t>(K, 0));
  // Prediction 3 (the silent frame's end): the previous frame is {1, 4}.
  notes.input_row(song, 3, in.data());
  EXPECT_EQ(bits(1), (std::vector<int64_t>{0, 1, 0, 0, 1, 0}));
  // Only end symbols count: one per frame.
  int64_t counted = 0;
  for (int64_t p = 0; p < song.length(); ++p) counted += notes.counted(song, p);
  EXPECT_EQ(counted, 3);
}

TEST(NoteSequenceTest, TheEncoderOfSamplingFeedsWhatTrainingRead) {
  const int64_t K = 10;
  std::mt19937_64 engine(3);
  std::vector<std::vector<int>> keys(40);
  for (auto& frame : keys)
    for (int k = 0; k < K; ++k)
      if (engine() % 4 == 0) frame.push_back(k);
  const MemoryFrames frames({frames_of(keys, K)}, K);
  const NoteSource notes(frames);
  SongData song;
  notes.read("train", 0, &song);
  NoteEncoder encoder(K);
  std::vector<int64_t> from_source(note_input_width(K)), from_encoder(note_input_width(K)), target(2);
  for (int64_t p = 0; p < song.length(); ++p) {
    notes.input_row(song, p, from_source.data());
    encoder.input_row(from_encoder.data());
    ASSERT_EQ(from_source, from_encoder) << "prediction " << p;
    notes.target_row(song, p, target.data());
    ASSERT_EQ(target[1], encoder.floor()) << "prediction " << p;
    encoder.push(song.at(p)[0]);
  }
  encoder.push(6);
  EXPECT_THROW(encoder.push(3), std::invalid_argument) << "after key 5, only keys above it";
}

TEST(NoteSequenceTest, WindowsCountFramesAndCarryEverySymbol) {
  const std::string dir = testing::make_temp_dir("notes");
  {
    const PianoRollReader rolls(testing::write_fixture_pianoroll(dir, 6, 1));
    const NoteSource notes(rolls);
    const SplitIndex& index = notes.split("train");
    StreamBatcher batcher(notes, "train", SongSchedule(index.songs(), 2, 0, false), 0, 2, 9);
    int64_t frames = 0, symbols = 0;
    while (!batcher.exhausted()) {
      const Window w = batcher.next();
      ASSERT_EQ(w.input_width, note_input_width(kKeys));
      ASSERT_EQ(w.target_width, 2);
      frames += w.count;
      for (float m : w.mask) symbols += m > 0;
    }
    EXPECT_EQ(frames, index.symbols()) << "one count per frame";
    EXPECT_EQ(symbols, index.symbols() * 4) << "the fixture's frames sound three keys each";
  }
  std::filesystem::remove_all(dir);
}

TEST(NoteSequenceTest, TransposedFramesAreWrittenAsTransposedNotes) {
  const std::string dir = testing::make_temp_dir("notes_t");
  {
    const PianoRollReader rolls(testing::write_fixture_pianoroll(dir, 6, 1));
    const TransposedFrames moved(rolls, /*max_semitones=*/5, /*seed=*/2);
    const NoteSource plain(rolls), notes(moved);
    EXPECT_TRUE(notes.varies_by_epoch());
    int differ = 0;
    for (int64_t song = 0; song < 6; ++song) {
      SongData a, b, f;
      plain.read_epoch("train", song, 1, &a);
      notes.read_epoch("train", song, 1, &b);
      moved.read_epoch("train", song, 1, &f);
      SongData expected;
      NoteSource::serialise(f, &expected);
      EXPECT_EQ(b.values, expected.values);
      EXPECT_EQ(a.length(), b.length()) << "the same notes, moved";
      differ += a.values != b.values;
    }
    EXPECT_GT(differ, 2);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chorus
