// `chorus prepare pianoroll`: a MIDI collection, the benchmark text splits, or a benchmark .mat
// or .pickle file -> HDF5 piano-roll corpus, written as the songs arrive.
// Invariants: a MIDI file's split depends only on its own relative path (or its split folder); a
// bad, empty or duplicate file is skipped and reported by name and reason (or, if bad and asked,
// fatal), never silently lost; the output appears (by rename) only when complete, and nothing is
// left behind on failure.
#include "data/prepare_pianoroll.h"


#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <unordered_map>
#include <vector>

#include "data/errors.h"
#include "data/files.h"
#include "data/mat_reader.h"
#include "data/midi_collection.h"
#include "data/pianoroll_corpus.h"
#include "data/pickle_reader.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;
const char* const kSplits[] = {"train", "valid", "test"};

struct SplitStats {
  int64_t songs = 0, frames = 0, active = 0, notes = 0, dropped_out_of_range = 0, dropped_drums = 0,
          files_skipped = 0, files_empty = 0, files_duplicate = 0;
};

enum class SourceKind { kMidi, kText, kMat, kPickle };

const char* kind_name(SourceKind k) {
  switch (k) {
    case SourceKind::kMidi: return "midi";
    case SourceKind::kText: return "text";
    case SourceKind::kMat: return "mat";
    default: return "pickle";
  }
}

SourceKind validate(const PreparePianoRollOptions& o) {
  const std::string cmd = "prepare pianoroll: ";
  const int given = !o.midi_dir.empty() + !o.text_dir.empty() + !o.mat.empty() + !o.pickle.empty();
  if (given != 1) throw InputError(cmd + "give exactly one of --midi, --text-dir, --mat and --pickle");
  const SourceKind kind = !o.midi_dir.empty()   ? SourceKind::kMidi
                          : !o.text_dir.empty() ? SourceKind::kText
                          : !o.mat.empty()      ? SourceKind::kMat
                                                : SourceKind::kPickle;
  if (o.output.empty()) throw InputError(cmd + "output is required");
  if (!std::isfinite(o.seconds_per_frame) || o.seconds_per_frame < 0) {
    throw InputError(cmd + "seconds_per_frame must be >= 0 (0 = use frames_per_quarter)");
  }
  if (o.seconds_per_frame == 0 && (o.frames_per_quarter < 1 || o.frames_per_quarter > 960)) {
    throw InputError(cmd + "frames_per_quarter must be in 1..960");
  }
  if (kind != SourceKind::kMidi && o.seconds_per_frame > 0) {
    throw InputError(cmd + "seconds_per_frame applies to --midi; the benchmark files carry their own sampling");
  }
  auto bad = [](double f) { return !(f >= 0.0 && f <= 1.0); };
  if (bad(o.valid_fraction)) throw InputError(cmd + "valid_fraction must be in [0, 1]");
  if (bad(o.test_fraction)) throw InputError(cmd + "test_fraction must be in [0, 1]");
  if (o.valid_fraction + o.test_fraction > 1.0) throw InputError(cmd + "valid_fraction + test_fraction must be at most 1");
  if (o.threads < 0) throw InputError(cmd + "threads must be >= 0 (0 = one per core)");
  return kind;
}

// The first 128 bits of a file's SHA-256: enough to tell files apart, half the memory per file.
struct Digest {
  uint64_t a, b;
  bool operator==(const Digest& o) const { return a == o.a && b == o.b; }
};
struct DigestHash {
  size_t operator()(const Digest& d) const { return static_cast<size_t>(d.a); }
};

// A line on a terminal, redrawn at most every quarter second.
class Progress {
 public:
  Progress(bool on, std::ostream& log, size_t total) : on_(on), log_(log), total_(total) {}
  void update(size_t done, int64_t skipped, int64_t duplicates, int64_t bytes) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    log_ << "\rreading MIDI: " << done << " / " << total_ << " files (" << (100 * done / total_) << "%), "
         << skipped << " skipped, " << duplicates << " duplicates, " << std::fixed << std::setprecision(1)
         << (seconds > 0 ? bytes / seconds / 1e6 : 0.0) << " MB/s" << std::defaultfloat << std::flush;
    if (done == total_) log_ << "\n";
  }

 private:
  bool on_;
  std::ostream& log_;
  size_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

struct MidiOutcome {
  nlohmann::json skipped = nlohmann::json::array(), duplicates = nlohmann::json::array();
  int64_t files = 0, ignored = 0;
};

// Reads the collection on the pool and writes each kept song as its turn comes.
MidiOutcome prepare_midi(const PreparePianoRollOptions& o, PianoRollWriter& writer,
                         std::map<std::string, SplitStats>& stats, std::ostream& log) {
  const MidiCollection collection = list_midi_collection(o.midi_dir, o.valid_fraction, o.test_fraction);
  MidiOutcome out;
  out.files = static_cast<int64_t>(collection.files.size());
  out.ignored = collection.ignored;
  if (collection.ignored > 0) {
    log << "note: " << o.midi_dir << " has train/valid/test folders; its " << collection.ignored
        << " MIDI files outside them are ignored\n";
  }
  std::unordered_map<Digest, size_t, DigestHash> first_with;  // content -> the first file holding it
  int64_t skipped = 0, bytes = 0;
  Progress progress(o.progress, log, collection.files.size());
  auto skip = [&](const std::string& path, const char* reason, const std::string& detail, int64_t& counter) {
    if (o.progress) log << "\r\033[K";  // clear the progress line first
    log << "skipped " << path << " (" << reason << "): " << detail << "\n";
    out.skipped.push_back({{"file", path}, {"reason", reason}, {"detail", detail}});
    ++counter;
    ++skipped;
  };
  const MidiTiming timing{o.frames_per_quarter, o.seconds_per_frame};
  read_midi_collection(collection, timing, o.threads, [&](size_t i, MidiFileRead& r) {
    const MidiCollectionFile& file = collection.files[i];
    const std::string path = collection.path(file);
    SplitStats& st = stats[file.split];
    bytes += r.bytes;
    progress.update(i + 1, skipped, static_cast<int64_t>(out.duplicates.size()), bytes);
    using Status = MidiFileRead::Status;
    if (r.status == Status::kUnreadable || r.status == Status::kTooLarge) {
      if (o.on_bad_midi == OnBadMidi::kFail) throw InputError(r.error);
      return skip(path, r.status == Status::kTooLarge ? "too large" : "unreadable", r.error, st.files_skipped);
    }
    Digest d;
    std::memcpy(&d, r.sha256.data(), sizeof d);
    const auto [it, fresh] = first_with.emplace(d, i);
    if (!fresh) {  // byte-identical to an earlier file (in path order): kept once
      const std::string same = collection.path(collection.files[it->second]);
      if (o.progress) log << "\r\033[K";
      log << "duplicate " << path << " (same bytes as " << same << ")\n";
      out.duplicates.push_back({{"file", path}, {"same_as", same}});
      ++st.files_duplicate;
      return;
    }
    if (r.status == Status::kCorrupt) {
      if (o.on_bad_midi == OnBadMidi::kFail) throw InputError(r.error);
      return skip(path, "corrupt", r.error, st.files_skipped);
    }
    const MidiStats& ms = r.roll.stats;
    st.dropped_out_of_range += ms.dropped_out_of_range;
    st.dropped_drums += ms.dropped_drums;
    if (ms.notes == 0) {  // well-formed but nothing to learn from
      const char* reason = ms.dropped_drums > 0 && ms.dropped_out_of_range == 0 ? "drums only"
                           : ms.dropped_out_of_range > 0                           ? "out of range"
                                                                                   : "empty";
      const std::string detail = std::string("no notes in ") + std::to_string(kLowestNote) + ".." +
                                 std::to_string(kHighestNote) + " outside channel 10 (" +
                                 std::to_string(ms.dropped_drums) + " on channel 10, " +
                                 std::to_string(ms.dropped_out_of_range) + " out of range)";
      return skip(path, reason, detail, st.files_empty);
    }
    st.notes += ms.notes;
    ++st.songs;
    st.frames += r.frames;
    st.active += r.active;
    writer.add_packed(file.split, file.name, r.packed.data(), r.frames);
  });
  return out;
}

}  // namespace

OnBadMidi parse_on_bad_midi(const std::string& text) {
  if (text == "skip") return OnBadMidi::kSkip;
  if (text == "fail") return OnBadMidi::kFail;
  throw InputError("--on-bad-midi: \"" + text + "\" is not one of skip, fail");
}

nlohmann::json prepare_pianoroll(const PreparePianoRollOptions& options, std::ostream& log) {
  const SourceKind kind = validate(options);
  const bool midi = kind == SourceKind::kMidi;
  const std::string source = midi                       ? options.midi_dir
                             : kind == SourceKind::kText ? options.text_dir
                             : kind == SourceKind::kMat  ? options.mat
                                                         : options.pickle;
  PianoRollResolution resolution;
  if (midi && options.seconds_per_frame > 0) resolution.seconds_per_frame = options.seconds_per_frame;
  if (midi && options.seconds_per_frame == 0) resolution.frames_per_quarter = options.frames_per_quarter;

  nlohmann::json opts = {{"frames_per_quarter", resolution.frames_per_quarter},
                         {"seconds_per_frame", resolution.seconds_per_frame},
                         {"valid_fraction", options.valid_fraction},
                         {"test_fraction", options.test_fraction},
                         {"on_bad_midi", options.on_bad_midi == OnBadMidi::kSkip ? "skip" : "fail"}};
  nlohmann::json provenance = {{"source", source}, {"source_kind", kind_name(kind)}};
  std::vector<std::pair<std::string, std::string>> text_files;  // split, path
  nlohmann::json sha = nlohmann::json::object();  // file name -> sha256, for the benchmark files
  if (kind == SourceKind::kText) {
    if (!fs::is_directory(options.text_dir)) throw InputError(options.text_dir + ": --text-dir: no such folder");
    for (const char* s : kSplits) {
      const std::string path = options.text_dir + "/" + s + ".txt";
      if (!fs::is_regular_file(path)) continue;
      text_files.emplace_back(s, path);
      sha[std::string(s) + ".txt"] = sha256_file(path);
    }
    if (text_files.empty()) throw InputError(options.text_dir + ": none of train.txt, valid.txt, test.txt");
  } else if (!midi) {
    if (!fs::is_regular_file(source)) throw InputError(source + ": --" + kind_name(kind) + ": no such file");
    sha[fs::path(source).filename().string()] = sha256_file(source);
  }
  if (!midi) provenance["source_sha256"] = sha.dump();
  provenance["options"] = opts.dump();

  std::map<std::string, SplitStats> stats;
  MidiOutcome outcome;
  const std::string tmp = options.output + ".tmp";
  try {
    PianoRollWriter writer(tmp, resolution, provenance);
    auto add = [&](const std::string& split, std::vector<Frame> frames) {
      SplitStats& st = stats[split];
      ++st.songs;
      st.frames += static_cast<int64_t>(frames.size());
      st.active += count_active(frames);
      writer.add_song(split, "", frames);
    };
    for (const auto& [split, path] : text_files) {
      read_pianoroll_text(path, [&, split = split](std::vector<Frame> song) { add(split, std::move(song)); });
    }
    if (kind == SourceKind::kMat) read_pianoroll_mat(options.mat, add);
    if (kind == SourceKind::kPickle) read_pianoroll_pickle(options.pickle, add);
    if (midi) outcome = prepare_midi(options, writer, stats, log);
    int64_t songs = 0;
    for (const auto& [split, st] : stats) songs += st.songs;
    if (songs == 0) throw InputError(source + ": no songs to write (every file was skipped, empty or a duplicate)");
    writer.commit();
    rename_durably(tmp, options.output);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }

  nlohmann::json summary = {
      {"output", options.output},
      {"source", source},
      {"source_kind", kind_name(kind)},
      {"resolution",
       {{"time_unit", resolution.time_unit()},
        {"frames_per_quarter", resolution.frames_per_quarter},
        {"seconds_per_frame", resolution.seconds_per_frame}}},
      {"splits", nlohmann::json::object()},
      {"skipped", outcome.skipped},
      {"duplicates", outcome.duplicates}};
  if (midi) summary["files"] = {{"listed", outcome.files}, {"ignored", outcome.ignored}};
  const char* what = midi ? "MIDI" : kind == SourceKind::kText ? "piano-roll text" : kind == SourceKind::kMat ? ".mat" : ".pickle";
  log << "prepared " << options.output << " from " << source << " (" << what << ", frames: " << resolution.time_unit();
  if (resolution.frames_per_quarter > 0) log << ", " << resolution.frames_per_quarter << " per quarter";
  if (resolution.seconds_per_frame > 0) log << ", " << resolution.seconds_per_frame << " s each";
  log << ")\n";
  log << std::left << std::setw(8) << "split" << std::right << std::setw(8) << "songs" << std::setw(10) << "frames"
      << std::setw(10) << "active" << std::setw(14) << "out_of_range" << std::setw(8) << "drums" << std::setw(9)
      << "skipped" << std::setw(7) << "empty" << std::setw(11) << "duplicate" << "\n";
  for (const char* name : kSplits) {
    const SplitStats& st = stats[name];
    summary["splits"][name] = {{"songs", st.songs},
                               {"frames", st.frames},
                               {"active", st.active},
                               {"notes", st.notes},
                               {"dropped_out_of_range", st.dropped_out_of_range},
                               {"dropped_drums", st.dropped_drums},
                               {"files_skipped", st.files_skipped},
                               {"files_empty", st.files_empty},
                               {"files_duplicate", st.files_duplicate}};
    log << std::left << std::setw(8) << name << std::right << std::setw(8) << st.songs << std::setw(10) << st.frames
        << std::setw(10) << st.active << std::setw(14) << st.dropped_out_of_range << std::setw(8)
        << st.dropped_drums << std::setw(9) << st.files_skipped << std::setw(7) << st.files_empty
        << std::setw(11) << st.files_duplicate << "\n";
  }
  return summary;
}

}  // namespace chorus
