// The piano-roll corpus in HDF5 (format "chorus-pianoroll", version 1): writer and reader.
// Invariants: a reader only sees a file whose format, version, key range and structure were
// checked at open, and reads one song with one hyperslab of packed frames; an uncommitted writer
// removes its file, so a half-written corpus never looks complete.
#include "data/pianoroll_corpus.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <stdexcept>

#include "data/errors.h"
#include "data/files.h"
#include "data/hdf5_util.h"

namespace chorus {
namespace {

using h5::check;
using h5::Id;

const char* const kSplitNames[] = {"train", "valid", "test"};
constexpr hsize_t kChunkRows = 16384;  // x 11 bytes = 176 KiB per chunk (DESIGN.md "HDF5 access")
constexpr hsize_t kCols = kPackedFrameBytes;

bool is_split_name(const std::string& s) { return s == "train" || s == "valid" || s == "test"; }

void write_double_attr(hid_t obj, const std::string& name, double value, const std::string& file) {
  Id space = check(H5Screate(H5S_SCALAR), file, "H5Screate");
  Id attr = check(H5Acreate2(obj, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
                  "cannot create attribute " + name);
  check(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value), file, "cannot write attribute " + name);
}

double read_double_attr(hid_t obj, const std::string& name, const std::string& file) {
  Id attr = check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), file, "cannot open attribute " + name);
  double v = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), file, "cannot read attribute " + name);
  return v;
}

}  // namespace

std::string PianoRollResolution::time_unit() const {
  if (frames_per_quarter > 0) return "quarter";
  if (seconds_per_frame > 0) return "second";
  return "unknown";
}

// ------------------------------------------------------------------------------- reader

struct PianoRollReader::Handle {
  Id file;
  std::map<std::string, Id> frames;  // split -> /<split>/frames
  std::map<std::string, Id> names;   // split -> /<split>/names
};

PianoRollReader::PianoRollReader(const std::string& path) : SongSource(path), h5_(new Handle) {
  h5_->file = h5::open_corpus(path, kPianoRollFormat, kPianoRollFormatVersion, "piano-roll corpus",
                              "chorus prepare pianoroll");
  const hid_t file = h5_->file.get();
  const std::string hint = "; was written by another program or version; re-run chorus prepare pianoroll";
  try {
    for (const auto& [key, want] : {std::pair<const char*, int>{"keys", kKeys}, {"lowest_note", kLowestNote}}) {
      const int64_t got = h5::has_attr(file, key) ? h5::read_int_attr(file, key, path) : -1;
      if (got != want) {
        throw InputError(path + ": attribute " + key + " = " + std::to_string(got) + ", expected " +
                         std::to_string(want) + hint);
      }
    }
    resolution_.frames_per_quarter = static_cast<int>(h5::read_int_attr(file, "frames_per_quarter", path));
    resolution_.seconds_per_frame = read_double_attr(file, "seconds_per_frame", path);
    if (resolution_.frames_per_quarter < 0 || resolution_.seconds_per_frame < 0 ||
        (resolution_.frames_per_quarter > 0 && resolution_.seconds_per_frame > 0)) {
      throw InputError(path + ": frames_per_quarter and seconds_per_frame contradict each other" + hint);
    }
    attrs_ = {{"format", kPianoRollFormat}, {"version", kPianoRollFormatVersion}};
    for (const char* key : {"source", "source_kind", "source_sha256", "options", "created", "time_unit"}) {
      if (h5::has_attr(file, key)) attrs_[key] = h5::read_string_attr(file, key, path);
    }

    for (const char* name : kSplitNames) {
      if (!h5::link_exists(file, name)) continue;
      const std::string s = name, where = path + ": /" + s + "/";
      SplitIndex idx;
      idx.name = s;
      Id frames = h5::open_dataset(file, s + "/frames", path);
      Id off = h5::open_dataset(file, s + "/offsets", path);
      Id names = h5::open_dataset(file, s + "/names", path);
      Id space = check(H5Dget_space(frames.get()), path, "dataspace of frames");
      hsize_t dims[2] = {0, 0};
      Id type = check(H5Dget_type(frames.get()), path, "type of frames");
      if (H5Sget_simple_extent_ndims(space.get()) != 2 || H5Tget_class(type.get()) != H5T_INTEGER ||
          H5Tget_size(type.get()) != 1) {
        throw InputError(where + "frames is not a 2-D uint8 dataset" + hint);
      }
      H5Sget_simple_extent_dims(space.get(), dims, nullptr);
      if (dims[1] != kCols) {
        throw InputError(where + "frames has " + std::to_string(dims[1]) + " columns, expected " +
                         std::to_string(kCols) + " (88 keys packed)" + hint);
      }
      idx.offsets = h5::read_all<int64_t>(off.get(), H5T_NATIVE_INT64, path, "/" + s + "/offsets");
      const int64_t n_names = h5::dataset_length(names.get(), path, "/" + s + "/names");
      if (idx.offsets.empty() || n_names != static_cast<int64_t>(idx.offsets.size()) - 1) {
        throw InputError(where + "offsets and names disagree on the number of songs");
      }
      idx.check_offsets(static_cast<int64_t>(dims[0]), where, "frames");
      idx.artist.assign(static_cast<size_t>(n_names), 0);
      h5_->frames[s] = std::move(frames);
      h5_->names[s] = std::move(names);
      splits_.push_back(std::move(idx));
    }
  } catch (const InputError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw InputError(std::string(e.what()) + " (corrupt or incomplete corpus; re-run chorus prepare pianoroll)");
  }
}

PianoRollReader::~PianoRollReader() = default;

std::vector<Frame> PianoRollReader::read_song(const std::string& split_name, int64_t song) const {
  const SplitIndex& idx = checked_song(split_name, song);
  const hsize_t start[2] = {static_cast<hsize_t>(idx.offsets[song]), 0};
  const hsize_t count[2] = {static_cast<hsize_t>(idx.song_length(song)), kCols};
  if (count[0] == 0) return {};
  std::vector<uint8_t> bytes(count[0] * kCols);
  const hid_t ds = h5_->frames.at(split_name).get();
  Id fspace = check(H5Dget_space(ds), path_, "dataspace of frames");
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path_,
        "hyperslab of song " + std::to_string(song));
  Id mspace = check(H5Screate_simple(2, count, nullptr), path_, "H5Screate_simple");
  check(H5Dread(ds, H5T_NATIVE_UINT8, mspace.get(), fspace.get(), H5P_DEFAULT, bytes.data()), path_,
        "cannot read /" + split_name + "/frames");
  frames_read_ += static_cast<int64_t>(count[0]);
  return unpack_frames(bytes.data(), count[0]);
}

std::string PianoRollReader::name(const std::string& split_name, int64_t song) const {
  const SplitIndex& idx = split(split_name);
  if (song < 0 || song >= idx.songs()) throw std::out_of_range(path_ + ": song " + std::to_string(song) + " out of range");
  return h5::read_strings(h5_->names.at(split_name).get(), song, 1, path_, "/" + split_name + "/names").at(0);
}

nlohmann::json PianoRollReader::info() const {
  nlohmann::json j = attrs_;
  j["path"] = path_;
  for (const char* key : {"options", "source_sha256"}) {
    if (!j.contains(key)) continue;
    auto parsed = nlohmann::json::parse(j[key].get<std::string>(), nullptr, false);
    if (!parsed.is_discarded()) j[key] = parsed;
  }
  j["keys"] = kKeys;
  j["lowest_note"] = kLowestNote;
  j["highest_note"] = kHighestNote;
  j["frames_per_quarter"] = resolution_.frames_per_quarter;
  j["seconds_per_frame"] = resolution_.seconds_per_frame;
  j["splits"] = nlohmann::json::object();
  for (const auto& s : splits_) j["splits"][s.name] = {{"songs", s.songs()}, {"frames", s.symbols()}};
  return j;
}

// ------------------------------------------------------------------------------- writer

struct PianoRollWriter::Impl {
  struct Split {
    Id frames;
    int64_t written = 0;          // rows on disk
    std::vector<uint8_t> pending;  // packed rows not yet written (the dataset grows a chunk at a time)
    std::vector<int64_t> offsets{0};
    std::vector<std::string> names;
  };
  std::string path;
  Id file;
  std::map<std::string, Split> splits;
  bool created = false, committed = false;

  void flush(Split& s) {
    if (s.pending.empty()) return;
    const hsize_t rows = s.pending.size() / kCols;
    const hsize_t start[2] = {static_cast<hsize_t>(s.written), 0}, count[2] = {rows, kCols};
    const hsize_t total[2] = {start[0] + rows, kCols};
    check(H5Dset_extent(s.frames.get(), total), path, "cannot extend frames");
    Id fspace = check(H5Dget_space(s.frames.get()), path, "dataspace of frames");
    check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path,
          "hyperslab of frames");
    Id mspace = check(H5Screate_simple(2, count, nullptr), path, "H5Screate_simple");
    check(H5Dwrite(s.frames.get(), H5T_NATIVE_UINT8, mspace.get(), fspace.get(), H5P_DEFAULT, s.pending.data()),
          path, "cannot write frames");
    s.written = static_cast<int64_t>(total[0]);
    s.pending.clear();
  }

  void abandon() {
    if (committed) return;
    splits.clear();
    file.reset();
    if (created) std::remove(path.c_str());
  }
};

PianoRollWriter::PianoRollWriter(const std::string& path, const PianoRollResolution& resolution,
                                 const nlohmann::json& provenance)
    : impl_(new Impl) {
  h5::quiet_errors();
  if (resolution.frames_per_quarter < 0 || resolution.seconds_per_frame < 0 ||
      (resolution.frames_per_quarter > 0 && resolution.seconds_per_frame > 0)) {
    throw std::invalid_argument("PianoRollWriter: at most one of frames_per_quarter, seconds_per_frame");
  }
  Impl& w = *impl_;
  w.path = path;
  Id fapl = check(H5Pcreate(H5P_FILE_ACCESS), path, "H5Pcreate");
  H5Pset_file_locking(fapl.get(), /*use_file_locking=*/true, /*ignore_when_disabled=*/true);
  w.file = Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!w.file.valid()) throw InputError(path + ": cannot create the corpus file (does the directory exist?)");
  w.created = true;
  try {
    const hid_t f = w.file.get();
    h5::write_string_attr(f, "format", kPianoRollFormat, path);
    h5::write_int_attr(f, "version", kPianoRollFormatVersion, path);
    h5::write_int_attr(f, "keys", kKeys, path);
    h5::write_int_attr(f, "lowest_note", kLowestNote, path);
    h5::write_int_attr(f, "highest_note", kHighestNote, path);
    h5::write_string_attr(f, "time_unit", resolution.time_unit(), path);
    h5::write_int_attr(f, "frames_per_quarter", resolution.frames_per_quarter, path);
    write_double_attr(f, "seconds_per_frame", resolution.seconds_per_frame, path);
    for (const auto& [key, value] : provenance.items()) {
      h5::write_string_attr(f, key, value.is_string() ? value.get<std::string>() : value.dump(), path);
    }
    h5::write_string_attr(f, "created", h5::iso_now(), path);
    for (const char* name : kSplitNames) {
      Id group = check(H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, name);
      const hsize_t dims[2] = {0, kCols}, max_dims[2] = {H5S_UNLIMITED, kCols}, chunk[2] = {kChunkRows, kCols};
      Id space = check(H5Screate_simple(2, dims, max_dims), path, "H5Screate_simple");
      Id dcpl = check(H5Pcreate(H5P_DATASET_CREATE), path, "H5Pcreate");
      check(H5Pset_chunk(dcpl.get(), 2, chunk), path, "H5Pset_chunk");
      Impl::Split& s = w.splits[name];
      s.frames = check(H5Dcreate2(group.get(), "frames", H5T_STD_U8LE, space.get(), H5P_DEFAULT, dcpl.get(),
                                  H5P_DEFAULT),
                       path, std::string("cannot create /") + name + "/frames");
    }
  } catch (...) {
    w.abandon();
    throw;
  }
}

PianoRollWriter::~PianoRollWriter() { impl_->abandon(); }

void PianoRollWriter::add_song(const std::string& split, const std::string& name, const std::vector<Frame>& frames) {
  Impl& w = *impl_;
  if (w.committed) throw std::logic_error(w.path + ": add_song after commit");
  if (!is_split_name(split)) throw std::invalid_argument("unknown split \"" + split + "\"");
  Impl::Split& s = w.splits.at(split);
  pack_frames(frames, &s.pending);
  s.offsets.push_back(s.offsets.back() + static_cast<int64_t>(frames.size()));
  s.names.push_back(name);
  if (s.pending.size() >= kChunkRows * kCols) w.flush(s);
}

void PianoRollWriter::commit() {
  Impl& w = *impl_;
  if (w.committed) return;
  const hid_t f = w.file.get();
  for (auto& [name, s] : w.splits) {
    w.flush(s);
    Id group = check(H5Gopen2(f, name.c_str(), H5P_DEFAULT), w.path, name);
    h5::write_dataset(group.get(), "offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, s.offsets.data(),
                      static_cast<int64_t>(s.offsets.size()), w.path);
    h5::write_strings(group.get(), "names", s.names, w.path);
  }
  for (auto& [name, s] : w.splits) s.frames.reset();
  check(H5Fflush(f, H5F_SCOPE_GLOBAL), w.path, "flush failed");
  const hid_t raw = w.file.release();  // closed by hand so a failing close is seen before "committed"
  if (H5Fclose(raw) < 0) throw std::runtime_error(w.path + ": HDF5: closing the file failed");
  fsync_path(w.path);
  w.committed = true;
}

}  // namespace chorus
