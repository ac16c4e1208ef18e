// Readers of raw lyric sources: the Kaggle songdata CSV (RFC 4180, via libcsv) and fortune files.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace chorus {

struct RawSong {
  std::string artist;  // may be empty (an unattributed fortune)
  std::string title;
  std::string text;    // raw UTF-8 as in the source, not yet normalised
  int64_t line = 0;    // 1-based line of the source where the record starts
};

enum class LyricsFormat { kAuto, kCsv, kFortune };

// A CSV record or a fortune entry longer than this is an InputError (a guard against a runaway
// quote or a hostile file holding one 10 GB "song"; the longest real lyrics are a few KiB).
constexpr size_t kMaxSongBytes = size_t{16} << 20;

// Streams the songs of `path` to `sink` in file order without holding the file in memory.
// CSV: header must contain artist, song and text columns (any order, extra columns ignored);
// quoted fields with commas, doubled quotes and newlines; "\r\n" or "\n" between records.
// Fortune: entries separated by lines holding only "%"; a last line "<ws>-- Name" gives the
// artist (that line is dropped from the text); title = first non-blank line (at most 60 chars).
// kAuto picks CSV when the first line is a CSV header naming those columns, else fortune.
// Throws InputError naming the file and line on a malformed file (e.g. an unterminated quote,
// a record with the wrong number of fields, a missing column, a song over kMaxSongBytes) or when
// the file cannot be read.
void read_lyrics(const std::string& path, LyricsFormat format,
                 const std::function<void(const RawSong&)>& sink);

LyricsFormat parse_lyrics_format(const std::string& name);  // "auto" | "csv" | "fortune"

}  // namespace chorus
