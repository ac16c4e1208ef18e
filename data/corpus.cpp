// The lyrics corpus in HDF5 (format "chorus-lyrics", version 1): writer and shard-aware reader.
// Invariants: a reader only ever sees a file whose format, version and structure were checked
// at open, and reads only the symbols of the songs it is asked for (hyperslabs); a writer that
// is not committed removes its file, so a half-written corpus never looks complete.
#include "data/corpus.h"

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
constexpr hsize_t kSymbolChunk = 64 * 1024;  // int32 -> 256 KiB chunks (DESIGN.md "HDF5 access")

bool is_split_name(const std::string& s) { return s == "train" || s == "valid" || s == "test"; }

}  // namespace

// ------------------------------------------------------------------------------- reader

struct CorpusReader::Handle {
  Id file;
  std::map<std::string, Id> symbols;  // split -> /<split>/symbols
  std::map<std::string, Id> titles;   // split -> /<split>/titles
};

CorpusReader::CorpusReader(const std::string& path) : SongSource(path), h5_(new Handle) {
  h5_->file = h5::open_corpus(path, kLyricsFormat, kLyricsFormatVersion, "lyrics corpus",
                              "chorus prepare lyrics");
  const hid_t file = h5_->file.get();

  try {
    attrs_ = {{"format", kLyricsFormat}, {"version", kLyricsFormatVersion}};
    for (const char* key : {"source", "source_sha256", "options", "created"}) {
      if (h5::has_attr(file, key)) attrs_[key] = h5::read_string_attr(file, key, path);
    }

    Id cps_ds = h5::open_dataset(file, "vocab/code_points", path);
    const int64_t n_cps = h5::dataset_length(cps_ds.get(), path, "/vocab/code_points");
    if (n_cps > static_cast<int64_t>(kMaxVocabularyCodePoints)) {
      throw InputError(path + ": /vocab/code_points holds " + std::to_string(n_cps) +
                       " entries, over the limit of " + std::to_string(kMaxVocabularyCodePoints));
    }
    auto cps = h5::read_all<uint32_t>(cps_ds.get(), H5T_NATIVE_UINT32, path, "/vocab/code_points");
    for (size_t i = 0; i < cps.size(); ++i) {
      // Ids are positions, so an unsorted list would silently renumber every symbol.
      if (cps[i] > 0x10FFFF || (i > 0 && cps[i] <= cps[i - 1])) {
        throw InputError(path + ": /vocab/code_points[" + std::to_string(i) +
                         "] is not a strictly ascending Unicode code point");
      }
    }
    vocab_ = Vocab(std::vector<char32_t>(cps.begin(), cps.end()));
    Id names = h5::open_dataset(file, "artists/names", path);
    artists_ = h5::read_strings(names.get(), 0, h5::dataset_length(names.get(), path, "names"),
                                path, "/artists/names");

    for (const char* name : kSplitNames) {
      if (!h5::link_exists(file, name)) continue;
      const std::string s = name;
      SplitIndex idx;
      idx.name = s;
      Id off = h5::open_dataset(file, s + "/offsets", path);
      Id art = h5::open_dataset(file, s + "/artist", path);
      Id sym = h5::open_dataset(file, s + "/symbols", path);
      Id tit = h5::open_dataset(file, s + "/titles", path);
      idx.offsets = h5::read_all<int64_t>(off.get(), H5T_NATIVE_INT64, path, "/" + s + "/offsets");
      idx.artist = h5::read_all<int32_t>(art.get(), H5T_NATIVE_INT32, path, "/" + s + "/artist");
      const int64_t n_symbols = h5::dataset_length(sym.get(), path, "/" + s + "/symbols");
      const int64_t n_titles = h5::dataset_length(tit.get(), path, "/" + s + "/titles");
      const std::string where = path + ": /" + s + "/";
      if (idx.offsets.size() != idx.artist.size() + 1 || n_titles != idx.songs()) {
        throw InputError(where + "offsets, artist and titles disagree on the number of songs");
      }
      idx.check_offsets(n_symbols, where, "symbols");
      for (size_t i = 0; i < idx.artist.size(); ++i) {
        if (idx.artist[i] < 0 || idx.artist[i] >= static_cast<int32_t>(artists_.size())) {
          throw InputError(where + "artist[" + std::to_string(i) + "] = " +
                           std::to_string(idx.artist[i]) + " is not an artist id (" +
                           std::to_string(artists_.size()) + " artists)");
        }
      }
      h5_->symbols[s] = std::move(sym);
      h5_->titles[s] = std::move(tit);
      splits_.push_back(std::move(idx));
    }
  } catch (const InputError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw InputError(std::string(e.what()) + " (corrupt or incomplete corpus; re-run chorus prepare)");
  }
}

CorpusReader::~CorpusReader() = default;

std::vector<int32_t> CorpusReader::read_song(const std::string& split_name, int64_t song) const {
  const SplitIndex& idx = checked_song(split_name, song);
  const hsize_t start = static_cast<hsize_t>(idx.offsets[song]);
  const hsize_t count = static_cast<hsize_t>(idx.song_length(song));
  std::vector<int32_t> out(count);
  if (count == 0) return out;
  const hid_t ds = h5_->symbols.at(split_name).get();
  Id fspace = check(H5Dget_space(ds), path_, "dataspace of symbols");
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr), path_,
        "hyperslab of song " + std::to_string(song));
  Id mspace = check(H5Screate_simple(1, &count, nullptr), path_, "H5Screate_simple");
  check(H5Dread(ds, H5T_NATIVE_INT32, mspace.get(), fspace.get(), H5P_DEFAULT, out.data()), path_,
        "cannot read /" + split_name + "/symbols");
  symbols_read_ += static_cast<int64_t>(count);
  // Songs hold no separators: 0 (end of song) inside a song would corrupt the streams.
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] < Vocab::kUnknown || out[i] >= vocab_.size()) {
      throw InputError(path_ + ": /" + split_name + "/symbols[" + std::to_string(start + i) +
                       "] = " + std::to_string(out[i]) + " is outside the vocabulary [1, " +
                       std::to_string(vocab_.size()) + ")");
    }
  }
  return out;
}

std::string CorpusReader::title(const std::string& split_name, int64_t song) const {
  const SplitIndex& idx = split(split_name);
  if (song < 0 || song >= idx.songs()) {
    throw std::out_of_range(path_ + ": song " + std::to_string(song) + " out of range");
  }
  return h5::read_strings(h5_->titles.at(split_name).get(), song, 1, path_,
                          "/" + split_name + "/titles")
      .at(0);
}

nlohmann::json CorpusReader::info() const {
  nlohmann::json j = attrs_;
  j["path"] = path_;
  if (j.contains("options")) {
    auto parsed = nlohmann::json::parse(j["options"].get<std::string>(), nullptr, false);
    if (!parsed.is_discarded()) j["options"] = parsed;
  }
  j["vocab_size"] = vocab_.size();
  j["artists"] = artists_.size();
  j["splits"] = nlohmann::json::object();
  for (const auto& s : splits_) j["splits"][s.name] = {{"songs", s.songs()}, {"symbols", s.symbols()}};
  return j;
}

// ------------------------------------------------------------------------------- writer

struct CorpusWriter::Impl {
  struct Split {
    Id symbols;
    int64_t written = 0;
    std::vector<int32_t> pending;  // buffered so the big dataset grows a chunk at a time
    std::vector<int64_t> offsets{0};
    std::vector<int32_t> artist;
    std::vector<std::string> titles;
  };
  std::string path;
  Id file;
  int32_t vocab_size = 0;
  int32_t artists = 0;
  std::map<std::string, Split> splits;
  bool created = false;  // the file exists on disk and is ours to remove
  bool committed = false;

  void flush(Split& s) {
    if (s.pending.empty()) return;
    const hsize_t start = static_cast<hsize_t>(s.written), count = s.pending.size();
    const hsize_t total = start + count;
    check(H5Dset_extent(s.symbols.get(), &total), path, "cannot extend symbols");
    Id fspace = check(H5Dget_space(s.symbols.get()), path, "dataspace of symbols");
    check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr), path,
          "hyperslab of symbols");
    Id mspace = check(H5Screate_simple(1, &count, nullptr), path, "H5Screate_simple");
    check(H5Dwrite(s.symbols.get(), H5T_NATIVE_INT32, mspace.get(), fspace.get(), H5P_DEFAULT,
                   s.pending.data()),
          path, "cannot write symbols");
    s.written = static_cast<int64_t>(total);
    s.pending.clear();
  }

  void abandon() {
    if (committed) return;
    splits.clear();
    file.reset();
    if (created) std::remove(path.c_str());
  }
};

CorpusWriter::CorpusWriter(const std::string& path, const Vocab& vocab,
                           const std::vector<std::string>& artists,
                           const nlohmann::json& provenance)
    : impl_(new Impl) {
  h5::quiet_errors();
  Impl& w = *impl_;
  w.path = path;
  w.vocab_size = vocab.size();
  w.artists = static_cast<int32_t>(artists.size());
  Id fapl = check(H5Pcreate(H5P_FILE_ACCESS), path, "H5Pcreate");
  H5Pset_file_locking(fapl.get(), /*use_file_locking=*/true, /*ignore_when_disabled=*/true);
  w.file = Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!w.file.valid()) throw InputError(path + ": cannot create the corpus file (does the directory exist?)");
  w.created = true;
  try {
    const hid_t f = w.file.get();
    h5::write_string_attr(f, "format", kLyricsFormat, path);
    h5::write_int_attr(f, "version", kLyricsFormatVersion, path);
    for (const auto& [key, value] : provenance.items()) {
      h5::write_string_attr(f, key, value.is_string() ? value.get<std::string>() : value.dump(), path);
    }
    h5::write_string_attr(f, "created", h5::iso_now(), path);

    Id vocab_group = check(H5Gcreate2(f, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, "vocab group");
    h5::write_int_attr(vocab_group.get(), "end_of_song", Vocab::kEndOfSong, path);
    h5::write_int_attr(vocab_group.get(), "unknown", Vocab::kUnknown, path);
    h5::write_int_attr(vocab_group.get(), "first_code_point", Vocab::kFirstCodePoint, path);
    std::vector<uint32_t> cps(vocab.code_points().begin(), vocab.code_points().end());
    h5::write_dataset(vocab_group.get(), "code_points", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                      cps.data(), static_cast<int64_t>(cps.size()), path);
    Id artist_group = check(H5Gcreate2(f, "artists", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, "artists group");
    h5::write_strings(artist_group.get(), "names", artists, path);

    for (const char* name : kSplitNames) {
      Id group = check(H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, name);
      hsize_t zero = 0, unlimited = H5S_UNLIMITED;
      Id space = check(H5Screate_simple(1, &zero, &unlimited), path, "H5Screate_simple");
      Id dcpl = check(H5Pcreate(H5P_DATASET_CREATE), path, "H5Pcreate");
      check(H5Pset_chunk(dcpl.get(), 1, &kSymbolChunk), path, "H5Pset_chunk");
      Impl::Split& s = w.splits[name];
      s.symbols = check(H5Dcreate2(group.get(), "symbols", H5T_STD_I32LE, space.get(), H5P_DEFAULT,
                                   dcpl.get(), H5P_DEFAULT),
                        path, std::string("cannot create /") + name + "/symbols");
    }
  } catch (...) {
    w.abandon();
    throw;
  }
}

CorpusWriter::~CorpusWriter() { impl_->abandon(); }

void CorpusWriter::add_song(const std::string& split, int32_t artist, const std::string& title,
                            const std::vector<int32_t>& symbols) {
  Impl& w = *impl_;
  if (w.committed) throw std::logic_error(w.path + ": add_song after commit");
  if (!is_split_name(split)) throw std::invalid_argument("unknown split \"" + split + "\"");
  if (artist < 0 || artist >= w.artists) {
    throw std::invalid_argument(w.path + ": artist id " + std::to_string(artist) + " out of range");
  }
  for (int32_t id : symbols) {
    if (id < Vocab::kUnknown || id >= w.vocab_size) {
      throw std::invalid_argument(w.path + ": symbol id " + std::to_string(id) + " out of range");
    }
  }
  Impl::Split& s = w.splits.at(split);
  s.pending.insert(s.pending.end(), symbols.begin(), symbols.end());
  s.offsets.push_back(s.offsets.back() + static_cast<int64_t>(symbols.size()));
  s.artist.push_back(artist);
  s.titles.push_back(title);
  if (s.pending.size() >= kSymbolChunk) w.flush(s);
}

void CorpusWriter::commit() {
  Impl& w = *impl_;
  if (w.committed) return;
  const hid_t f = w.file.get();
  for (auto& [name, s] : w.splits) {
    w.flush(s);
    Id group = check(H5Gopen2(f, name.c_str(), H5P_DEFAULT), w.path, name);
    h5::write_dataset(group.get(), "offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, s.offsets.data(),
                      static_cast<int64_t>(s.offsets.size()), w.path);
    h5::write_dataset(group.get(), "artist", H5T_STD_I32LE, H5T_NATIVE_INT32, s.artist.data(),
                      static_cast<int64_t>(s.artist.size()), w.path);
    h5::write_strings(group.get(), "titles", s.titles, w.path);
  }
  for (auto& [name, s] : w.splits) s.symbols.reset();
  check(H5Fflush(f, H5F_SCOPE_GLOBAL), w.path, "flush failed");
  // Closed explicitly (not by Id) so that a failing close is seen before we call it committed.
  const hid_t raw = w.file.release();
  if (H5Fclose(raw) < 0) throw std::runtime_error(w.path + ": HDF5: closing the file failed");
  fsync_path(w.path);
  w.committed = true;
}

// --------------------------------------------------------------------------- vocab_from

void load_vocab_from(const std::string& path, Vocab* vocab, std::vector<std::string>* artists) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw InputError(path + ": --vocab-from: no such file or directory");
  }
  if (S_ISDIR(st.st_mode)) {
    const std::string file = path + "/vocab.json";
    auto j = nlohmann::json::parse(read_file(file), nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw InputError(file + ": not a JSON object");
    try {
      *vocab = Vocab::from_json(j);
    } catch (const InputError& e) {
      throw InputError(file + ": " + e.what());
    }
    artists->clear();
    if (j.contains("artists")) {
      if (!j["artists"].is_array()) throw InputError(file + ": \"artists\" must be an array");
      for (const auto& a : j["artists"]) {
        if (!a.is_string()) throw InputError(file + ": \"artists\" must hold strings");
        artists->push_back(a.get<std::string>());
      }
    }
    return;
  }
  CorpusReader reader(path);
  *vocab = reader.vocab();
  *artists = reader.artists();
}

}  // namespace chorus
