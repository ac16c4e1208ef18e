// Tests of MIDI collections (data/midi_collection.h) through `prepare pianoroll --midi`: nested
// folders walked, split by relative path (adding files moves no old song), the same corpus and
// summary whatever the thread count, byte-identical files kept once and listed, every skipped
// file listed with its reason, link loops and split folders at any depth.
#include "data/midi_collection.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "data/errors.h"
#include "data/hash.h"
#include "data/pianoroll_corpus.h"
#include "data/prepare_pianoroll.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

std::vector<Frame> tune(uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<Frame> frames(4 + engine() % 30);
  for (Frame& f : frames) f.set(20 + engine() % 50);
  return frames;
}

// A note-on/off pair on `channel` (0-based) for `note`, as a whole format-0 file.
std::string one_note_file(int channel, int note) {
  std::string track = {0, static_cast<char>(0x90 | channel), static_cast<char>(note), 0x64, 0x18,
                       static_cast<char>(0x80 | channel), static_cast<char>(note), 0, 0, '\xff', 0x2f, 0};
  return std::string("MThd\0\0\0\6\0\0\0\1\0\x60MTrk\0\0\0", 21) + static_cast<char>(track.size()) + track;
}

class MidiCollectionTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    root_ = dir_ + "/lakh";
    for (int i = 0; i < 60; ++i) {  // nested like the Lakh set: 0/ .. f/ and deeper
      const std::string sub = std::string(1, "0123456789abcdef"[i % 16]) + (i % 3 == 0 ? "/deep/er" : "");
      fs::create_directories(root_ + "/" + sub);
      const std::string name = sub + "/tune" + std::to_string(i) + (i % 4 == 0 ? ".MIDI" : ".mid");
      tunes_[name] = tune(static_cast<uint64_t>(i));
      write_midi(tunes_[name], root_ + "/" + name, {});
    }
    fs::copy_file(root_ + "/1/tune1.mid", root_ + "/9/copy-of-1.mid");  // a byte-identical copy
    const std::string good = encode_midi(tune(99), {});
    write("lakh/2/broken.mid", good.substr(0, good.size() - 5));
    write("lakh/3/drums.mid", one_note_file(9, 36));
    write("lakh/4/low.mid", one_note_file(0, 12));  // below A0
    write("lakh/5/silent.mid", std::string("MThd\0\0\0\6\0\0\0\1\0\x60MTrk\0\0\0\4\0\xff\x2f\0", 26));
    write("lakh/5/readme.txt", "not MIDI, not listed");
    options_.midi_dir = root_;
    options_.output = dir_ + "/out.h5";
    options_.valid_fraction = 0.2;
    options_.test_fraction = 0.2;
  }
  nlohmann::json prepare(int threads, const std::string& output) {
    options_.threads = threads;
    options_.output = output;
    return prepare_pianoroll(options_, log_);
  }
  std::string root_;
  std::map<std::string, std::vector<Frame>> tunes_;
  PreparePianoRollOptions options_;
  std::ostringstream log_;
};

TEST_F(MidiCollectionTest, NestedFoldersSplitByRelativePathWithEverySkipListed) {
  const nlohmann::json summary = prepare(2, dir_ + "/out.h5");
  PianoRollReader r(options_.output);
  int64_t songs = 0;
  for (const char* s : {"train", "valid", "test"}) {
    for (int64_t i = 0; i < r.split(s).songs(); ++i, ++songs) {
      const std::string name = r.name(s, i);
      ASSERT_TRUE(tunes_.count(name)) << name;
      EXPECT_EQ(split_of_key(name, 0.2, 0.2), std::string(s)) << name;
      EXPECT_EQ(r.read_song(s, i), tunes_[name]) << name;
    }
  }
  EXPECT_EQ(songs, 60);
  EXPECT_EQ(summary["files"]["listed"], 60 + 5);
  std::map<std::string, std::string> reasons;
  for (const auto& s : summary["skipped"]) reasons[s["file"].get<std::string>().substr(root_.size() + 1)] = s["reason"];
  EXPECT_EQ(reasons, (std::map<std::string, std::string>{{"2/broken.mid", "corrupt"}, {"3/drums.mid", "drums only"},
                                                         {"4/low.mid", "out of range"}, {"5/silent.mid", "empty"}}));
  ASSERT_EQ(summary["duplicates"].size(), 1u);
  EXPECT_EQ(summary["duplicates"][0]["file"], root_ + "/9/copy-of-1.mid");
  EXPECT_EQ(summary["duplicates"][0]["same_as"], root_ + "/1/tune1.mid");
  int64_t duplicate = 0, skipped = 0, empty = 0;
  for (const char* s : {"train", "valid", "test"}) {
    duplicate += summary["splits"][s]["files_duplicate"].get<int64_t>();
    skipped += summary["splits"][s]["files_skipped"].get<int64_t>();
    empty += summary["splits"][s]["files_empty"].get<int64_t>();
  }
  EXPECT_EQ(duplicate, 1);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(empty, 3);
  EXPECT_NE(log_.str().find("duplicate " + root_ + "/9/copy-of-1.mid (same bytes as " + root_ + "/1/tune1.mid)"),
            std::string::npos) << log_.str();
}

TEST_F(MidiCollectionTest, TheSameCorpusAndSummaryWhateverTheThreads) {
  nlohmann::json one = prepare(1, dir_ + "/one.h5"), many = prepare(7, dir_ + "/many.h5");
  one.erase("output"), many.erase("output");
  EXPECT_EQ(one, many);
  PianoRollReader a(dir_ + "/one.h5"), b(dir_ + "/many.h5");
  for (const char* s : {"train", "valid", "test"}) {
    ASSERT_EQ(a.split(s).songs(), b.split(s).songs());
    for (int64_t i = 0; i < a.split(s).songs(); ++i) {
      EXPECT_EQ(a.name(s, i), b.name(s, i));
      EXPECT_EQ(a.read_song(s, i), b.read_song(s, i));
    }
  }
  EXPECT_GE(midi_reader_threads(0), 1);
  EXPECT_EQ(midi_reader_threads(3), 3);
}

TEST_F(MidiCollectionTest, AProgressLineOnlyWhenAsked) {
  prepare(2, dir_ + "/quiet.h5");
  EXPECT_EQ(log_.str().find("reading MIDI:"), std::string::npos);
  options_.progress = true;  // the launcher sets it when stderr is a terminal
  prepare(2, dir_ + "/progress.h5");
  EXPECT_NE(log_.str().find("\rreading MIDI: 65 / 65 files (100%), 4 skipped, 1 duplicates"), std::string::npos)
      << log_.str();
}

TEST_F(MidiCollectionTest, AddingFilesMovesNoOldSong) {
  prepare(0, dir_ + "/before.h5");
  for (int i = 0; i < 40; ++i) {  // new files sorting before, between and after the old ones
    fs::create_directories(root_ + "/0/new");
    write_midi(tune(1000 + i), root_ + "/" + (i % 2 ? "0/new/" : "") + "a" + std::to_string(i) + ".mid", {});
  }
  prepare(0, dir_ + "/after.h5");
  PianoRollReader before(dir_ + "/before.h5"), after(dir_ + "/after.h5");
  std::map<std::string, std::string> split_after;
  for (const char* s : {"train", "valid", "test"})
    for (int64_t i = 0; i < after.split(s).songs(); ++i) split_after[after.name(s, i)] = s;
  for (const char* s : {"train", "valid", "test"})
    for (int64_t i = 0; i < before.split(s).songs(); ++i) EXPECT_EQ(split_after.at(before.name(s, i)), s);
}

TEST_F(MidiCollectionTest, FailModeLinkLoopsAndSplitFolders) {
  options_.on_bad_midi = OnBadMidi::kFail;
  try {
    prepare(2, dir_ + "/fail.h5");
    ADD_FAILURE() << "a corrupt file in fail mode must stop the preparation";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(root_ + "/2/broken.mid: ", 0), 0u) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/fail.h5") || fs::exists(dir_ + "/fail.h5.tmp"));
  options_.on_bad_midi = OnBadMidi::kSkip;
  fs::create_directory_symlink(root_, root_ + "/a/loop");  // a link back to the top: not followed
  EXPECT_EQ(list_midi_collection(root_, 0.2, 0.2).files.size(), 65u);

  const std::string split_root = dir_ + "/split";
  fs::create_directories(split_root + "/train/x/y");
  fs::create_directories(split_root + "/valid");
  fs::create_directories(split_root + "/other");
  write_midi(tune(1), split_root + "/train/x/y/a.mid", {});
  write_midi(tune(2), split_root + "/valid/b.mid", {});
  write_midi(tune(3), split_root + "/other/c.mid", {});
  write_midi(tune(4), split_root + "/d.mid", {});
  const MidiCollection c = list_midi_collection(split_root, 0.5, 0.5);
  ASSERT_EQ(c.files.size(), 2u);
  EXPECT_EQ(c.files[0].name, "train/x/y/a.mid");
  EXPECT_STREQ(c.files[0].split, "train");
  EXPECT_EQ(c.files[1].name, "valid/b.mid");
  EXPECT_STREQ(c.files[1].split, "valid");
  EXPECT_EQ(c.ignored, 2);
  EXPECT_THROW(list_midi_collection(dir_ + "/absent", 0, 0), InputError);
  fs::create_directories(dir_ + "/none/sub");
  EXPECT_THROW(list_midi_collection(dir_ + "/none", 0, 0), InputError);
}

TEST_F(MidiCollectionTest, AConsumerErrorStopsTheReaders) {
  const MidiCollection c = list_midi_collection(root_, 0.2, 0.2);
  size_t seen = 0;
  EXPECT_THROW(read_midi_collection(c, {}, 4, [&](size_t i, MidiFileRead&) {
                 EXPECT_EQ(i, seen++);
                 if (i == 10) throw InputError("stop");
               }),
               InputError);
  EXPECT_EQ(seen, 11u);
}

}  // namespace
}  // namespace chorus
