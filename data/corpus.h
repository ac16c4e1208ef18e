// The lyrics corpus in HDF5: schema (format "chorus-lyrics", version 2) and a shard-aware reader.
// Schema (documented in data/README.md; every dataset readable with h5dump / h5py):
//   /                 attrs: format="chorus-lyrics", version=2 (int), source, source_sha256,
//                            options (JSON text), created (ISO time)
//   /vocab/code_points uint32 [V-2]   ids 2.. of Vocab (0 = end of song, 1 = unknown)
//   /artists/names     vlen UTF-8 [A] artist id -> name ("" allowed)
//   /<split>/symbols   uint8 [N]      concatenated symbol ids of the split's songs, no separators:
//                                     uint8 when V <= 256, uint16 when V <= 65536, else int32
//                                     (version 1, still read: always int32)
//   /<split>/offsets   int64 [S+1]    song i is symbols[offsets[i], offsets[i+1])
//   /<split>/artist    int32 [S]      artist id of song i
//   /<split>/titles    vlen UTF-8 [S] song titles
// splits: "train", "valid", "test" (a split may hold zero songs).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/song_source.h"
#include "data/vocab.h"

namespace chorus {

class CorpusFileWriter;

inline constexpr const char* kLyricsFormat = "chorus-lyrics";
// 2: symbols in the smallest integer type that holds the vocabulary. 1: int32 symbols.
inline constexpr int kLyricsFormatVersion = 2;
inline constexpr int kLyricsOldestReadVersion = 1;

// The layout a CorpusWriter writes: the current one, or version 1's (int32 symbols), kept so
// that a test can write the old layout and check that it still reads.
enum class LyricsLayout { kCurrent, kVersion1 };


// Read access to a corpus file. Opening checks format and version (InputError with a hint on a
// mismatch) and structure (offsets monotone and in range, ids within the vocabulary on read).
// Symbols are read per song with hyperslabs, so a rank touches only the songs it trains on.
class CorpusReader : public SongSource {
 public:
  explicit CorpusReader(const std::string& path);
  ~CorpusReader();
  CorpusReader(const CorpusReader&) = delete;
  CorpusReader& operator=(const CorpusReader&) = delete;

  const Vocab& vocab() const { return vocab_; }
  const std::vector<std::string>& artists() const { return artists_; }
  int64_t width() const override { return 1; }
  bool predicts_end() const override { return true; }
  void read(const std::string& split, int64_t song, SongData* out) const override {
    out->values = read_song(split, song);
    out->width = 1;
  }
  // Symbol ids of one song (without the end-of-song symbol).
  std::vector<int32_t> read_song(const std::string& split, int64_t song) const;
  std::string title(const std::string& split, int64_t song) const;
  // Number of symbols read from disk so far (tests check that a rank reads only its shard).
  int64_t symbols_read() const { return symbols_read_; }
  // format, version, provenance, vocabulary size, artists, per-split songs and symbols.
  nlohmann::json info() const;

 private:
  struct Handle;  // the HDF5 side (data/corpus_file.h), kept out of this header
  std::unique_ptr<Handle> h5_;
  Vocab vocab_;
  std::vector<std::string> artists_;
  nlohmann::json attrs_;
  mutable int64_t symbols_read_ = 0;
};

// Where a split's songs come from when writing; songs are appended in order.
class CorpusWriter {
 public:
  ~CorpusWriter();
  // Creates `path` (truncating); call commit() at the end. Destroying an uncommitted writer
  // removes the file, so a failure never leaves a file that looks complete.
  CorpusWriter(const std::string& path, const Vocab& vocab, const std::vector<std::string>& artists,
               const nlohmann::json& provenance /* source, source_sha256, options */,
               LyricsLayout layout = LyricsLayout::kCurrent);
  // Bytes per stored symbol: 1, 2 or 4.
  size_t symbol_bytes() const { return symbol_bytes_; }
  void add_song(const std::string& split, int32_t artist, const std::string& title,
                const std::vector<int32_t>& symbols);
  void commit();

 private:
  std::unique_ptr<CorpusFileWriter> file_;
  int32_t vocab_size_ = 0, artists_ = 0;
  size_t symbol_bytes_ = 4;
  std::vector<uint8_t> narrow_;  // a song's symbols in the stored width
  std::map<std::string, std::vector<int32_t>> artist_;       // per split: artist id of each song
  std::map<std::string, std::vector<std::string>> titles_;   // per split: title of each song
};

// Loads the vocabulary and artist names from a corpus .h5 file or from a checkpoint directory
// (its vocab.json: {"code_points": [...], "artists": [...]}), for --vocab-from.
void load_vocab_from(const std::string& path, Vocab* vocab, std::vector<std::string>* artists);

}  // namespace chorus
