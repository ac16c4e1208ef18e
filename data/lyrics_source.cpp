// Streaming readers of raw lyrics: the Kaggle songdata CSV (libcsv, strict RFC 4180) and
// fortune files. Invariant: the file is read in fixed-size chunks and songs reach the sink in
// file order, so memory stays bounded by one song; every error names FILE:LINE of the record.
#include "data/lyrics_source.h"

#include <csv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "data/errors.h"

namespace chorus {
namespace {

constexpr size_t kChunkBytes = 1 << 16;
constexpr size_t kTitleCodePoints = 60;

std::string too_long(const std::string& path, int64_t line, const char* what) {
  return path + ":" + std::to_string(line) + ": " + what + " starting here is longer than " +
         std::to_string(kMaxSongBytes >> 20) + " MiB (songs are a few KiB: an unbalanced quote or "
         "a missing separator?)";
}

using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;

FilePtr open_or_throw(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw InputError(path + ": cannot open lyrics source: " + std::strerror(errno));
  return f;
}

// Reads the whole file chunk by chunk, calling `fn(data, size)`.
template <typename Fn>
void for_each_chunk(const std::string& path, Fn fn) {
  FilePtr f = open_or_throw(path);
  std::vector<char> buf(kChunkBytes);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) fn(buf.data(), n);
  if (std::ferror(f.get())) throw InputError(path + ": read error: " + std::strerror(errno));
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string strip_bom(std::string s) {
  if (s.compare(0, 3, "\xEF\xBB\xBF") == 0) s.erase(0, 3);
  return s;
}

// --- CSV -----------------------------------------------------------------------------------

// State shared with libcsv's C callbacks. Callbacks never throw (unwinding through C is not
// safe): they record the first error and queue finished songs, which the caller then drains.
struct CsvState {
  std::string path;
  int64_t line = 1;            // line of the byte being fed
  int64_t record_line = 1;     // line where the current record started
  int64_t field_line = 1;      // line where the current field started (unterminated quotes)
  size_t record_bytes = 0;     // bytes fed since the last record ended (kMaxSongBytes)
  bool between_records = true;
  bool header_done = false;
  size_t header_fields = 0;
  int artist_col = -1, song_col = -1, text_col = -1;
  std::vector<std::string> header;
  size_t field_index = 0;
  RawSong song;
  std::vector<RawSong> ready;
  std::string error;

  void start_record_if_needed() {
    if (!between_records) return;
    between_records = false;
    record_line = field_line = line;
    field_index = 0;
    song = RawSong{};
    song.line = record_line;
  }
};

void on_field(void* data, size_t len, void* user) {
  auto* st = static_cast<CsvState*>(user);
  if (!st->error.empty()) return;
  st->start_record_if_needed();
  std::string value(static_cast<const char*>(data), len);
  const int col = static_cast<int>(st->field_index++);
  if (!st->header_done) {
    st->header.push_back(trim(col == 0 ? strip_bom(value) : value));
  } else if (col == st->artist_col) {
    st->song.artist = std::move(value);
  } else if (col == st->song_col) {
    st->song.title = std::move(value);
  } else if (col == st->text_col) {
    st->song.text = std::move(value);
  }
  st->field_line = st->line;  // the next field starts where this one's delimiter is
}

void on_record(int /*terminator*/, void* user) {
  auto* st = static_cast<CsvState*>(user);
  if (!st->error.empty()) return;
  st->start_record_if_needed();  // a record of one empty field still counts
  st->between_records = true;
  st->record_bytes = 0;
  const std::string where = st->path + ":" + std::to_string(st->record_line) + ": ";
  if (!st->header_done) {
    st->header_done = true;
    st->header_fields = st->header.size();
    for (size_t i = 0; i < st->header.size(); ++i) {
      if (st->header[i] == "artist") st->artist_col = static_cast<int>(i);
      if (st->header[i] == "song") st->song_col = static_cast<int>(i);
      if (st->header[i] == "text") st->text_col = static_cast<int>(i);
    }
    for (auto [col, name] : {std::pair{st->artist_col, "artist"}, {st->song_col, "song"},
                             {st->text_col, "text"}}) {
      if (col < 0) {
        st->error = where + "CSV header lacks the column \"" + name +
                    "\" (needs artist, song and text)";
        return;
      }
    }
    return;
  }
  if (st->field_index != st->header_fields) {
    st->error = where + "record has " + std::to_string(st->field_index) + " fields, the header has " +
                std::to_string(st->header_fields);
    return;
  }
  st->ready.push_back(std::move(st->song));
}

int no_space(unsigned char) { return 0; }  // keep unquoted fields verbatim (no trimming)

void read_csv(const std::string& path, const std::function<void(const RawSong&)>& sink) {
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    throw std::runtime_error("libcsv: csv_init failed");
  }
  std::unique_ptr<csv_parser, void (*)(csv_parser*)> guard(&parser, &csv_free);
  csv_set_space_func(&parser, &no_space);
  // libcsv grows a field's buffer by this much at a time (default 128 bytes): a long song would
  // cost a realloc per 128 bytes, quadratic where realloc copies.
  csv_set_blk_size(&parser, size_t{1} << 20);
  CsvState st;
  st.path = path;

  auto drain = [&] {
    if (!st.error.empty()) throw InputError(st.error);
    for (const RawSong& s : st.ready) sink(s);
    st.ready.clear();
  };
  // Feed line by line so the callbacks always know the current line number.
  for_each_chunk(path, [&](const char* data, size_t n) {
    size_t i = 0;
    while (i < n) {
      const void* nl = std::memchr(data + i, '\n', n - i);
      const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) + 1 : n;
      const char* seg = data + i;
      const size_t len = end - i;
      if (st.between_records) {
        // A new record starts on the first line with content; blank lines between are skipped.
        bool content = false;
        for (size_t k = 0; k < len && !content; ++k) content = seg[k] != '\r' && seg[k] != '\n';
        if (content) st.start_record_if_needed();
      }
      st.record_bytes += len;
      if (st.record_bytes > kMaxSongBytes) throw InputError(too_long(path, st.record_line, "the record"));
      if (csv_parse(&parser, seg, len, &on_field, &on_record, &st) != len) {
        drain();
        throw InputError(path + ":" + std::to_string(st.line) + ": malformed CSV (" +
                         csv_strerror(csv_error(&parser)) +
                         "; a quote inside a field must be doubled and the field quoted)");
      }
      drain();
      if (nl) ++st.line;
      i = end;
    }
  });
  if (csv_fini(&parser, &on_field, &on_record, &st) != 0) {
    drain();
    throw InputError(path + ":" + std::to_string(st.field_line) +
                     ": unterminated quoted field starting on this line (record from line " +
                     std::to_string(st.record_line) + ")");
  }
  drain();
  if (!st.header_done) throw InputError(path + ":1: empty CSV file, expected a header artist,song,text");
}

// --- fortune -------------------------------------------------------------------------------

bool is_blank_line(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

// "<ws>-- Name": at least one blank, "--", at least one blank, a non-empty name.
bool parse_attribution(const std::string& line, std::string* name) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == 0 || line.compare(i, 2, "--") != 0) return false;
  i += 2;
  if (i >= line.size() || (line[i] != ' ' && line[i] != '\t')) return false;
  *name = trim(line.substr(i));
  return !name->empty();
}

// First `n` code points of a UTF-8 string (never splits a multibyte sequence).
std::string utf8_prefix(const std::string& s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && count++ == n) return s.substr(0, i);
  }
  return s;
}

RawSong make_fortune(std::vector<std::string> lines, int64_t first_line) {
  RawSong song;
  song.line = first_line;
  size_t last = lines.size();
  while (last > 0 && is_blank_line(lines[last - 1])) --last;
  if (last > 0 && parse_attribution(lines[last - 1], &song.artist)) lines.resize(last - 1);
  while (!lines.empty() && is_blank_line(lines.back())) lines.pop_back();
  for (const std::string& l : lines) {
    if (!is_blank_line(l)) {
      song.title = utf8_prefix(trim(l), kTitleCodePoints);
      break;
    }
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) song.text += '\n';
    song.text += lines[i];
  }
  return song;
}

void read_fortune(const std::string& path, const std::function<void(const RawSong&)>& sink) {
  std::vector<std::string> entry;
  std::string partial;
  int64_t line = 0, entry_line = 1;
  size_t entry_bytes = 0;
  auto on_line = [&](std::string l) {
    ++line;
    if (l == "%" || l == "%\r") {
      sink(make_fortune(std::move(entry), entry_line));
      entry.clear();
      entry_line = line + 1;
      entry_bytes = 0;
    } else {
      if (line == 1) l = strip_bom(std::move(l));
      entry.push_back(std::move(l));
    }
  };
  for_each_chunk(path, [&](const char* data, size_t n) {
    size_t i = 0;
    while (i < n) {
      const void* nl = std::memchr(data + i, '\n', n - i);
      const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) : n;
      entry_bytes += end - i + 1;
      if (entry_bytes > kMaxSongBytes) throw InputError(too_long(path, entry_line, "the entry"));
      partial.append(data + i, end - i);
      if (!nl) break;
      on_line(std::move(partial));
      partial.clear();
      i = end + 1;
    }
  });
  if (!partial.empty()) on_line(std::move(partial));
  // Text after the last "%" is an entry only if it holds something (files end with "%\n").
  bool content = false;
  for (const auto& l : entry) content = content || !is_blank_line(l);
  if (content) sink(make_fortune(std::move(entry), entry_line));
}

// CSV when the first line names the artist, song and text columns.
bool looks_like_csv(const std::string& path) {
  FilePtr f = open_or_throw(path);
  std::string first;
  int c;
  while ((c = std::fgetc(f.get())) != EOF && c != '\n' && first.size() < kChunkBytes) {
    first.push_back(static_cast<char>(c));
  }
  first = strip_bom(first);
  bool artist = false, song = false, text = false;
  size_t start = 0;
  while (start <= first.size()) {
    size_t comma = first.find(',', start);
    if (comma == std::string::npos) comma = first.size();
    std::string name = trim(first.substr(start, comma - start));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    artist = artist || name == "artist";
    song = song || name == "song";
    text = text || name == "text";
    start = comma + 1;
  }
  return artist && song && text;
}

}  // namespace

void read_lyrics(const std::string& path, LyricsFormat format,
                 const std::function<void(const RawSong&)>& sink) {
  if (format == LyricsFormat::kAuto) {
    format = looks_like_csv(path) ? LyricsFormat::kCsv : LyricsFormat::kFortune;
  }
  if (format == LyricsFormat::kCsv) {
    read_csv(path, sink);
  } else {
    read_fortune(path, sink);
  }
}

LyricsFormat parse_lyrics_format(const std::string& name) {
  if (name == "auto") return LyricsFormat::kAuto;
  if (name == "csv") return LyricsFormat::kCsv;
  if (name == "fortune") return LyricsFormat::kFortune;
  throw InputError("unknown lyrics format \"" + name + "\" (expected auto, csv or fortune)");
}

}  // namespace chorus
