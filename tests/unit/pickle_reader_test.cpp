// Tests of the data-only pickle reader (data/pickle_reader.h) and `prepare pianoroll --pickle`:
// pickles written by Python's own pickle module (protocols 0, 2 and 4) give the same corpus as
// the text of the same songs; a pickle that names code is refused by name and never runs it;
// truncated, corrupt and wrongly shaped pickles are InputErrors naming the file; memo sharing
// cannot blow up the work.
#include "data/pickle_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "data/pianoroll_corpus.h"
#include "data/prepare_pianoroll.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
const char* const kPython = "/usr/bin/python3";

std::vector<std::vector<Frame>> songs(uint64_t seed, int n) {
  std::mt19937_64 engine(seed);
  std::vector<std::vector<Frame>> out(static_cast<size_t>(n));
  for (auto& song : out) {
    song.resize(1 + engine() % 40);
    for (Frame& f : song)
      for (int k = 0; k < 4; ++k)
        if (engine() % 3) f.set(engine() % kKeys);  // some frames silent, keys 0 and 87 included
  }
  out[0][0].set(0), out[0][0].set(87);
  return out;
}

using SplitSongs = std::map<std::string, std::vector<std::vector<Frame>>>;

SplitSongs parse(const std::string& bytes, const std::string& name = "t.pickle") {
  SplitSongs got;
  parse_pianoroll_pickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name,
                         [&](const std::string& split, std::vector<Frame> song) { got[split].push_back(song); });
  return got;
}

std::string error_of(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A protocol-2 pickle built by hand, the way Python writes one:
// {"valid": [[[60, 64], []]], "train": [[[21]], [[last_note]]]}.
std::string handmade(int last_note = 108) {
  std::string p = "\x80\x02}q\x00("s;              // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
  p += "X\x05\x00\x00\x00valid"s;                 // BINUNICODE
  p += "]q\x01]q\x02(]q\x03(K<K@e]q\x04" "ea";       // [[[60, 64], []]]: APPENDS, APPEND
  p += "U\x05train";                                // SHORT_BINSTRING (Python 2's str)
  p += "](" "](" "](K\x15" "e" "e";                 // the split list, song 1: [[21]]
  p += "](" "](M";                                  // song 2: [[last_note]] (BININT2)
  p += std::string(1, static_cast<char>(last_note & 0xff)) + std::string(1, static_cast<char>(last_note >> 8));
  p += "ee" "e" "u.";                                // APPENDS x3, SETITEMS, STOP
  return p;
}

TEST(PickleReaderTest, HandmadeProtocol2InSplitOrder) {
  const SplitSongs got = parse(handmade());
  ASSERT_EQ(got.at("train").size(), 2u);
  ASSERT_EQ(got.at("valid").size(), 1u);
  EXPECT_EQ(got.count("test"), 0u);
  EXPECT_TRUE(got.at("train")[0][0].test(0));
  EXPECT_TRUE(got.at("train")[1][0].test(87));
  ASSERT_EQ(got.at("valid")[0].size(), 2u);
  EXPECT_EQ(got.at("valid")[0][0].count(), 2u);
  EXPECT_TRUE(got.at("valid")[0][0].test(60 - 21) && got.at("valid")[0][0].test(64 - 21));
  EXPECT_EQ(got.at("valid")[0][1].count(), 0u);  // a silent frame
  std::vector<std::string> order;
  parse_pianoroll_pickle(reinterpret_cast<const uint8_t*>(handmade().data()), handmade().size(), "t",
                         [&](const std::string& split, std::vector<Frame>) { order.push_back(split); });
  EXPECT_EQ(order, (std::vector<std::string>{"train", "train", "valid"}));
}

TEST(PickleReaderTest, WrongShapesNameTheFileAndThePlace) {
  EXPECT_NE(error_of(handmade(300)).find("t.pickle: train[1][0]: note 300 is outside 21..108"), std::string::npos)
      << error_of(handmade(300));
  EXPECT_NE(error_of("\x80\x02]q\x00."s).find("t.pickle: the pickle holds no dict"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02}(U\x03" "foo]u.").find("a key \"foo\""), std::string::npos);
  EXPECT_NE(error_of("\x80\x02}(U\x05train](]eu.").find("train[0]: an empty song"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02}(U\x05train]((K<eaeu.").find("APPENDS on something that is not a list"),
            std::string::npos);
  EXPECT_NE(error_of("\x80\x02}(U\x05train](](](U\x01x" "eeeu.").find("train[0][0]: expected MIDI note numbers, found a string"),
            std::string::npos);
  EXPECT_NE(error_of("\x80\x02}.").find("none of train, valid, test"), std::string::npos);
}

TEST(PickleReaderTest, TruncatedAndCorruptPicklesAreInputErrors) {
  const std::string good = handmade();
  for (size_t n = 0; n < good.size(); ++n) {  // every prefix: an error, never a crash
    const std::string e = error_of(good.substr(0, n));
    EXPECT_EQ(e.rfind("t.pickle: ", 0), 0u) << n << ": " << e;
  }
  EXPECT_NE(error_of("").find("byte 0: truncated pickle (no STOP opcode)"), std::string::npos) << error_of("");
  EXPECT_NE(error_of("\x80\x02\xff.").find("byte 2: 0xff is not a pickle opcode"), std::string::npos);
  EXPECT_NE(error_of("\x80\x09}.").find("protocol 9"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02h\x07.").find("GET of memo entry 7"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02X\xff\xff\xff\x7f.").find("truncated pickle"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02" "e.").find("without a MARK"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02K\x01" "a.").find("APPEND on something that is not a list"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09.").find("an integer of 9 bytes"),
            std::string::npos);
}

TEST(PickleReaderTest, CodeOpcodesAreRefusedByName) {
  // Protocol 0's GLOBAL os\nsystem, REDUCE: refused at the GLOBAL, before anything is looked up.
  const std::string global = std::string("cos\nsystem\n(S'touch /tmp/chorus-pwned'\ntR.");
  const std::string e = error_of(global);
  EXPECT_NE(e.find("t.pickle: byte 0: pickle opcode GLOBAL (0x63) refused"), std::string::npos) << e;
  EXPECT_NE(e.find("never imports, builds or calls"), std::string::npos) << e;
  const std::pair<std::string, std::string> others[] = {
      {"\x80\x04\x8c\x02os\x8c\x06system\x93.", "STACK_GLOBAL (0x93)"},
      {"\x80\x02]R.", "REDUCE (0x52)"},
      {"\x80\x02]}b.", "BUILD (0x62)"},
      {"\x80\x02]]\x81.", "NEWOBJ (0x81)"},
      {"(ios\nsystem\n.", "INST (0x69)"},
      {"\x80\x02(]o.", "OBJ (0x6f)"},
      {"\x80\x02P1\n.", "PERSID (0x50)"},
      {"\x80\x02\x82\x01.", "EXT1 (0x82)"},
      {"\x80\x02]2.", "DUP (0x32)"},
  };
  for (const auto& [bytes, name] : others) EXPECT_NE(error_of(bytes).find(name), std::string::npos) << name << ": " << error_of(bytes);
}

TEST(PickleReaderTest, MemoSharingCannotMultiplyTheWork) {
  // One frame of 50 notes shared through the memo by 200 frames of a song, itself shared by
  // 10,000 songs: 100 million notes from a 20 KB file. The guard refuses it.
  std::string p = "\x80\x02}(U\x05train](" "](" "](";
  for (int i = 0; i < 50; ++i) p += "K<";
  p += "e" "q\x01";  // the frame, remembered as 1
  for (int i = 0; i < 199; ++i) p += "h\x01";
  p += "e" "q\x02";  // the song of 200 shared frames, remembered as 2
  for (int i = 0; i < 9999; ++i) p += "h\x02";
  p += "e" "u.";
  EXPECT_NE(error_of(p).find("holds more frames and notes than a file of its size can"), std::string::npos)
      << error_of(p);
  // Sharing within the guard's allowance is data like any other: [[f, f, f], [f, f, f]].
  const std::string small = "\x80\x02}(U\x05train](" "](" "](K<e" "q\x01" "h\x01h\x01" "e" "q\x02" "h\x02" "e" "u.";
  const SplitSongs got = parse(small);
  ASSERT_EQ(got.at("train").size(), 2u);
  EXPECT_EQ(got.at("train")[1].size(), 3u);
  EXPECT_TRUE(got.at("train")[1][2].test(60 - 21));
}

class PicklePrepareTest : public testing::TempDirTest {
 protected:
  // Runs /usr/bin/python3 on `script`; false when it is not installed.
  bool python(const std::string& script) {
    if (!fs::exists(kPython)) return false;
    const std::string file = write("script.py", script);
    const std::string cmd = std::string(kPython) + " " + file + " > " + dir_ + "/python.log 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << read_file(dir_ + "/python.log");
    return true;
  }
  // The text of the splits, and a Python script that reads that text the way
  // shared/data/PIANOROLL_FORMAT.md says and pickles it with `protocol`.
  std::string text_and_script(int protocol) {
    fs::create_directories(dir_ + "/text");
    write("text/train.txt", format_pianoroll_text(songs(1, 30)));
    write("text/valid.txt", format_pianoroll_text(songs(2, 7)));
    write("text/test.txt", format_pianoroll_text(songs(3, 5)));
    return "import pickle\n"
           "data = {}\n"
           "for split in ('test', 'train', 'valid'):\n"
           "    songs, cur = [], []\n"
           "    for line in open('" + dir_ + "/text/' + split + '.txt').read().split('\\n')[:-1]:\n"
           "        if line == '': songs.append(cur); cur = []\n"
           "        elif line == '-': cur.append([])\n"
           "        else: cur.append([int(t) for t in line.split(' ')])\n"
           "    data[split] = songs\n"
           "pickle.dump(data, open('" + dir_ + "/data.pickle', 'wb'), protocol=" + std::to_string(protocol) + ")\n";
  }
  std::ostringstream log_;
};

TEST_F(PicklePrepareTest, PythonPicklesGiveTheSameCorpusAsTheText) {
  PreparePianoRollOptions text;
  text.text_dir = dir_ + "/text";
  text.output = dir_ + "/text.h5";
  for (int protocol : {2, 0, 4}) {
    if (!python(text_and_script(protocol))) GTEST_SKIP() << kPython << " not installed: cannot write a pickle with Python";
    if (protocol == 2) prepare_pianoroll(text, log_);
    PreparePianoRollOptions o;
    o.pickle = dir_ + "/data.pickle";
    o.output = dir_ + "/pickle.h5";
    const nlohmann::json summary = prepare_pianoroll(o, log_);
    EXPECT_EQ(summary["source_kind"], "pickle");
    PianoRollReader a(text.output), b(o.output);
    for (const char* s : {"train", "valid", "test"}) {
      ASSERT_EQ(a.split(s).songs(), b.split(s).songs()) << s << " protocol " << protocol;
      for (int64_t i = 0; i < a.split(s).songs(); ++i)
        EXPECT_EQ(a.read_song(s, i), b.read_song(s, i)) << s << " " << i << " protocol " << protocol;
    }
    EXPECT_EQ(b.info()["source_sha256"]["data.pickle"], sha256_file(o.pickle));
  }
}

TEST_F(PicklePrepareTest, AReducePayloadIsRefusedNamingTheFileAndDoesNotRun) {
  const std::string marker = dir_ + "/ran";
  if (!python("import os, pickle\n"
              "class Payload:\n"
              "    def __reduce__(self): return (os.system, ('touch " + marker + "',))\n"
              "pickle.dump({'train': [[[60]]], 'valid': Payload()}, open('" + dir_ + "/evil.pickle', 'wb'), protocol=2)\n")) {
    GTEST_SKIP() << kPython << " not installed: cannot write a pickle with Python";
  }
  PreparePianoRollOptions o;
  o.pickle = dir_ + "/evil.pickle";
  o.output = dir_ + "/out.h5";
  std::string error;
  try {
    prepare_pianoroll(o, log_);
  } catch (const InputError& e) {
    error = e.what();
  }
  EXPECT_EQ(error.rfind(o.pickle + ": byte ", 0), 0u) << error;
  EXPECT_NE(error.find("pickle opcode GLOBAL (0x63) refused"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(marker)) << "the payload ran";
  EXPECT_FALSE(fs::exists(o.output));
  EXPECT_FALSE(fs::exists(o.output + ".tmp"));
  o.pickle = dir_ + "/absent.pickle";
  EXPECT_THROW(prepare_pianoroll(o, log_), InputError);
}

}  // namespace
}  // namespace chorus
