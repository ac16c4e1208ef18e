// The lyrics corpus in HDF5 (format "chorus-lyrics", version 2; version 1 still read) on the
// shared corpus-file core (data/corpus_file.h): the vocabulary and artist names, and per split the
// artist id and title of each song. Invariants: a reader only ever sees a file whose format,
// version and structure were checked at open, and reads only the symbols of the songs it is asked
// for; a writer that is not committed removes its file.
#include "data/corpus.h"

#include <sys/stat.h>

#include <cstring>
#include <stdexcept>

#include "data/corpus_file.h"
#include "data/errors.h"
#include "data/files.h"
#include "data/hdf5_util.h"

namespace chorus {
namespace {

using h5::check;
using h5::Id;

// The symbols dataset with `bytes` per symbol on disk and in memory. Readers use 4 (int32 in
// memory; HDF5 widens a narrower file type as it reads).
RowFormat symbol_rows(size_t bytes = 4) {
  RowFormat f;
  f.name = "symbols";
  f.file_type = bytes == 1 ? H5T_STD_U8LE : bytes == 2 ? H5T_STD_U16LE : H5T_STD_I32LE;
  f.mem_type = bytes == 1 ? H5T_NATIVE_UINT8 : bytes == 2 ? H5T_NATIVE_UINT16 : H5T_NATIVE_INT32;
  f.element_bytes = bytes;
  f.width = 1;
  f.chunk_rows = (256 * 1024) / bytes;  // 256 KiB chunks (docs/design.md "HDF5 access")
  return f;
}

// The smallest width that holds every id of a vocabulary of `size` symbols.
size_t symbol_bytes_for(int32_t size) { return size <= 256 ? 1 : size <= 65536 ? 2 : 4; }

}  // namespace

// ------------------------------------------------------------------------------- reader

struct CorpusReader::Handle {
  std::unique_ptr<CorpusFileReader> file;
  std::map<std::string, Id> titles;  // split -> /<split>/titles
};

CorpusReader::CorpusReader(const std::string& path) : SongSource(path), h5_(new Handle) {
  h5_->file = std::make_unique<CorpusFileReader>(path, kLyricsFormat, kLyricsOldestReadVersion,
                                                 kLyricsFormatVersion, "lyrics corpus",
                                                 "chorus prepare lyrics", symbol_rows());
  const hid_t file = h5_->file->file();
  try {
    attrs_ = {{"format", kLyricsFormat}, {"version", h5_->file->version()}};
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

    const std::string hint = "; was written by another program or version; re-run chorus prepare lyrics";
    for (const std::string& s : h5_->file->splits()) {
      SplitIndex idx = h5_->file->open_split(s, hint);
      Id art = h5::open_dataset(file, s + "/artist", path);
      Id tit = h5::open_dataset(file, s + "/titles", path);
      idx.artist = h5::read_all<int32_t>(art.get(), H5T_NATIVE_INT32, path, "/" + s + "/artist");
      const int64_t n_titles = h5::dataset_length(tit.get(), path, "/" + s + "/titles");
      const std::string where = path + ": /" + s + "/";
      if (idx.offsets.size() != idx.artist.size() + 1 || n_titles != idx.songs()) {
        throw InputError(where + "offsets, artist and titles disagree on the number of songs");
      }
      for (size_t i = 0; i < idx.artist.size(); ++i) {
        if (idx.artist[i] < 0 || idx.artist[i] >= static_cast<int32_t>(artists_.size())) {
          throw InputError(where + "artist[" + std::to_string(i) + "] = " +
                           std::to_string(idx.artist[i]) + " is not an artist id (" +
                           std::to_string(artists_.size()) + " artists)");
        }
      }
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
  const int64_t start = idx.offsets[song], count = idx.song_length(song);
  std::vector<int32_t> out(static_cast<size_t>(count));
  h5_->file->read_rows(split_name, start, count, out.data());
  symbols_read_ += count;
  // Songs hold no separators: 0 (end of song) inside a song would corrupt the streams.
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] < Vocab::kUnknown || out[i] >= vocab_.size()) {
      throw InputError(path_ + ": /" + split_name + "/symbols[" + std::to_string(start + static_cast<int64_t>(i)) +
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

CorpusWriter::CorpusWriter(const std::string& path, const Vocab& vocab,
                           const std::vector<std::string>& artists,
                           const nlohmann::json& provenance, LyricsLayout layout)
    : vocab_size_(vocab.size()), artists_(static_cast<int32_t>(artists.size())),
      symbol_bytes_(layout == LyricsLayout::kVersion1 ? 4 : symbol_bytes_for(vocab.size())) {
  file_ = std::make_unique<CorpusFileWriter>(
      path, kLyricsFormat, layout == LyricsLayout::kVersion1 ? 1 : kLyricsFormatVersion,
      symbol_rows(symbol_bytes_), provenance);
  const hid_t f = file_->file();
  Id vocab_group = check(H5Gcreate2(f, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, "vocab group");
  h5::write_int_attr(vocab_group.get(), "end_of_song", Vocab::kEndOfSong, path);
  h5::write_int_attr(vocab_group.get(), "unknown", Vocab::kUnknown, path);
  h5::write_int_attr(vocab_group.get(), "first_code_point", Vocab::kFirstCodePoint, path);
  std::vector<uint32_t> cps(vocab.code_points().begin(), vocab.code_points().end());
  h5::write_dataset(vocab_group.get(), "code_points", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                    cps.data(), static_cast<int64_t>(cps.size()), path);
  Id artist_group = check(H5Gcreate2(f, "artists", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, "artists group");
  h5::write_strings(artist_group.get(), "names", artists, path);
}

CorpusWriter::~CorpusWriter() = default;

void CorpusWriter::add_song(const std::string& split, int32_t artist, const std::string& title,
                            const std::vector<int32_t>& symbols) {
  if (artist < 0 || artist >= artists_) {
    throw std::invalid_argument(file_->path() + ": artist id " + std::to_string(artist) + " out of range");
  }
  for (int32_t id : symbols) {
    if (id < Vocab::kUnknown || id >= vocab_size_) {
      throw std::invalid_argument(file_->path() + ": symbol id " + std::to_string(id) + " out of range");
    }
  }
  if (symbol_bytes_ == 4) {
    file_->add_song(split, symbols.data(), static_cast<int64_t>(symbols.size()));
  } else {  // ids are checked above, so each fits the narrow type
    narrow_.resize(symbols.size() * symbol_bytes_);
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (symbol_bytes_ == 1) {
        narrow_[i] = static_cast<uint8_t>(symbols[i]);
      } else {
        const uint16_t v = static_cast<uint16_t>(symbols[i]);
        std::memcpy(narrow_.data() + 2 * i, &v, 2);
      }
    }
    file_->add_song(split, narrow_.data(), static_cast<int64_t>(symbols.size()));
  }
  artist_[split].push_back(artist);
  titles_[split].push_back(title);
}

void CorpusWriter::commit() {
  file_->commit([&](const std::string& split, hid_t group) {
    const std::vector<int32_t>& artist = artist_[split];
    h5::write_dataset(group, "artist", H5T_STD_I32LE, H5T_NATIVE_INT32, artist.data(),
                      static_cast<int64_t>(artist.size()), file_->path());
    h5::write_strings(group, "titles", titles_[split], file_->path());
  });
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
