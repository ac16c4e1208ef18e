// The piano-roll corpus in HDF5 (format "chorus-pianoroll", version 1) on the shared corpus-file
// core (data/corpus_file.h): the key range and time grid, and per split the name of each song.
// Invariants: a reader only sees a file whose format, version, key range and structure were
// checked at open, and reads one song with one hyperslab of packed frames; an uncommitted writer
// removes its file, so a half-written corpus never looks complete.
#include "data/pianoroll_corpus.h"

#include <stdexcept>

#include "data/corpus_file.h"
#include "data/errors.h"
#include "data/hdf5_util.h"

namespace chorus {
namespace {

using h5::check;
using h5::Id;

RowFormat frame_rows() {
  RowFormat f;
  f.name = "frames";
  f.file_type = H5T_STD_U8LE;
  f.mem_type = H5T_NATIVE_UINT8;
  f.element_bytes = 1;
  f.width = kPackedFrameBytes;
  f.chunk_rows = 16384;  // x 11 bytes = 176 KiB per chunk (docs/design.md "HDF5 access")
  return f;
}

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
  std::unique_ptr<CorpusFileReader> file;
  std::map<std::string, Id> names;  // split -> /<split>/names
};

PianoRollReader::PianoRollReader(const std::string& path) : SongSource(path), h5_(new Handle) {
  h5_->file = std::make_unique<CorpusFileReader>(path, kPianoRollFormat, kPianoRollFormatVersion,
                                                 kPianoRollFormatVersion, "piano-roll corpus",
                                                 "chorus prepare pianoroll", frame_rows());
  const hid_t file = h5_->file->file();
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
    for (const std::string& s : h5_->file->splits()) {
      SplitIndex idx = h5_->file->open_split(s, hint);
      Id names = h5::open_dataset(file, s + "/names", path);
      const int64_t n_names = h5::dataset_length(names.get(), path, "/" + s + "/names");
      if (n_names != static_cast<int64_t>(idx.offsets.size()) - 1)
        throw InputError(path + ": /" + s + "/offsets and names disagree on the number of songs");
      idx.artist.assign(static_cast<size_t>(n_names), 0);
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
  const int64_t count = idx.song_length(song);
  std::vector<uint8_t> bytes(static_cast<size_t>(count) * kPackedFrameBytes);
  h5_->file->read_rows(split_name, idx.offsets[song], count, bytes.data());
  frames_read_ += count;
  return unpack_frames(bytes.data(), static_cast<size_t>(count));
}

void PianoRollReader::read(const std::string& split, int64_t song, SongData* out) const {
  const std::vector<Frame> frames = read_song(split, song);
  out->width = kKeys;
  out->values.assign(frames.size() * kKeys, 0);
  for (size_t t = 0; t < frames.size(); ++t)
    for (int k = 0; k < kKeys; ++k) out->values[t * kKeys + k] = frames[t][k] ? 1 : 0;
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

namespace {
PianoRollResolution checked(const PianoRollResolution& resolution) {
  if (resolution.frames_per_quarter < 0 || resolution.seconds_per_frame < 0 ||
      (resolution.frames_per_quarter > 0 && resolution.seconds_per_frame > 0)) {
    throw std::invalid_argument("PianoRollWriter: at most one of frames_per_quarter, seconds_per_frame");
  }
  return resolution;
}
}  // namespace

PianoRollWriter::PianoRollWriter(const std::string& path, const PianoRollResolution& resolution,
                                 const nlohmann::json& provenance) {
  const PianoRollResolution r = checked(resolution);
  file_ = std::make_unique<CorpusFileWriter>(path, kPianoRollFormat, kPianoRollFormatVersion,
                                             frame_rows(), provenance);
  const hid_t f = file_->file();
  h5::write_int_attr(f, "keys", kKeys, path);
  h5::write_int_attr(f, "lowest_note", kLowestNote, path);
  h5::write_int_attr(f, "highest_note", kHighestNote, path);
  h5::write_string_attr(f, "time_unit", r.time_unit(), path);
  h5::write_int_attr(f, "frames_per_quarter", r.frames_per_quarter, path);
  write_double_attr(f, "seconds_per_frame", r.seconds_per_frame, path);
}

PianoRollWriter::~PianoRollWriter() = default;

void PianoRollWriter::add_song(const std::string& split, const std::string& name, const std::vector<Frame>& frames) {
  std::vector<uint8_t> packed;
  pack_frames(frames, &packed);
  add_packed(split, name, packed.data(), static_cast<int64_t>(frames.size()));
}

void PianoRollWriter::add_packed(const std::string& split, const std::string& name, const uint8_t* packed,
                                 int64_t frames) {
  file_->add_song(split, packed, frames);
  names_[split].push_back(name);
}

void PianoRollWriter::commit() {
  file_->commit([&](const std::string& split, hid_t group) {
    h5::write_strings(group, "names", names_[split], file_->path());
  });
}

}  // namespace chorus
