// `chorus prepare lyrics`: raw lyrics -> HDF5 corpus in streaming passes (index, vocabulary,
// encode), in memory bounded by a few bytes per song.
// Invariants: a song's split depends only on its (artist, title), never on which other songs or
// artists are present, except that a group of near-duplicates shares the split of its
// representative (data/near_duplicates.h); the output appears (by rename) only when complete, and nothing is left
// behind on failure.
#include "data/prepare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <unordered_set>

#include "data/corpus.h"
#include "data/errors.h"
#include "data/files.h"
#include "data/hash.h"
#include "data/near_duplicates.h"
#include "data/text.h"

namespace chorus {
namespace {

const char* const kSplits[] = {"train", "valid", "test"};

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

const char* format_name(LyricsFormat f) {
  switch (f) {
    case LyricsFormat::kCsv: return "csv";
    case LyricsFormat::kFortune: return "fortune";
    default: return "auto";
  }
}

void validate(const PrepareLyricsOptions& o) {
  if (o.input.empty()) throw InputError("prepare lyrics: input is required");
  if (o.output.empty()) throw InputError("prepare lyrics: output is required");
  auto bad_fraction = [](double f) { return !(f >= 0.0 && f <= 1.0); };
  if (bad_fraction(o.valid_fraction)) throw InputError("prepare lyrics: valid_fraction must be in [0, 1]");
  if (bad_fraction(o.test_fraction)) throw InputError("prepare lyrics: test_fraction must be in [0, 1]");
  if (o.valid_fraction + o.test_fraction > 1.0) {
    throw InputError("prepare lyrics: valid_fraction + test_fraction must be at most 1");
  }
  if (o.min_songs < 0) throw InputError("prepare lyrics: min_songs must be >= 0");
  if (!(o.near_duplicate_overlap >= 0.0 && o.near_duplicate_overlap <= 1.0)) {
    throw InputError("prepare lyrics: near_duplicate_overlap must be in [0, 1] (0 turns grouping off)");
  }
}

// What pass 1 keeps of each song: a few bytes, whatever its length (the text is read again).
struct SongIndex {
  std::vector<std::string> keys;     // artist + '\x1f' + title (the split hash's input); dropped
                                     // once the splits are planned
  std::vector<uint64_t> key_hashes;  // FNV-1a of the key: passes 2 and 3 check they see the same songs
  std::vector<uint32_t> artist;      // index into the artist names of pass 1
  std::vector<uint8_t> split;        // 0 train, 1 valid, 2 test: planned after pass 1
};

uint8_t split_number(const char* split) { return split[0] == 't' && split[1] == 'r' ? 0 : split[0] == 'v' ? 1 : 2; }

// Near-duplicate grouping statistics.
struct GroupStats {
  int64_t groups = 0, grouped_songs = 0, moved = 0;
};

// Each song's split: its own hash's split, or, in a group of near-duplicates, the split of the
// group's representative (data/near_duplicates.h), so that copies never straddle splits.
// Only kept songs take part in the grouping.
GroupStats plan_splits(SongIndex& songs, NearDuplicateIndex* index, const std::vector<bool>& kept,
                       const PrepareLyricsOptions& o) {
  GroupStats g;
  const size_t n = songs.keys.size();
  songs.split.resize(n);
  for (size_t i = 0; i < n; ++i) songs.split[i] = split_number(split_of_key(songs.keys[i], o.valid_fraction, o.test_fraction));
  if (index == nullptr) return g;
  const std::vector<int64_t> rep = index->group(kept, songs.keys);
  std::vector<int64_t> sizes(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (kept[i]) ++sizes[static_cast<size_t>(rep[i])];
  for (size_t i = 0; i < n; ++i) {
    if (!kept[i] || sizes[static_cast<size_t>(rep[i])] < 2) continue;
    ++g.grouped_songs;
    if (rep[i] == static_cast<int64_t>(i)) ++g.groups;
    const uint8_t split = split_number(split_of_key(songs.keys[rep[i]], o.valid_fraction, o.test_fraction));
    if (split != songs.split[i]) ++g.moved;
    songs.split[i] = split;
  }
  return g;
}

struct SplitStats {
  int64_t songs = 0, symbols = 0, unknown = 0;
  std::set<int32_t> artists;
};

}  // namespace

std::string split_of(const std::string& artist, const std::string& title, double valid_fraction,
                     double test_fraction) {
  return split_of_key(artist + '\x1f' + title, valid_fraction, test_fraction);
}

std::vector<std::string> parse_artist_list(const std::string& spec) {
  std::vector<std::string> out;
  if (!spec.empty() && spec[0] == '@') {
    std::istringstream in(read_file(spec.substr(1)));
    std::string line;
    while (std::getline(in, line)) {
      line = trim(line);
      if (!line.empty()) out.push_back(line);
    }
    return out;
  }
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    std::string name = trim(spec.substr(start, comma - start));
    if (!name.empty()) out.push_back(name);
    start = comma + 1;
  }
  return out;
}

nlohmann::json prepare_lyrics(const PrepareLyricsOptions& options, std::ostream& log) {
  validate(options);
  const std::string& input = options.input;
  const std::unordered_set<std::string> wanted(options.artists.begin(), options.artists.end());
  auto selected = [&](const std::string& artist) { return wanted.empty() || wanted.count(artist) > 0; };

  Vocab reused_vocab;
  std::vector<std::string> reused_artists;
  const bool reuse = !options.vocab_from.empty();
  if (reuse) load_vocab_from(options.vocab_from, &reused_vocab, &reused_artists);

  // Pass 1: checksum, song counts per artist, and per song its key and artist (for the split)
  // and its near-duplicate fingerprint, which goes straight into the index (spilled to disk
  // beyond a bound). Splits are settled after the pass, once near-duplicate groups are known.
  const std::string sha = sha256_file(input);
  std::map<std::string, int64_t> counts;
  std::map<std::string, uint32_t> artist_number;  // pass 1's numbering of the artists seen
  std::vector<const std::string*> artist_of_number;
  SongIndex songs;
  int64_t empty_songs = 0;
  std::unique_ptr<NearDuplicateIndex> index;
  if (options.near_duplicate_overlap > 0.0) {
    NearDuplicateOptions nd;
    nd.min_overlap = options.near_duplicate_overlap;
    index = std::make_unique<NearDuplicateIndex>(nd);
  }
  read_lyrics(input, options.format, [&](const RawSong& song) {
    if (!selected(song.artist)) return;
    const std::u32string text = normalise_song(song.text);
    if (text.empty()) {
      ++empty_songs;
      return;
    }
    ++counts[song.artist];
    const auto [it, added] = artist_number.emplace(song.artist, static_cast<uint32_t>(artist_of_number.size()));
    if (added) artist_of_number.push_back(&it->first);
    songs.keys.push_back(song.artist + '\x1f' + song.title);
    songs.key_hashes.push_back(fnv1a64(songs.keys.back()));
    songs.artist.push_back(it->second);
    if (index) index->add(song_fingerprint(text));
  });
  for (const auto& name : options.artists) {
    if (!counts.count(name)) log << "warning: artist \"" << name << "\" has no songs in " << input << "\n";
  }
  // Artist ids: the reused list (the model's embedding) or the kept artists sorted by name.
  std::vector<std::string> artists;
  std::map<std::string, int32_t> artist_id;
  // With --vocab-from the reused artists keep their ids (the model's embedding rows); artists
  // new to it are appended after them, so an unconditioned model can still score their songs.
  if (reuse) artists = reused_artists;
  for (size_t i = 0; i < artists.size(); ++i) artist_id.emplace(artists[i], static_cast<int32_t>(i));
  int64_t appended = 0;
  for (const auto& [name, n] : counts) {
    if (n < options.min_songs || artist_id.count(name)) continue;
    artist_id.emplace(name, static_cast<int32_t>(artists.size()));
    artists.push_back(name);
    ++appended;
  }
  if (reuse && !reused_artists.empty() && appended > 0) {
    log << "note: " << appended << " artists unknown to " << options.vocab_from
        << " were appended after its " << reused_artists.size()
        << " (an artist-conditioned model cannot score their songs)\n";
  }
  auto kept = [&](const std::string& artist) {
    auto c = counts.find(artist);
    return c != counts.end() && c->second >= options.min_songs && artist_id.count(artist) > 0;
  };
  std::vector<bool> kept_song(songs.keys.size());
  for (size_t i = 0; i < kept_song.size(); ++i) kept_song[i] = kept(*artist_of_number[songs.artist[i]]);
  const GroupStats plan = plan_splits(songs, index.get(), kept_song, options);
  index.reset();
  std::vector<std::string>().swap(songs.keys);
  if (plan.grouped_songs > 0) {
    log << "near-duplicates: " << plan.grouped_songs << " songs in " << plan.groups
        << " groups kept within one split each (" << plan.moved
        << " moved from their own hash's split)\n";
  }
  int64_t kept_songs = 0;
  for (const auto& [name, n] : counts) {
    if (kept(name)) kept_songs += n;
  }
  if (kept_songs == 0) {
    throw InputError(input + ": no songs left after filtering (artists: " +
                     (wanted.empty() ? std::string("all") : std::to_string(wanted.size()) + " named") +
                     ", min_songs " + std::to_string(options.min_songs) +
                     (reuse ? ", artists of " + options.vocab_from : std::string()) + ")");
  }
  // Passes 2 and 3 see the songs of pass 1 in the same order, unless the file changed between.
  auto replay = [&](const std::function<void(size_t, const RawSong&, const std::u32string&)>& visit) {
    size_t ordinal = 0;
    read_lyrics(input, options.format, [&](const RawSong& song) {
      if (!selected(song.artist)) return;
      const std::u32string text = normalise_song(song.text);
      if (text.empty()) return;
      if (ordinal >= songs.key_hashes.size() || songs.key_hashes[ordinal] != fnv1a64(song.artist + '\x1f' + song.title)) {
        throw InputError(input + ": changed while being read (song \"" + song.title + "\" by " + song.artist + ")");
      }
      visit(ordinal++, song, text);
    });
  };

  // Pass 2 (without --vocab-from): the vocabulary, the code points of the kept training songs.
  Vocab vocab = reused_vocab;
  if (!reuse) {
    std::vector<bool> seen(0x110000, false);
    size_t distinct = 0;
    replay([&](size_t i, const RawSong&, const std::u32string& text) {
      if (!kept_song[i] || songs.split[i] != 0) return;
      for (char32_t c : text) {
        if (c < seen.size() && !seen[c]) seen[c] = true, ++distinct;
      }
    });
    if (distinct > kMaxVocabularyCodePoints) {
      throw InputError(input + ": the training songs hold " + std::to_string(distinct) +
                       " distinct characters, over the limit of " +
                       std::to_string(kMaxVocabularyCodePoints) + " (is this really lyrics?)");
    }
    std::vector<char32_t> chars;
    for (char32_t c = 0; c < seen.size(); ++c)
      if (seen[c]) chars.push_back(c);
    vocab = Vocab(std::move(chars));
  }

  // Pass 3: encode and write to output.tmp; rename only after a successful commit.
  nlohmann::json opts = {{"format", format_name(options.format)},
                         {"artists", options.artists},
                         {"min_songs", options.min_songs},
                         {"valid_fraction", options.valid_fraction},
                         {"test_fraction", options.test_fraction},
                         {"near_duplicate_overlap", options.near_duplicate_overlap},
                         {"vocab_from", options.vocab_from}};
  nlohmann::json provenance = {{"source", input}, {"source_sha256", sha}, {"options", opts.dump()}};
  const std::string tmp = options.output + ".tmp";
  std::map<std::string, SplitStats> stats;
  size_t symbol_bytes = 0;
  try {
    CorpusWriter writer(tmp, vocab, artists, provenance);
    symbol_bytes = writer.symbol_bytes();
    std::vector<int32_t> ids;
    replay([&](size_t i, const RawSong& song, const std::u32string& text) {
      if (!kept_song[i]) return;
      const char* split = kSplits[songs.split[i]];
      ids.clear();
      SplitStats& st = stats[split];
      for (char32_t c : text) {
        ids.push_back(vocab.id(c));
        if (ids.back() == Vocab::kUnknown) ++st.unknown;
      }
      const int32_t a = artist_id.at(song.artist);
      ++st.songs;
      st.symbols += static_cast<int64_t>(ids.size());
      st.artists.insert(a);
      writer.add_song(split, a, song.title, ids);
    });
    writer.commit();
    rename_durably(tmp, options.output);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }

  nlohmann::json summary = {{"output", options.output},
                            {"vocab_size", vocab.size()},
                            {"artists", artists.size()},
                            {"skipped_empty", empty_songs},
                            {"symbol_bytes", symbol_bytes},
                            {"near_duplicates", {{"songs", plan.grouped_songs},
                                                 {"groups", plan.groups},
                                                 {"moved", plan.moved}}},
                            {"splits", nlohmann::json::object()}};
  log << "prepared " << options.output << " from " << input << " (sha256 " << sha.substr(0, 16)
      << "...)\n";
  log << std::left << std::setw(8) << "split" << std::right << std::setw(10) << "songs"
      << std::setw(12) << "symbols" << std::setw(10) << "unknown" << std::setw(10) << "artists"
      << "\n";
  for (const char* name : kSplits) {
    const SplitStats& st = stats[name];
    summary["splits"][name] = {{"songs", st.songs},
                               {"symbols", st.symbols},
                               {"unknown", st.unknown},
                               {"artists", st.artists.size()}};
    log << std::left << std::setw(8) << name << std::right << std::setw(10) << st.songs
        << std::setw(12) << st.symbols << std::setw(10) << st.unknown << std::setw(10)
        << st.artists.size() << "\n";
  }
  log << "vocabulary " << vocab.size() << " symbols (incl. end-of-song and unknown; stored in "
      << symbol_bytes << " byte" << (symbol_bytes > 1 ? "s" : "") << " each), "
      << artists.size() << " artists";
  if (empty_songs > 0) log << ", " << empty_songs << " empty songs skipped";
  log << "\n";
  return summary;
}

}  // namespace chorus
