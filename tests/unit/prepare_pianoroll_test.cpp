// Tests of `chorus prepare pianoroll` (data/prepare_pianoroll.h): text splits, MIDI folders split
// by a stable hash of the file's path or by train/valid/test folders, bad MIDI files skipped or
// fatal, nothing left behind on failure; and, with CHORUS_SHARED_DATA, the real Nottingham data.
#include "data/prepare_pianoroll.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "data/hash.h"
#include "data/midi.h"
#include "data/pianoroll_corpus.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

std::vector<Frame> tune(uint64_t seed, size_t n = 24) {
  std::mt19937_64 engine(seed);
  std::vector<Frame> frames(n);
  for (Frame& f : frames) f.set(30 + engine() % 40);
  return frames;
}

class PreparePianoRollTest : public testing::TempDirTest {
 protected:
  std::string mkdir(const std::string& name) {
    fs::create_directories(dir_ + "/" + name);
    return dir_ + "/" + name;
  }
  std::string error_of(const PreparePianoRollOptions& o) {
    try {
      prepare_pianoroll(o, log_);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  std::ostringstream log_;
};

TEST_F(PreparePianoRollTest, TextDirWithTrainAndValid) {
  const std::string text = mkdir("text");
  const std::vector<std::vector<Frame>> train = {tune(1), tune(2, 5), tune(3, 9)}, valid = {tune(4, 3), tune(5)};
  write("text/train.txt", format_pianoroll_text(train));
  write("text/valid.txt", format_pianoroll_text(valid));
  PreparePianoRollOptions o;
  o.text_dir = text;
  o.output = dir_ + "/out.h5";
  const nlohmann::json summary = prepare_pianoroll(o, log_);
  EXPECT_EQ(summary["splits"]["train"]["songs"], 3);
  EXPECT_EQ(summary["splits"]["train"]["frames"], 24 + 5 + 9);
  EXPECT_EQ(summary["splits"]["train"]["active"], 24 + 5 + 9);
  EXPECT_EQ(summary["splits"]["valid"]["songs"], 2);
  EXPECT_EQ(summary["splits"]["test"]["songs"], 0);
  EXPECT_EQ(summary["resolution"]["time_unit"], "unknown");
  PianoRollReader r(o.output);
  for (size_t i = 0; i < train.size(); ++i) EXPECT_EQ(r.read_song("train", i), train[i]);
  for (size_t i = 0; i < valid.size(); ++i) EXPECT_EQ(r.read_song("valid", i), valid[i]);
  const nlohmann::json info = r.info();
  EXPECT_EQ(info["source_kind"], "text");
  EXPECT_EQ(info["source_sha256"]["train.txt"], sha256_file(text + "/train.txt"));
  EXPECT_FALSE(info["source_sha256"].contains("test.txt"));
  EXPECT_NE(log_.str().find("valid"), std::string::npos);
  EXPECT_FALSE(fs::exists(o.output + ".tmp"));
}

TEST_F(PreparePianoRollTest, BadTextOrOptionsLeaveNothingBehind) {
  const std::string text = mkdir("text");
  PreparePianoRollOptions o;
  o.text_dir = text;
  o.output = dir_ + "/out.h5";
  EXPECT_NE(error_of(o).find("none of train.txt, valid.txt, test.txt"), std::string::npos);
  write("text/train.txt", "60\n\n");
  write("text/valid.txt", "60\n\n61 x\n\n");
  EXPECT_NE(error_of(o).find(text + "/valid.txt:3: \"x\""), std::string::npos) << error_of(o);
  EXPECT_FALSE(fs::exists(o.output));
  EXPECT_FALSE(fs::exists(o.output + ".tmp"));
  write("text/valid.txt", "60\n\n");
  o.seconds_per_frame = 0.3;
  EXPECT_NE(error_of(o).find("seconds_per_frame applies to --midi"), std::string::npos);
  o.seconds_per_frame = 0;
  o.midi_dir = text;
  EXPECT_NE(error_of(o).find("exactly one of --midi, --text-dir, --mat and --pickle"), std::string::npos);
  o.midi_dir.clear();
  o.valid_fraction = 0.7, o.test_fraction = 0.4;
  EXPECT_NE(error_of(o).find("at most 1"), std::string::npos);
  EXPECT_EQ(parse_on_bad_midi("fail"), OnBadMidi::kFail);
  EXPECT_THROW(parse_on_bad_midi("ignore"), InputError);
}

class PrepareMidiTest : public PreparePianoRollTest {
 protected:
  void SetUp() override {
    PreparePianoRollTest::SetUp();
    midi_ = mkdir("midi");
    for (int i = 0; i < 40; ++i) {
      const std::string name = "tune" + std::to_string(i) + ".mid";
      tunes_[name] = tune(100 + i, 8 + i);
      write_midi(tunes_[name], midi_ + "/" + name, {});
    }
    const std::string good = encode_midi(tune(7), {});
    write("midi/broken.MID", good.substr(0, good.size() - 5));  // truncated; extension in capitals
    write("midi/drums.mid", std::string("MThd\0\0\0\6\0\0\0\1\0\x60MTrk\0\0\0\x0c\0\x99\x24\x64\x18\x89\x24\0\0\xff\x2f\0", 34));
    write("midi/notes.txt", "not a MIDI file, ignored");
    options_.midi_dir = midi_;
    options_.output = dir_ + "/out.h5";
    options_.valid_fraction = 0.2;
    options_.test_fraction = 0.2;
  }
  std::string midi_;
  std::map<std::string, std::vector<Frame>> tunes_;
  PreparePianoRollOptions options_;
};

TEST_F(PrepareMidiTest, SplitByNameHashAndBadFilesSkipped) {
  const nlohmann::json summary = prepare_pianoroll(options_, log_);
  PianoRollReader r(options_.output);
  std::map<std::string, int> per_split;
  int64_t songs = 0, skipped = 0, empty = 0;
  for (const char* s : {"train", "valid", "test"}) {
    const SplitIndex& idx = r.split(s);
    songs += idx.songs();
    skipped += summary["splits"][s]["files_skipped"].get<int64_t>();
    empty += summary["splits"][s]["files_empty"].get<int64_t>();
    EXPECT_EQ(summary["splits"][s]["songs"], idx.songs());
    EXPECT_EQ(summary["splits"][s]["frames"], idx.symbols());
    for (int64_t i = 0; i < idx.songs(); ++i) {
      const std::string name = r.name(s, i);
      ASSERT_TRUE(tunes_.count(name)) << name;
      EXPECT_EQ(split_of_key(name, 0.2, 0.2), std::string(s)) << name;
      EXPECT_EQ(r.read_song(s, i), tunes_[name]) << name;
      ++per_split[s];
    }
  }
  EXPECT_EQ(songs, 40);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(empty, 1);
  EXPECT_GT(per_split["train"], 10);  // 40 names at 60/20/20: every split gets some
  EXPECT_GT(per_split["valid"], 0);
  EXPECT_GT(per_split["test"], 0);
  ASSERT_EQ(summary["skipped"].size(), 2u);
  EXPECT_EQ(summary["skipped"][0]["file"], midi_ + "/broken.MID");
  EXPECT_EQ(summary["skipped"][0]["reason"], "corrupt");
  EXPECT_NE(summary["skipped"][0]["detail"].get<std::string>().find("truncated chunk"), std::string::npos);
  EXPECT_EQ(summary["skipped"][1]["file"], midi_ + "/drums.mid");
  EXPECT_EQ(summary["skipped"][1]["reason"], "drums only");
  EXPECT_NE(log_.str().find("skipped " + midi_ + "/broken.MID (corrupt): "), std::string::npos) << log_.str();
  EXPECT_EQ(summary["splits"][split_of_key("drums.mid", 0.2, 0.2)]["dropped_drums"], 1);
  EXPECT_EQ(r.resolution().frames_per_quarter, 4);
  // A song's split depends only on its own name: with half the files, every song stays put.
  for (int i = 0; i < 40; i += 2) fs::remove(midi_ + "/tune" + std::to_string(i) + ".mid");
  options_.output = dir_ + "/half.h5";
  prepare_pianoroll(options_, log_);
  PianoRollReader half(options_.output);
  for (const char* s : {"train", "valid", "test"}) {
    for (int64_t i = 0; i < half.split(s).songs(); ++i) EXPECT_EQ(split_of_key(half.name(s, i), 0.2, 0.2), std::string(s));
  }
}

TEST_F(PrepareMidiTest, BadFileIsFatalWhenAskedAndNothingIsLeft) {
  options_.on_bad_midi = OnBadMidi::kFail;
  const std::string error = error_of(options_);
  EXPECT_EQ(error.rfind(midi_ + "/broken.MID: ", 0), 0u) << error;
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(options_.output));
  EXPECT_FALSE(fs::exists(options_.output + ".tmp"));
  // An earlier output stays as it was.
  write("out.h5", "previous");
  EXPECT_NE(error_of(options_), "");
  EXPECT_EQ(read_file(options_.output), "previous");
  // Only bad files: no songs is an error, in skip mode too.
  const std::string bad = mkdir("bad");
  write("bad/a.mid", "MThd");
  PreparePianoRollOptions o;
  o.midi_dir = bad;
  o.output = dir_ + "/bad.h5";
  EXPECT_NE(error_of(o).find("no songs"), std::string::npos);
  EXPECT_FALSE(fs::exists(o.output + ".tmp"));
  o.midi_dir = mkdir("none");
  EXPECT_NE(error_of(o).find("no .mid or .midi files"), std::string::npos);
  o.midi_dir = dir_ + "/absent";
  EXPECT_NE(error_of(o).find("no such folder"), std::string::npos);
}

TEST_F(PreparePianoRollTest, SplitFoldersAndSecondsGrid) {
  mkdir("m/train");
  mkdir("m/test");
  std::vector<Frame> a(12);
  for (size_t i = 0; i < a.size(); ++i) a[i].set(40 + i - kLowestNote);
  const std::vector<Frame> b = tune(2, 6);
  write_midi(a, dir_ + "/m/train/a.mid", {4, 0.25});
  write_midi(b, dir_ + "/m/test/b.mid", {4, 0.25});
  write_midi(b, dir_ + "/m/stray.mid", {4, 0.25});
  PreparePianoRollOptions o;
  o.midi_dir = dir_ + "/m";
  o.output = dir_ + "/out.h5";
  o.seconds_per_frame = 0.5;  // coarser than written: every 2 frames become 1
  const nlohmann::json summary = prepare_pianoroll(o, log_);
  EXPECT_EQ(summary["splits"]["train"]["songs"], 1);
  EXPECT_EQ(summary["splits"]["test"]["songs"], 1);
  EXPECT_EQ(summary["splits"]["valid"]["songs"], 0);
  PianoRollReader r(o.output);
  EXPECT_EQ(r.name("train", 0), "train/a.mid");
  EXPECT_EQ(r.resolution().seconds_per_frame, 0.5);
  EXPECT_EQ(r.resolution().frames_per_quarter, 0);
  // Written: frame i (0.25 s) holds note 40+i alone. Read at 0.5 s, note i spans frames
  // [i/2, (i+1)/2): even i lands on frame i/2, odd i starts at a half and rounds up to (i+1)/2
  // (a note keeps at least one frame), so the last note makes a 7th frame.
  const std::vector<Frame> coarse = r.read_song("train", 0);
  ASSERT_EQ(coarse.size(), 7u);
  for (size_t k = 0; k < coarse.size(); ++k) {
    Frame want;
    if (2 * k < 12) want.set(40 + 2 * k - kLowestNote);
    if (k > 0) want.set(40 + 2 * k - 1 - kLowestNote);
    EXPECT_EQ(coarse[k], want) << k;
  }
  EXPECT_NE(log_.str().find("1 MIDI files outside them are ignored"), std::string::npos) << log_.str();
}

// Real data: the Boulanger-Lewandowski Nottingham split (shared/data/nottingham/README.md).
TEST_F(PreparePianoRollTest, SharedNottinghamTextSplit) {
  const char* root = std::getenv("CHORUS_SHARED_DATA");
  const std::string text = root ? std::string(root) + "/nottingham/boulanger" : "";
  if (!root || !fs::exists(text + "/train.txt")) {
    GTEST_SKIP() << "CHORUS_SHARED_DATA/nottingham/boulanger/train.txt not found (set CHORUS_SHARED_DATA)";
  }
  PreparePianoRollOptions o;
  o.text_dir = text;
  o.output = dir_ + "/nottingham.h5";
  const nlohmann::json s = prepare_pianoroll(o, log_)["splits"];
  EXPECT_EQ(s["train"]["songs"], 694);
  EXPECT_EQ(s["train"]["frames"], 176561);
  EXPECT_EQ(s["train"]["active"], 699403);
  EXPECT_EQ(s["valid"]["songs"], 173);
  EXPECT_EQ(s["valid"]["frames"], 45513);
  EXPECT_EQ(s["valid"]["active"], 180192);
  EXPECT_EQ(s["test"]["songs"], 0);  // kept aside upstream
  PianoRollReader r(o.output);
  int64_t longest = 0;
  for (int64_t i = 0; i < r.split("valid").songs(); ++i) longest = std::max(longest, r.split("valid").song_length(i));
  EXPECT_EQ(longest, 1473);
}

// Real MIDI: the jukedeck rendering of the Nottingham Music Database, a folder of 1034 tunes
// with two subfolders (melody/ 1034, chords/ 1021): walked to any depth, every file accounted for.
TEST_F(PreparePianoRollTest, SharedJukedeckMidiFolder) {
  const char* root = std::getenv("CHORUS_SHARED_DATA");
  const std::string midi = root ? std::string(root) + "/nottingham/jukedeck/MIDI" : "";
  if (!root || !fs::exists(midi + "/ashover1.mid")) {
    GTEST_SKIP() << "CHORUS_SHARED_DATA/nottingham/jukedeck/MIDI not found (set CHORUS_SHARED_DATA)";
  }
  PreparePianoRollOptions o;
  o.midi_dir = midi;
  o.output = dir_ + "/jukedeck.h5";
  o.on_bad_midi = OnBadMidi::kFail;
  const nlohmann::json summary = prepare_pianoroll(o, log_);
  const nlohmann::json& s = summary["splits"];
  int64_t songs = 0, accounted = 0;
  for (const char* split : {"train", "valid", "test"}) {
    songs += s[split]["songs"].get<int64_t>();
    accounted += s[split]["songs"].get<int64_t>() + s[split]["files_skipped"].get<int64_t>() +
                 s[split]["files_empty"].get<int64_t>() + s[split]["files_duplicate"].get<int64_t>();
    EXPECT_EQ(s[split]["dropped_out_of_range"], 0);
    EXPECT_EQ(s[split]["files_skipped"], 0);  // none is corrupt (and fail mode would have thrown)
  }
  EXPECT_EQ(summary["files"]["listed"], 1034 + 1034 + 1021);
  EXPECT_EQ(accounted, 1034 + 1034 + 1021);
  EXPECT_EQ(static_cast<int64_t>(summary["skipped"].size() + summary["duplicates"].size()), 1034 + 1034 + 1021 - songs);
  PianoRollReader r(o.output);
  int64_t top = 0;
  for (const char* split : {"train", "valid", "test"}) {
    for (int64_t i = 0; i < r.split(split).songs(); ++i) top += r.name(split, i).find('/') == std::string::npos;
    EXPECT_GT(s[split]["songs"].get<int64_t>(), 60);
  }
  // Every tune of the top folder but 5, byte-identical to another of its tunes (sha256sum
  // shows 5 digests twice among MIDI/*.mid): kept once each and listed as duplicates.
  EXPECT_EQ(top, 1029);
}

}  // namespace
}  // namespace chorus
