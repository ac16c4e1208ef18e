// Tests of the HDF5 corpus (data/corpus.h): round trip, schema and structure checks, per-song
// hyperslab reads, and that an uncommitted writer leaves no file.
#include "data/corpus.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "data/errors.h"
#include "data/hdf5_util.h"

namespace chorus {
namespace {

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "chorus_corpus_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/c.h5";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // train: 3 songs (one long), valid: 1 song, test: empty.
  void write_small(const std::string& path) {
    CorpusWriter w(path, vocab_, artists_, {{"source", "in.csv"}, {"source_sha256", "abc"},
                                            {"options", nlohmann::json{{"min_songs", 1}}}});
    w.add_song("train", 0, "One", {2, 3, 4});
    w.add_song("train", 2, "Caf\xC3\xA9", long_song_);
    w.add_song("valid", 1, "V", {5, 1, 2});
    w.add_song("train", 1, "Three", {6});
    w.commit();
  }
  // Replaces a string attribute of the root group (to fake files from other versions).
  void set_root_attr(const std::string& name, const std::string& value, int int_value = 0) {
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    H5Adelete(f, name.c_str());
    if (value.empty()) {
      h5::write_int_attr(f, name, int_value, path_);
    } else {
      h5::write_string_attr(f, name, value, path_);
    }
    H5Fclose(f);
  }
  void overwrite_int64(const std::string& dataset, int64_t index, int64_t value) {
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
    ASSERT_GE(d, 0);
    hid_t fs = H5Dget_space(d);
    hsize_t start = index, count = 1;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
    hid_t ms = H5Screate_simple(1, &count, nullptr);
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &value), 0);
    H5Sclose(ms), H5Sclose(fs), H5Dclose(d), H5Fclose(f);
  }
  std::string open_error() {
    try {
      CorpusReader r(path_);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

  std::string dir_, path_;
  Vocab vocab_{{U'a', U'b', U'c', U'\n', char32_t{0xE9}}};  // size 7
  std::vector<std::string> artists_{"ABBA", "", "Bj\xC3\xB6rk"};
  std::vector<int32_t> long_song_ = [] {
    std::vector<int32_t> s(200000);
    for (size_t i = 0; i < s.size(); ++i) s[i] = 1 + static_cast<int32_t>(i % 6);
    return s;
  }();
};

TEST_F(CorpusTest, RoundTrip) {
  write_small(path_);
  CorpusReader r(path_);
  EXPECT_EQ(r.vocab(), vocab_);
  EXPECT_EQ(r.artists(), artists_);
  ASSERT_TRUE(r.has_split("train") && r.has_split("valid") && r.has_split("test"));
  const SplitIndex& train = r.split("train");
  EXPECT_EQ(train.offsets, (std::vector<int64_t>{0, 3, 200003, 200004}));
  EXPECT_EQ(train.artist, (std::vector<int32_t>{0, 2, 1}));
  EXPECT_EQ(r.split("test").songs(), 0);
  EXPECT_EQ(r.split("test").symbols(), 0);
  EXPECT_EQ(r.read_song("train", 0), (std::vector<int32_t>{2, 3, 4}));
  EXPECT_EQ(r.read_song("train", 1), long_song_);
  EXPECT_EQ(r.read_song("train", 2), (std::vector<int32_t>{6}));
  EXPECT_EQ(r.read_song("valid", 0), (std::vector<int32_t>{5, 1, 2}));
  EXPECT_EQ(r.title("train", 1), "Caf\xC3\xA9");
  const nlohmann::json info = r.info();
  EXPECT_EQ(info["format"], kLyricsFormat);
  EXPECT_EQ(info["version"], kLyricsFormatVersion);
  EXPECT_EQ(info["source_sha256"], "abc");
  EXPECT_EQ(info["options"]["min_songs"], 1);
  EXPECT_EQ(info["vocab_size"], 7);
  EXPECT_EQ(info["splits"]["train"]["songs"], 3);
  EXPECT_EQ(info["splits"]["train"]["symbols"], 200004);
  EXPECT_FALSE(info["created"].get<std::string>().empty());
  EXPECT_THROW(r.split("dev"), InputError);
  EXPECT_THROW(r.read_song("train", 3), std::out_of_range);
}

TEST_F(CorpusTest, ReadSongReadsOnlyThatSong) {
  write_small(path_);
  CorpusReader r(path_);
  EXPECT_EQ(r.symbols_read(), 0);  // opening reads the index, not the symbols
  r.read_song("train", 2);
  EXPECT_EQ(r.symbols_read(), 1);
  r.read_song("train", 0);
  EXPECT_EQ(r.symbols_read(), 4);
  r.read_song("train", 1);
  EXPECT_EQ(r.symbols_read(), 200004);
}

TEST_F(CorpusTest, UncommittedWriterRemovesItsFile) {
  {
    CorpusWriter w(path_, vocab_, artists_, nlohmann::json::object());
    w.add_song("train", 0, "t", {2, 3});
    EXPECT_TRUE(std::filesystem::exists(path_));
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
  {
    CorpusWriter w(path_, vocab_, artists_, nlohmann::json::object());
    EXPECT_THROW(w.add_song("train", 3, "bad artist", {2}), std::invalid_argument);
    EXPECT_THROW(w.add_song("train", 0, "bad symbol", {7}), std::invalid_argument);
    EXPECT_THROW(w.add_song("dev", 0, "bad split", {2}), std::invalid_argument);
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_THROW(CorpusWriter(dir_ + "/no/such/dir/c.h5", vocab_, artists_, {}), InputError);
}

TEST_F(CorpusTest, WrongFormatIsRejectedWithAHint) {
  write_small(path_);
  set_root_attr("format", "chorus-pianoroll");
  const std::string msg = open_error();
  EXPECT_NE(msg.find(path_), std::string::npos) << msg;
  EXPECT_NE(msg.find("re-run chorus prepare"), std::string::npos) << msg;
}

// The type of /<split>/symbols on disk: (class, bytes, signed).
std::tuple<H5T_class_t, size_t, H5T_sign_t> symbol_type(const std::string& path) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "train/symbols", H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  const auto out = std::make_tuple(H5Tget_class(t), H5Tget_size(t), H5Tget_sign(t));
  H5Tclose(t), H5Dclose(d), H5Fclose(f);
  return out;
}

TEST_F(CorpusTest, SymbolsTakeTheSmallestTypeThatHoldsTheVocabulary) {
  write_small(path_);  // 7 symbols: one byte each
  EXPECT_EQ(symbol_type(path_), std::make_tuple(H5T_INTEGER, size_t{1}, H5T_SGN_NONE));
  std::vector<char32_t> cps(300);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = static_cast<char32_t>(0x100 + i);
  const Vocab wide(cps);  // 302 symbols: two bytes
  std::vector<int32_t> song;
  for (int32_t id = 1; id < wide.size(); ++id) song.push_back(id);
  {
    CorpusWriter w(path_, wide, artists_, {});
    EXPECT_EQ(w.symbol_bytes(), 2u);
    w.add_song("train", 0, "all", song);
    w.commit();
  }
  EXPECT_EQ(symbol_type(path_), std::make_tuple(H5T_INTEGER, size_t{2}, H5T_SGN_NONE));
  CorpusReader r(path_);
  EXPECT_EQ(r.read_song("train", 0), song);
  EXPECT_EQ(r.info()["version"], 2);
}

TEST_F(CorpusTest, Version1FilesWithInt32SymbolsStillRead) {
  {
    CorpusWriter w(path_, vocab_, artists_, {{"source", "old.csv"}}, LyricsLayout::kVersion1);
    EXPECT_EQ(w.symbol_bytes(), 4u);
    w.add_song("train", 0, "One", {2, 3, 4});
    w.add_song("train", 2, "Long", long_song_);
    w.add_song("valid", 1, "V", {5, 1, 2});
    w.commit();
  }
  EXPECT_EQ(symbol_type(path_), std::make_tuple(H5T_INTEGER, size_t{4}, H5T_SGN_2));
  {
    CorpusReader r(path_);
    EXPECT_EQ(r.info()["version"], 1);
    EXPECT_EQ(r.read_song("train", 0), (std::vector<int32_t>{2, 3, 4}));
    EXPECT_EQ(r.read_song("train", 1), long_song_);
    EXPECT_EQ(r.read_song("valid", 0), (std::vector<int32_t>{5, 1, 2}));
  }
  // A version-0 file (none was ever written) is refused, naming the versions read.
  set_root_attr("version", "", 0);
  EXPECT_NE(open_error().find("format version 0, this Chorus reads versions 1 to 2"), std::string::npos)
      << open_error();
}

TEST_F(CorpusTest, WrongVersionIsRejectedWithAHint) {
  write_small(path_);
  set_root_attr("version", "", kLyricsFormatVersion + 1);
  const std::string msg = open_error();
  EXPECT_NE(msg.find("format version 3, this Chorus reads versions 1 to 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("re-run chorus prepare"), std::string::npos) << msg;
}

TEST_F(CorpusTest, StructuralChecks) {
  write_small(path_);
  overwrite_int64("train/offsets", 3, 200003);  // end != symbols length
  EXPECT_NE(open_error().find("offsets end"), std::string::npos) << open_error();
  overwrite_int64("train/offsets", 3, 200004);
  overwrite_int64("train/offsets", 0, 1);
  EXPECT_NE(open_error().find("offsets[0]"), std::string::npos) << open_error();
  overwrite_int64("train/offsets", 0, 0);
  overwrite_int64("train/offsets", 2, 2);  // decreasing
  EXPECT_NE(open_error().find("decrease"), std::string::npos) << open_error();
  overwrite_int64("train/offsets", 2, 200003);
  EXPECT_EQ(open_error(), "");
}

TEST_F(CorpusTest, AbsurdSizesAreRefusedBeforeAnythingIsRead) {
  write_small(path_);
  {  // one song of 2^24 + 1 symbols: the (sparse) symbols dataset grows, the last offset follows
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "train/symbols", H5P_DEFAULT);
    const hsize_t total = 200003 + kMaxSongLength + 1;
    ASSERT_GE(H5Dset_extent(d, &total), 0);
    H5Dclose(d), H5Fclose(f);
  }
  overwrite_int64("train/offsets", 3, 200003 + kMaxSongLength + 1);
  EXPECT_NE(open_error().find("song 2 holds 16777217 symbols, over the limit of 16777216"),
            std::string::npos) << open_error();

  write_small(path_);
  {  // a vocabulary of 65,537 code points
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "vocab/code_points", H5P_DEFAULT);
    std::vector<uint32_t> cps(kMaxVocabularyCodePoints + 1);
    for (size_t i = 0; i < cps.size(); ++i) cps[i] = static_cast<uint32_t>(i + 32);
    const hsize_t n = cps.size();
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(f, "vocab/code_points", H5T_STD_U32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, cps.data());
    H5Dclose(d), H5Sclose(space), H5Fclose(f);
  }
  EXPECT_NE(open_error().find("/vocab/code_points holds 65537 entries, over the limit"),
            std::string::npos) << open_error();
  std::vector<char32_t> many(kMaxVocabularyCodePoints + 1);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<char32_t>(i + 32);
  EXPECT_THROW(Vocab{many}, InputError);
}

TEST_F(CorpusTest, ArtistAndSymbolIdsAreChecked) {
  {
    CorpusWriter w(path_, vocab_, artists_, {});
    w.add_song("train", 2, "t", {2, 3});
    w.commit();
  }
  {  // artist 2 of 3 names is valid; drop to 2 names by rewriting the artists dataset
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "artists/names", H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "artists", H5P_DEFAULT);
    h5::write_strings(g, "names", {"a", "b"}, path_);
    H5Gclose(g), H5Fclose(f);
  }
  EXPECT_NE(open_error().find("artist[0] = 2"), std::string::npos) << open_error();
  {
    CorpusWriter w(path_, vocab_, artists_, {});
    w.add_song("valid", 0, "t", {2, 6});
    w.commit();
  }
  {  // a symbol id beyond the vocabulary, as a file from a bigger vocabulary would hold
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "valid/symbols", H5P_DEFAULT);
    int32_t v[2] = {2, 7};
    H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d), H5Fclose(f);
  }
  CorpusReader r(path_);
  EXPECT_THROW(r.read_song("valid", 0), InputError);
}

TEST_F(CorpusTest, NotACorpusIsAnInputError) {
  EXPECT_NE(open_error().find("not found"), std::string::npos);
  std::ofstream(path_) << "hello";
  EXPECT_NE(open_error().find("not an HDF5 file"), std::string::npos) << open_error();
  std::filesystem::remove(path_);
  hid_t f = H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  EXPECT_NE(open_error().find("not a Chorus lyrics corpus"), std::string::npos) << open_error();
}

TEST_F(CorpusTest, LoadVocabFromCorpusOrCheckpointDirectory) {
  write_small(path_);
  Vocab v;
  std::vector<std::string> a;
  load_vocab_from(path_, &v, &a);
  EXPECT_EQ(v, vocab_);
  EXPECT_EQ(a, artists_);

  const std::string ckpt = dir_ + "/ckpt";
  std::filesystem::create_directory(ckpt);
  EXPECT_THROW(load_vocab_from(ckpt, &v, &a), InputError);  // no vocab.json yet
  nlohmann::json j = Vocab({U'x', U'y'}).to_json();
  j["artists"] = {"P", "Q"};
  std::ofstream(ckpt + "/vocab.json") << j.dump();
  load_vocab_from(ckpt, &v, &a);
  EXPECT_EQ(v, Vocab({U'x', U'y'}));
  EXPECT_EQ(a, (std::vector<std::string>{"P", "Q"}));
  std::ofstream(ckpt + "/vocab.json") << "{\"code_points\": [121, 120]}";
  EXPECT_THROW(load_vocab_from(ckpt, &v, &a), InputError);
  EXPECT_THROW(load_vocab_from(dir_ + "/missing.h5", &v, &a), InputError);
}

}  // namespace
}  // namespace chorus
