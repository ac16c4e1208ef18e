// Tests of the benchmark .mat reader (data/mat_reader.h) and `prepare pianoroll --mat`: files
// written here with matio (v5 compressed, v7.3, several numeric classes) read back as written;
// wrong shapes, values, variables and truncated or foreign files are InputErrors naming the file;
// and, with CHORUS_SHARED_DATA, the published MuseData.mat and Piano_midi.mat give the same songs,
// frames and keys per split as the text converted from them.
#include "data/mat_reader.h"

#include <gtest/gtest.h>
#include <matio.h>

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
using SplitSongs = std::map<std::string, std::vector<std::vector<Frame>>>;

SplitSongs random_splits(uint64_t seed) {
  std::mt19937_64 engine(seed);
  SplitSongs out;
  for (const auto& [split, n] : {std::pair<const char*, int>{"train", 9}, {"valid", 3}, {"test", 2}}) {
    for (int s = 0; s < n; ++s) {
      std::vector<Frame> song(1 + engine() % 50);
      for (Frame& f : song)
        for (int k = 0; k < 3; ++k)
          if (engine() % 2) f.set(engine() % kKeys);
      out[split].push_back(song);
    }
  }
  out["train"][0][0].set(0), out["train"][0][0].set(87);
  return out;
}

// How write_mat spoils its output, to test the reader's checks.
struct Spoil {
  matio_classes cls = MAT_C_DOUBLE;
  int columns = kKeys;
  double one = 1;             // the value written for a sounding key
  bool skip_test = false;     // leave testdata out
  bool struct_valid = false;  // validdata as a numeric matrix instead of a cell array
};

void write_mat(const std::string& path, const SplitSongs& splits, mat_ft version = MAT_FT_MAT5,
               const Spoil& spoil = {}) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, version);
  ASSERT_NE(mat, nullptr);
  for (const auto& [var, split] : {std::pair<const char*, const char*>{"traindata", "train"},
                                   {"validdata", "valid"}, {"testdata", "test"}}) {
    if (spoil.skip_test && std::string(split) == "test") continue;
    const auto& songs = splits.at(split);
    if (spoil.struct_valid && std::string(split) == "valid") {
      size_t dims[2] = {1, 1};
      double zero = 0;
      matvar_t* v = Mat_VarCreate(var, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, &zero, 0);
      Mat_VarWrite(mat, v, MAT_COMPRESSION_ZLIB);
      Mat_VarFree(v);
      continue;
    }
    size_t dims[2] = {1, songs.size()};
    matvar_t* cell = Mat_VarCreate(var, MAT_C_CELL, MAT_T_CELL, 2, dims, nullptr, 0);
    for (size_t i = 0; i < songs.size(); ++i) {
      const size_t rows = songs[i].size(), cols = static_cast<size_t>(spoil.columns);
      std::vector<double> d(rows * cols, 0.0);
      for (size_t r = 0; r < rows; ++r)
        for (size_t k = 0; k < cols && k < static_cast<size_t>(kKeys); ++k)
          if (songs[i][r][k]) d[k * rows + r] = spoil.one;  // column-major
      size_t sd[2] = {rows, cols};
      matvar_t* v = nullptr;
      if (spoil.cls == MAT_C_UINT8) {
        std::vector<uint8_t> u(d.begin(), d.end());
        v = Mat_VarCreate(nullptr, MAT_C_UINT8, MAT_T_UINT8, 2, sd, u.data(), MAT_F_LOGICAL);
      } else {
        v = Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, sd, d.data(), 0);
      }
      Mat_VarSetCell(cell, static_cast<int>(i), v);
    }
    ASSERT_EQ(Mat_VarWrite(mat, cell, version == MAT_FT_MAT73 ? MAT_COMPRESSION_NONE : MAT_COMPRESSION_ZLIB), 0);
    Mat_VarFree(cell);
  }
  Mat_Close(mat);
}

SplitSongs read(const std::string& path) {
  SplitSongs got;
  read_pianoroll_mat(path, [&](const std::string& split, std::vector<Frame> song) { got[split].push_back(song); });
  return got;
}

class MatReaderTest : public testing::TempDirTest {
 protected:
  std::string error_of(const std::string& path) {
    try {
      read(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  std::ostringstream log_;
};

TEST_F(MatReaderTest, ReadsWhatMatioWroteInEveryLayout) {
  const SplitSongs want = random_splits(3);
  const std::string v5 = dir_ + "/v5.mat", v73 = dir_ + "/v73.mat", logical = dir_ + "/logical.mat";
  write_mat(v5, want);
  EXPECT_EQ(read(v5), want);
  write_mat(v73, want, MAT_FT_MAT73);
  EXPECT_EQ(read(v73), want);
  Spoil u8;
  u8.cls = MAT_C_UINT8;
  write_mat(logical, want, MAT_FT_MAT5, u8);
  EXPECT_EQ(read(logical), want);
}

TEST_F(MatReaderTest, WrongShapesValuesAndVariablesNameTheFile) {
  const SplitSongs songs = random_splits(4);
  const std::string path = dir_ + "/bad.mat";
  Spoil s;
  s.columns = 87;
  write_mat(path, songs, MAT_FT_MAT5, s);
  EXPECT_NE(error_of(path).find(path + ": traindata{1}: a "), std::string::npos) << error_of(path);
  EXPECT_NE(error_of(path).find(" x 87 matrix; a song is frames x 88"), std::string::npos) << error_of(path);
  s = Spoil{};
  s.one = 2;
  write_mat(path, songs, MAT_FT_MAT5, s);
  EXPECT_NE(error_of(path).find("holds 2.000000; a piano roll holds 0 or 1"), std::string::npos) << error_of(path);
  SplitSongs long_song = songs;
  long_song["valid"][1].resize(kMaxMatSongFrames + 1);
  write_mat(path, long_song);
  EXPECT_NE(error_of(path).find(path + ": validdata{2}: 65537 frames, over the limit of 65536"), std::string::npos)
      << error_of(path);
  s = Spoil{};
  s.skip_test = true;
  write_mat(path, songs, MAT_FT_MAT5, s);
  EXPECT_NE(error_of(path).find(path + ": testdata: no such variable"), std::string::npos) << error_of(path);
  s = Spoil{};
  s.struct_valid = true;
  write_mat(path, songs, MAT_FT_MAT5, s);
  EXPECT_NE(error_of(path).find(path + ": validdata: not a cell array of songs"), std::string::npos) << error_of(path);
}

TEST_F(MatReaderTest, TruncatedForeignAndMissingFilesAreInputErrors) {
  const std::string good = dir_ + "/good.mat";
  write_mat(good, random_splits(5));
  const std::string bytes = read_file(good);
  for (size_t n : {size_t{0}, size_t{64}, size_t{128}, size_t{200}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 40,
                   bytes.size() - 1}) {
    const std::string cut = write("cut.mat", bytes.substr(0, n));
    const std::string e = error_of(cut);
    EXPECT_EQ(e.rfind(cut + ": ", 0), 0u) << n << " bytes: " << e;
  }
  std::string flipped = bytes;
  for (size_t i = 200; i < flipped.size(); i += 97) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  const std::string corrupt = write("corrupt.mat", flipped);
  EXPECT_EQ(error_of(corrupt).rfind(corrupt + ": ", 0), 0u) << error_of(corrupt);
  const std::string text = write("text.mat", "60 64\n\n");
  EXPECT_NE(error_of(text).find(text + ": not a MATLAB v5 or v7.3 file"), std::string::npos) << error_of(text);
  EXPECT_NE(error_of(dir_ + "/absent.mat").find("absent.mat: --mat: no such file"), std::string::npos);
}

// A v5 file of one uncompressed variable, byte by byte: class `cls`, dimensions `dims`, no data.
std::string forged_mat(uint32_t cls, std::vector<uint32_t> dims) {
  auto u32 = [](uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  std::string head = "MATLAB 5.0 MAT-file, forged";
  head.resize(116, ' ');
  head += std::string(8, '\0') + u32(0x4d490100).substr(0, 2) + "IM";
  std::string body = u32(6) + u32(8) + u32(cls) + u32(0) + u32(5) + u32(4 * static_cast<uint32_t>(dims.size()));
  for (uint32_t d : dims) body += u32(d);
  if (dims.size() % 2) body += u32(0);
  body += u32(1) + u32(8) + "traindat";
  return head + u32(14) + u32(static_cast<uint32_t>(body.size())) + body;
}

TEST_F(MatReaderTest, ForgedHeadersAreRefusedBeforeMatioReadsThem) {
  // matio would allocate a pointer per cell the header claims (16 MB here, gigabytes if asked).
  const std::string many = write("many.mat", forged_mat(MAT_C_CELL, {1, 2000000}));
  EXPECT_NE(error_of(many).find(many + ": data element 1 (byte 128): 2000000 cells in 0 bytes, over the limit of 65536"),
            std::string::npos)
      << error_of(many);
  const std::string few = write("few.mat", forged_mat(MAT_C_CELL, {1, 60000}));  // in 48 bytes
  EXPECT_NE(error_of(few).find(few + ": data element 1 (byte 128): 60000 cells in 0 bytes"), std::string::npos)
      << error_of(few);
  const std::string structure = write("struct.mat", forged_mat(MAT_C_STRUCT, {1, 1}));
  EXPECT_NE(error_of(structure).find("a MATLAB struct where a benchmark file holds cell arrays"), std::string::npos)
      << error_of(structure);
  const std::string rank = write("rank.mat", forged_mat(MAT_C_CELL, {1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_NE(error_of(rank).find("a malformed array header"), std::string::npos) << error_of(rank);
  // A name length of a gigabyte (matio would allocate it), in an otherwise good file.
  std::string name = forged_mat(MAT_C_DOUBLE, {0, 0});
  name.replace(name.size() - 12, 4, std::string("\x10\0\0\x40", 4));
  const std::string named = write("name.mat", name);
  EXPECT_NE(error_of(named).find(named + ": data element 1 (byte 128): a malformed array header"), std::string::npos)
      << error_of(named);
}

TEST_F(MatReaderTest, PrepareWritesTheSameCorpusAsTextAndNothingOnError) {
  const SplitSongs songs = random_splits(6);
  fs::create_directories(dir_ + "/text");
  for (const auto& [split, list] : songs) write("text/" + split + ".txt", format_pianoroll_text(list));
  write_mat(dir_ + "/songs.mat", songs);
  PreparePianoRollOptions text, mat;
  text.text_dir = dir_ + "/text";
  text.output = dir_ + "/text.h5";
  mat.mat = dir_ + "/songs.mat";
  mat.output = dir_ + "/mat.h5";
  const nlohmann::json a = prepare_pianoroll(text, log_), b = prepare_pianoroll(mat, log_);
  EXPECT_EQ(a["splits"], b["splits"]);
  EXPECT_EQ(b["source_kind"], "mat");
  PianoRollReader r(mat.output);
  EXPECT_EQ(r.info()["source_sha256"]["songs.mat"], sha256_file(mat.mat));
  EXPECT_EQ(r.resolution().time_unit(), "unknown");
  mat.seconds_per_frame = 0.3;
  EXPECT_THROW(prepare_pianoroll(mat, log_), InputError);
  mat.seconds_per_frame = 0;
  write("songs.mat", read_file(dir_ + "/songs.mat").substr(0, 300));
  mat.output = dir_ + "/cut.h5";
  EXPECT_THROW(prepare_pianoroll(mat, log_), InputError);
  EXPECT_FALSE(fs::exists(mat.output));
  EXPECT_FALSE(fs::exists(mat.output + ".tmp"));
}

// The published files (shared/data/*/README.md): the text there was converted from them.
TEST_F(MatReaderTest, SharedMatFilesEqualTheirText) {
  const char* root = std::getenv("CHORUS_SHARED_DATA");
  const std::pair<const char*, const char*> sets[] = {{"musedata", "MuseData.mat"},
                                                      {"piano-midi-de", "Piano_midi.mat"}};
  for (const auto& [folder, file] : sets) {
    const std::string dir = root ? std::string(root) + "/" + folder : "";
    if (!root || !fs::exists(dir + "/" + file) || !fs::exists(dir + "/train.txt")) {
      GTEST_SKIP() << "CHORUS_SHARED_DATA/" << folder << "/" << file << " not found (set CHORUS_SHARED_DATA)";
    }
    PreparePianoRollOptions text, mat;
    text.text_dir = dir;
    text.output = dir_ + "/text.h5";
    mat.mat = dir + "/" + file;
    mat.output = dir_ + "/mat.h5";
    const nlohmann::json a = prepare_pianoroll(text, log_)["splits"], b = prepare_pianoroll(mat, log_)["splits"];
    EXPECT_EQ(a, b) << folder;
    PianoRollReader x(text.output), y(mat.output);
    for (const char* s : {"train", "valid", "test"}) {
      ASSERT_EQ(x.split(s).songs(), y.split(s).songs()) << folder << " " << s;
      EXPECT_GT(x.split(s).songs(), 0) << folder << " " << s;
      for (int64_t i = 0; i < x.split(s).songs(); ++i)
        ASSERT_EQ(x.read_song(s, i), y.read_song(s, i)) << folder << " " << s << " song " << i;
    }
  }
  EXPECT_EQ(prepare_pianoroll([&] {
              PreparePianoRollOptions o;
              o.mat = std::string(root) + "/musedata/MuseData.mat";
              o.output = dir_ + "/muse.h5";
              return o;
            }(), log_)["splits"]["train"]["frames"],
            245202);  // shared/data/musedata/README.md
}

}  // namespace
}  // namespace chorus
