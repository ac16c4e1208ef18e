// The corpus-file core both formats share: split groups with a chunked rows dataset and offsets.
// Invariants: a writer that is not committed removes its file, so a half-written corpus never
// looks complete; a reader reads a song's rows with one hyperslab, only from a split whose rows
// and offsets were checked against each other at open.
#include "data/corpus_file.h"

#include <cstdio>
#include <stdexcept>

#include "data/errors.h"
#include "data/files.h"

namespace chorus {

using h5::check;
using h5::Id;

bool is_split_name(const std::string& name) {
  for (const char* s : kSplitNames)
    if (name == s) return true;
  return false;
}

// ------------------------------------------------------------------------------- writer

CorpusFileWriter::CorpusFileWriter(const std::string& path, const std::string& format, int version,
                                   RowFormat rows, const nlohmann::json& provenance)
    : path_(path), format_(std::move(rows)) {
  h5::quiet_errors();
  Id fapl = check(H5Pcreate(H5P_FILE_ACCESS), path, "H5Pcreate");
  H5Pset_file_locking(fapl.get(), /*use_file_locking=*/true, /*ignore_when_disabled=*/true);
  file_ = Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!file_.valid())
    throw InputError(path + ": cannot create the corpus file (does the directory exist?)");
  created_ = true;
  try {
    const hid_t f = file_.get();
    h5::write_string_attr(f, "format", format, path);
    h5::write_int_attr(f, "version", version, path);
    for (const auto& [key, value] : provenance.items())
      h5::write_string_attr(f, key, value.is_string() ? value.get<std::string>() : value.dump(), path);
    h5::write_string_attr(f, "created", h5::iso_now(), path);
    const int rank = format_.width > 1 ? 2 : 1;
    const hsize_t dims[2] = {0, format_.width}, max_dims[2] = {H5S_UNLIMITED, format_.width};
    const hsize_t chunk[2] = {format_.chunk_rows, format_.width};
    for (const char* name : kSplitNames) {
      Id group = check(H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, name);
      Id space = check(H5Screate_simple(rank, dims, max_dims), path, "H5Screate_simple");
      Id dcpl = check(H5Pcreate(H5P_DATASET_CREATE), path, "H5Pcreate");
      check(H5Pset_chunk(dcpl.get(), rank, chunk), path, "H5Pset_chunk");
      splits_[name].rows = check(H5Dcreate2(group.get(), format_.name.c_str(), format_.file_type,
                                            space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                                 path, "cannot create /" + std::string(name) + "/" + format_.name);
    }
  } catch (...) {
    abandon();
    throw;
  }
}

CorpusFileWriter::~CorpusFileWriter() { abandon(); }

void CorpusFileWriter::abandon() {
  if (committed_) return;
  splits_.clear();
  file_.reset();
  if (created_) std::remove(path_.c_str());
  created_ = false;
}

void CorpusFileWriter::add_song(const std::string& split, const void* rows, int64_t n) {
  if (committed_) throw std::logic_error(path_ + ": add_song after commit");
  if (!is_split_name(split)) throw std::invalid_argument("unknown split \"" + split + "\"");
  Split& s = splits_.at(split);
  const size_t bytes = static_cast<size_t>(n) * format_.width * format_.element_bytes;
  const auto* p = static_cast<const uint8_t*>(rows);
  s.pending.insert(s.pending.end(), p, p + bytes);
  s.offsets.push_back(s.offsets.back() + n);
  if (s.pending.size() >= format_.chunk_rows * format_.width * format_.element_bytes) flush(s);
}

void CorpusFileWriter::flush(Split& s) {
  if (s.pending.empty()) return;
  const hsize_t rows = s.pending.size() / (format_.width * format_.element_bytes);
  const int rank = format_.width > 1 ? 2 : 1;
  const hsize_t start[2] = {static_cast<hsize_t>(s.written), 0}, count[2] = {rows, format_.width};
  const hsize_t total[2] = {start[0] + rows, format_.width};
  const std::string what = format_.name;
  check(H5Dset_extent(s.rows.get(), total), path_, "cannot extend " + what);
  Id fspace = check(H5Dget_space(s.rows.get()), path_, "dataspace of " + what);
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path_,
        "hyperslab of " + what);
  Id mspace = check(H5Screate_simple(rank, count, nullptr), path_, "H5Screate_simple");
  check(H5Dwrite(s.rows.get(), format_.mem_type, mspace.get(), fspace.get(), H5P_DEFAULT,
                 s.pending.data()),
        path_, "cannot write " + what);
  s.written = static_cast<int64_t>(total[0]);
  s.pending.clear();
}

void CorpusFileWriter::commit(const std::function<void(const std::string&, hid_t)>& index) {
  if (committed_) return;
  const hid_t f = file_.get();
  for (auto& [name, s] : splits_) {
    flush(s);
    Id group = check(H5Gopen2(f, name.c_str(), H5P_DEFAULT), path_, name);
    h5::write_dataset(group.get(), "offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, s.offsets.data(),
                      static_cast<int64_t>(s.offsets.size()), path_);
    index(name, group.get());
  }
  for (auto& [name, s] : splits_) s.rows.reset();
  check(H5Fflush(f, H5F_SCOPE_GLOBAL), path_, "flush failed");
  // Closed by hand (not by Id) so that a failing close is seen before we call it committed.
  const hid_t raw = file_.release();
  if (H5Fclose(raw) < 0) throw std::runtime_error(path_ + ": HDF5: closing the file failed");
  fsync_path(path_);
  committed_ = true;
}

// ------------------------------------------------------------------------------- reader

CorpusFileReader::CorpusFileReader(const std::string& path, const std::string& format,
                                   int64_t min_version, int64_t max_version,
                                   const std::string& what, const std::string& prepare,
                                   RowFormat rows)
    : path_(path), format_(std::move(rows)),
      file_(h5::open_corpus(path, format, min_version, max_version, what, prepare, &version_)) {}

std::vector<std::string> CorpusFileReader::splits() const {
  std::vector<std::string> out;
  for (const char* name : kSplitNames)
    if (h5::link_exists(file_.get(), name)) out.push_back(name);
  return out;
}

SplitIndex CorpusFileReader::open_split(const std::string& split, const std::string& hint) {
  const std::string where = path_ + ": /" + split + "/";
  Id rows = h5::open_dataset(file_.get(), split + "/" + format_.name, path_);
  Id off = h5::open_dataset(file_.get(), split + "/offsets", path_);
  Id space = check(H5Dget_space(rows.get()), path_, "dataspace of " + format_.name);
  Id type = check(H5Dget_type(rows.get()), path_, "type of " + format_.name);
  const int rank = format_.width > 1 ? 2 : 1;
  hsize_t dims[2] = {0, 0};
  // The frames are packed bytes: any other element size is another program's layout.
  if (H5Sget_simple_extent_ndims(space.get()) != rank || H5Tget_class(type.get()) != H5T_INTEGER ||
      (rank == 2 && H5Tget_size(type.get()) != format_.element_bytes))
    throw InputError(where + format_.name + " is not a " + (rank == 2 ? "2-D uint8" : "1-D integer") +
                     " dataset" + hint);
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  if (rank == 2 && dims[1] != format_.width)
    throw InputError(where + format_.name + " has " + std::to_string(dims[1]) +
                     " columns, expected " + std::to_string(format_.width) + hint);
  SplitIndex idx;
  idx.name = split;
  idx.offsets = h5::read_all<int64_t>(off.get(), H5T_NATIVE_INT64, path_, "/" + split + "/offsets");
  if (idx.offsets.empty()) throw InputError(where + "offsets is empty" + hint);
  idx.check_offsets(static_cast<int64_t>(dims[0]), where, format_.name);
  rows_[split] = std::move(rows);
  return idx;
}

void CorpusFileReader::read_rows(const std::string& split, int64_t start, int64_t count,
                                 void* out) const {
  if (count == 0) return;
  const int rank = format_.width > 1 ? 2 : 1;
  const hsize_t first[2] = {static_cast<hsize_t>(start), 0};
  const hsize_t n[2] = {static_cast<hsize_t>(count), format_.width};
  const hid_t ds = rows_.at(split).get();
  Id fspace = check(H5Dget_space(ds), path_, "dataspace of " + format_.name);
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, first, nullptr, n, nullptr), path_,
        "hyperslab of rows " + std::to_string(start) + ".." + std::to_string(start + count));
  Id mspace = check(H5Screate_simple(rank, n, nullptr), path_, "H5Screate_simple");
  check(H5Dread(ds, format_.mem_type, mspace.get(), fspace.get(), H5P_DEFAULT, out), path_,
        "cannot read /" + split + "/" + format_.name);
}

}  // namespace chorus
