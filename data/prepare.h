// `chorus prepare lyrics`: raw lyrics (CSV or fortune file) -> HDF5 corpus, in streaming passes
// over the file (three; two with --vocab-from), in memory that does not grow with the text.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/lyrics_source.h"

namespace chorus {

struct PrepareLyricsOptions {
  std::string input;                          // CSV or fortune file (required)
  LyricsFormat format = LyricsFormat::kAuto;
  std::string output;                         // .h5 path (required); written as output+".tmp" then renamed
  std::vector<std::string> artists;           // keep only these (exact names); empty = all
  int64_t min_songs = 1;                      // drop artists with fewer songs (after the filter)
  double valid_fraction = 0.05;               // by stable hash of (artist, song), see split_of()
  double test_fraction = 0.05;
  // Near-duplicate songs (data/near_duplicates.h) whose shared shingles are at least this
  // fraction of the smaller song's are kept in one split: the split of the group member with the
  // smallest (artist, title). 0 turns the grouping off (every song by its own hash).
  double near_duplicate_overlap = 0.3;
  std::string vocab_from;                     // reuse vocabulary (+ artists) of a .h5 or checkpoint dir
};

// The split a song belongs to: FNV-1a 64 of artist + '\x1f' + title, mapped to [0,1);
// < valid -> "valid", < valid+test -> "test", else "train". Independent of the artist list.
std::string split_of(const std::string& artist, const std::string& title, double valid_fraction,
                     double test_fraction);

// Parses "--artists": "A,B,C" or "@file" (one name per line, blank lines ignored).
std::vector<std::string> parse_artist_list(const std::string& spec);

// Runs the preparation; writes a readable summary per split to `log` and returns the summary as
// JSON ({"output", "splits": {"train": {"songs", "symbols", "unknown"}, ...}, "vocab_size",
// "symbol_bytes" (1, 2 or 4 per stored symbol), "artists"}). Throws InputError on bad input; no
// output file is left behind on any failure.
nlohmann::json prepare_lyrics(const PrepareLyricsOptions& options, std::ostream& log);


}  // namespace chorus
