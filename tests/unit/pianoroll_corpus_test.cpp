// Tests of the HDF5 piano-roll corpus (data/pianoroll_corpus.h): round trip across chunk
// boundaries, schema/version/key-range checks with hints, structural checks, per-song hyperslab
// reads, and that an uncommitted writer leaves no file.
#include "data/pianoroll_corpus.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <random>

#include "data/errors.h"
#include "data/hdf5_util.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

std::vector<Frame> random_song(size_t n, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<Frame> frames(n);
  for (Frame& f : frames) {
    for (int i = 0; i < 4; ++i) f.set(engine() % kKeys);
  }
  return frames;
}

class PianoRollCorpusTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = dir_ + "/roll.h5";
    songs_ = {random_song(10, 1), random_song(20000, 2), random_song(3, 3), random_song(7, 4)};
  }
  // train: songs 0..2 (song 1 spans two 16384-row chunks), valid: song 3, test: empty.
  void write_small(const PianoRollResolution& res = {4, 0}) {
    PianoRollWriter w(path_, res, {{"source", "in/"}, {"source_kind", "midi"}, {"options", nlohmann::json{{"x", 1}}}});
    w.add_song("train", "a.mid", songs_[0]);
    w.add_song("valid", "d.mid", songs_[3]);
    w.add_song("train", "b.mid", songs_[1]);
    w.add_song("train", "", songs_[2]);
    w.commit();
  }
  void edit(const std::function<void(hid_t)>& change) {
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    change(f);
    H5Fclose(f);
  }
  void set_int_attr(const std::string& name, int value) {
    edit([&](hid_t f) {
      H5Adelete(f, name.c_str());
      h5::write_int_attr(f, name, value, path_);
    });
  }
  void overwrite_offset(const std::string& dataset, int64_t index, int64_t value) {
    edit([&](hid_t f) {
      hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
      hid_t fs = H5Dget_space(d);
      hsize_t start = index, count = 1;
      H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
      hid_t ms = H5Screate_simple(1, &count, nullptr);
      EXPECT_GE(H5Dwrite(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &value), 0);
      H5Sclose(ms), H5Sclose(fs), H5Dclose(d);
    });
  }
  std::string open_error() {
    try {
      PianoRollReader r(path_);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  std::string path_;
  std::vector<std::vector<Frame>> songs_;
};

TEST_F(PianoRollCorpusTest, RoundTripWithOneHyperslabPerSong) {
  write_small();
  PianoRollReader r(path_);
  EXPECT_EQ(r.resolution().frames_per_quarter, 4);
  EXPECT_EQ(r.resolution().seconds_per_frame, 0.0);
  const SplitIndex& train = r.split("train");
  EXPECT_EQ(train.songs(), 3);
  EXPECT_EQ(train.offsets, (std::vector<int64_t>{0, 10, 20010, 20013}));
  EXPECT_EQ(train.artist, std::vector<int32_t>(3, 0));
  EXPECT_EQ(train.symbols(), 20013);
  EXPECT_EQ(r.split("valid").songs(), 1);
  EXPECT_EQ(r.split("test").songs(), 0);
  EXPECT_EQ(r.frames_read(), 0);
  EXPECT_EQ(r.read_song("train", 2), songs_[2]);
  EXPECT_EQ(r.frames_read(), 3);  // only that song's rows
  EXPECT_EQ(r.read_song("train", 1), songs_[1]);
  EXPECT_EQ(r.read_song("train", 0), songs_[0]);
  EXPECT_EQ(r.read_song("valid", 0), songs_[3]);
  EXPECT_EQ(r.frames_read(), 3 + 20000 + 10 + 7);
  EXPECT_EQ(r.name("train", 1), "b.mid");
  EXPECT_EQ(r.name("train", 2), "");
  EXPECT_THROW(r.read_song("train", 3), std::out_of_range);
  EXPECT_THROW(r.read_song("valid", -1), std::out_of_range);
  EXPECT_THROW(r.split("dev"), InputError);
  const nlohmann::json info = r.info();
  EXPECT_EQ(info["format"], "chorus-pianoroll");
  EXPECT_EQ(info["version"], 1);
  EXPECT_EQ(info["time_unit"], "quarter");
  EXPECT_EQ(info["lowest_note"], 21);
  EXPECT_EQ(info["highest_note"], 108);
  EXPECT_EQ(info["options"]["x"], 1);
  EXPECT_EQ(info["source_kind"], "midi");
  EXPECT_EQ(info["splits"]["train"]["frames"], 20013);
  EXPECT_EQ(info["splits"]["test"]["songs"], 0);
}

TEST_F(PianoRollCorpusTest, FramesArePackedElevenBytesPerRowInChunks) {
  write_small({0, 0.3});
  hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "train/frames", H5P_DEFAULT);
  hid_t s = H5Dget_space(d), p = H5Dget_create_plist(d), t = H5Dget_type(d);
  hsize_t dims[2], chunk[2];
  ASSERT_EQ(H5Sget_simple_extent_ndims(s), 2);
  H5Sget_simple_extent_dims(s, dims, nullptr);
  ASSERT_EQ(H5Pget_chunk(p, 2, chunk), 2);
  EXPECT_EQ(dims[0], 20013u);
  EXPECT_EQ(dims[1], 11u);
  EXPECT_EQ(H5Tget_size(t), 1u);
  const hsize_t chunk_bytes = chunk[0] * chunk[1];
  EXPECT_GE(chunk_bytes, 64u * 1024);
  EXPECT_LE(chunk_bytes, 256u * 1024);
  // Row 0 is song 0's first frame, packed (key k at byte k/8, bit k%8).
  uint8_t row[11];
  hsize_t start[2] = {0, 0}, count[2] = {1, 11};
  H5Sselect_hyperslab(s, H5S_SELECT_SET, start, nullptr, count, nullptr);
  hid_t m = H5Screate_simple(2, count, nullptr);
  ASSERT_GE(H5Dread(d, H5T_NATIVE_UINT8, m, s, H5P_DEFAULT, row), 0);
  const PackedFrame want = pack(songs_[0][0]);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), row));
  H5Sclose(m), H5Tclose(t), H5Pclose(p), H5Sclose(s), H5Dclose(d), H5Fclose(f);
  PianoRollReader r(path_);
  EXPECT_EQ(r.resolution().seconds_per_frame, 0.3);
  EXPECT_EQ(r.info()["time_unit"], "second");
}

TEST_F(PianoRollCorpusTest, FormatVersionAndKeyRangeAreCheckedWithAHint) {
  write_small();
  set_int_attr("version", 2);
  EXPECT_NE(open_error().find("format version 2, this Chorus reads version 1"), std::string::npos) << open_error();
  EXPECT_NE(open_error().find("re-run chorus prepare pianoroll"), std::string::npos);
  set_int_attr("version", 1);
  set_int_attr("keys", 128);
  EXPECT_NE(open_error().find("keys = 128, expected 88"), std::string::npos) << open_error();
  set_int_attr("keys", 88);
  EXPECT_EQ(open_error(), "");
  edit([&](hid_t f) {
    H5Adelete(f, "format");
    h5::write_string_attr(f, "format", "chorus-lyrics", path_);
  });
  EXPECT_NE(open_error().find("this is a lyrics corpus"), std::string::npos) << open_error();
  // A lyrics corpus file is refused the same way, and a non-HDF5 file too.
  path_ = testing::write_fixture_corpus(dir_);
  EXPECT_NE(open_error().find("expected \"chorus-pianoroll\""), std::string::npos) << open_error();
  path_ = write("x.h5", "not hdf5");
  EXPECT_NE(open_error().find("not an HDF5 file"), std::string::npos);
  path_ = dir_ + "/absent.h5";
  EXPECT_NE(open_error().find("not found"), std::string::npos);
}

TEST_F(PianoRollCorpusTest, StructuralChecksOnOffsets) {
  write_small();
  overwrite_offset("train/offsets", 2, 5);  // 0, 10, 5, 20013: decreasing
  EXPECT_NE(open_error().find("/train/offsets decrease at 2"), std::string::npos) << open_error();
  overwrite_offset("train/offsets", 2, 20010);
  overwrite_offset("train/offsets", 3, 20014);  // beyond the frames
  EXPECT_NE(open_error().find("offsets end at 20014 but frames holds 20013"), std::string::npos) << open_error();
  overwrite_offset("train/offsets", 3, 20013);
  overwrite_offset("valid/offsets", 0, 1);
  EXPECT_NE(open_error().find("/valid/offsets[0] is not 0"), std::string::npos) << open_error();
  overwrite_offset("valid/offsets", 0, 0);
  EXPECT_EQ(open_error(), "");
  edit([](hid_t f) { H5Ldelete(f, "test/names", H5P_DEFAULT); });
  EXPECT_NE(open_error().find("missing dataset /test/names"), std::string::npos) << open_error();
}

TEST_F(PianoRollCorpusTest, UncommittedWriterLeavesNoFile) {
  {
    PianoRollWriter w(path_, {4, 0}, {{"source", "x"}});
    w.add_song("train", "a", songs_[0]);
    EXPECT_THROW(w.add_song("dev", "a", songs_[0]), std::invalid_argument);
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_THROW(PianoRollWriter(path_, {4, 0.3}, {}), std::invalid_argument);
  EXPECT_THROW(PianoRollWriter(dir_ + "/no/such/dir.h5", {4, 0}, {}), InputError);
}

}  // namespace
}  // namespace chorus
