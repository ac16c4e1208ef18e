// `chorus prepare pianoroll`: MIDI folder or benchmark text splits -> HDF5 piano-roll corpus.
// Invariants: a MIDI file's split depends only on its own name (or its split folder); a bad file
// is either skipped and reported by name and reason or fatal, never silently lost; the output
// appears (by rename) only when complete, and nothing is left behind on failure.
#include "data/prepare_pianoroll.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <vector>

#include "data/errors.h"
#include "data/files.h"
#include "data/hash.h"
#include "data/midi.h"
#include "data/pianoroll_corpus.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;
const char* const kSplits[] = {"train", "valid", "test"};

struct SplitStats {
  int64_t songs = 0, frames = 0, active = 0, notes = 0, dropped_out_of_range = 0, dropped_drums = 0,
          files_skipped = 0, files_empty = 0;
};

struct MidiFile {
  std::string split, name, path;  // name: relative to midi_dir
};

void validate(const PreparePianoRollOptions& o) {
  const std::string cmd = "prepare pianoroll: ";
  if (o.midi_dir.empty() == o.text_dir.empty()) throw InputError(cmd + "give exactly one of --midi and --text-dir");
  if (o.output.empty()) throw InputError(cmd + "output is required");
  if (!std::isfinite(o.seconds_per_frame) || o.seconds_per_frame < 0) {
    throw InputError(cmd + "seconds_per_frame must be >= 0 (0 = use frames_per_quarter)");
  }
  if (o.seconds_per_frame == 0 && (o.frames_per_quarter < 1 || o.frames_per_quarter > 960)) {
    throw InputError(cmd + "frames_per_quarter must be in 1..960");
  }
  if (!o.text_dir.empty() && o.seconds_per_frame > 0) {
    throw InputError(cmd + "seconds_per_frame applies to --midi; the text format carries its own sampling");
  }
  auto bad = [](double f) { return !(f >= 0.0 && f <= 1.0); };
  if (bad(o.valid_fraction)) throw InputError(cmd + "valid_fraction must be in [0, 1]");
  if (bad(o.test_fraction)) throw InputError(cmd + "test_fraction must be in [0, 1]");
  if (o.valid_fraction + o.test_fraction > 1.0) throw InputError(cmd + "valid_fraction + test_fraction must be at most 1");
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool is_midi_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".mid" || ext == ".midi";
}

// The .mid/.midi regular files directly in `dir`, sorted by name (so the song order is stable).
std::vector<std::string> midi_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_midi_name(it->path()) && fs::is_regular_file(it->path(), ec)) names.push_back(it->path().filename().string());
  }
  if (ec) throw InputError(dir.string() + ": cannot list the folder: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<MidiFile> list_midi(const PreparePianoRollOptions& o, std::ostream& log) {
  const fs::path dir(o.midi_dir);
  if (!is_dir(dir)) throw InputError(o.midi_dir + ": --midi: no such folder");
  std::vector<MidiFile> files;
  bool split_layout = false;
  for (const char* s : kSplits) split_layout = split_layout || is_dir(dir / s);
  if (split_layout) {
    for (const char* s : kSplits) {
      if (!is_dir(dir / s)) continue;
      for (const auto& n : midi_names(dir / s)) files.push_back({s, std::string(s) + "/" + n, (dir / s / n).string()});
    }
    if (const auto top = midi_names(dir); !top.empty()) {
      log << "note: " << o.midi_dir << " has train/valid/test folders; its " << top.size()
          << " MIDI files outside them are ignored\n";
    }
  } else {
    for (const auto& n : midi_names(dir)) {
      files.push_back({split_of_key(n, o.valid_fraction, o.test_fraction), n, (dir / n).string()});
    }
  }
  if (files.empty()) throw InputError(o.midi_dir + ": no .mid or .midi files");
  return files;
}

}  // namespace

OnBadMidi parse_on_bad_midi(const std::string& text) {
  if (text == "skip") return OnBadMidi::kSkip;
  if (text == "fail") return OnBadMidi::kFail;
  throw InputError("--on-bad-midi: \"" + text + "\" is not one of skip, fail");
}

nlohmann::json prepare_pianoroll(const PreparePianoRollOptions& options, std::ostream& log) {
  validate(options);
  const bool midi = !options.midi_dir.empty();
  const std::string source = midi ? options.midi_dir : options.text_dir;
  PianoRollResolution resolution;
  if (midi && options.seconds_per_frame > 0) resolution.seconds_per_frame = options.seconds_per_frame;
  if (midi && options.seconds_per_frame == 0) resolution.frames_per_quarter = options.frames_per_quarter;

  nlohmann::json opts = {{"frames_per_quarter", resolution.frames_per_quarter},
                         {"seconds_per_frame", resolution.seconds_per_frame},
                         {"valid_fraction", options.valid_fraction},
                         {"test_fraction", options.test_fraction},
                         {"on_bad_midi", options.on_bad_midi == OnBadMidi::kSkip ? "skip" : "fail"}};
  nlohmann::json provenance = {{"source", source}, {"source_kind", midi ? "midi" : "text"}};
  std::vector<MidiFile> midi_files;
  std::vector<std::pair<std::string, std::string>> text_files;  // split, path
  if (midi) {
    midi_files = list_midi(options, log);
  } else {
    if (!is_dir(options.text_dir)) throw InputError(options.text_dir + ": --text-dir: no such folder");
    nlohmann::json sha = nlohmann::json::object();
    for (const char* s : kSplits) {
      const std::string path = options.text_dir + "/" + s + ".txt";
      if (!fs::is_regular_file(path)) continue;
      text_files.emplace_back(s, path);
      sha[std::string(s) + ".txt"] = sha256_file(path);
    }
    if (text_files.empty()) throw InputError(options.text_dir + ": none of train.txt, valid.txt, test.txt");
    provenance["source_sha256"] = sha.dump();
  }
  provenance["options"] = opts.dump();

  std::map<std::string, SplitStats> stats;
  nlohmann::json skipped = nlohmann::json::array();
  const std::string tmp = options.output + ".tmp";
  try {
    PianoRollWriter writer(tmp, resolution, provenance);
    auto add = [&](const std::string& split, const std::string& name, const std::vector<Frame>& frames) {
      SplitStats& st = stats[split];
      ++st.songs;
      st.frames += static_cast<int64_t>(frames.size());
      st.active += count_active(frames);
      writer.add_song(split, name, frames);
    };
    for (const auto& [split, path] : text_files) {
      read_pianoroll_text(path, [&, split = split](std::vector<Frame> song) { add(split, "", song); });
    }
    const MidiTiming timing{options.frames_per_quarter, options.seconds_per_frame};
    for (const MidiFile& file : midi_files) {
      SplitStats& st = stats[file.split];
      MidiRoll roll;
      try {
        roll = read_midi(file.path, timing);
      } catch (const InputError& e) {
        if (options.on_bad_midi == OnBadMidi::kFail) throw;
        log << "skipped " << e.what() << "\n";
        skipped.push_back({{"file", file.path}, {"reason", e.what()}});
        ++st.files_skipped;
        continue;
      }
      st.dropped_out_of_range += roll.stats.dropped_out_of_range;
      st.dropped_drums += roll.stats.dropped_drums;
      if (roll.stats.notes == 0) {  // well-formed but nothing to learn from (e.g. drums only)
        log << "skipped " << file.path << ": no notes in " << kLowestNote << ".." << kHighestNote
            << " outside channel 10\n";
        skipped.push_back({{"file", file.path}, {"reason", "no notes in 21..108 outside channel 10"}});
        ++st.files_empty;
        continue;
      }
      st.notes += roll.stats.notes;
      add(file.split, file.name, roll.frames);
    }
    int64_t songs = 0;
    for (const auto& [split, st] : stats) songs += st.songs;
    if (songs == 0) throw InputError(source + ": no songs to write (every file was skipped or empty)");
    writer.commit();
    rename_durably(tmp, options.output);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }

  nlohmann::json summary = {
      {"output", options.output},
      {"source", source},
      {"source_kind", midi ? "midi" : "text"},
      {"resolution",
       {{"time_unit", resolution.time_unit()},
        {"frames_per_quarter", resolution.frames_per_quarter},
        {"seconds_per_frame", resolution.seconds_per_frame}}},
      {"splits", nlohmann::json::object()},
      {"skipped", skipped}};
  log << "prepared " << options.output << " from " << source << " (" << (midi ? "MIDI" : "piano-roll text")
      << ", frames: " << resolution.time_unit();
  if (resolution.frames_per_quarter > 0) log << ", " << resolution.frames_per_quarter << " per quarter";
  if (resolution.seconds_per_frame > 0) log << ", " << resolution.seconds_per_frame << " s each";
  log << ")\n";
  log << std::left << std::setw(8) << "split" << std::right << std::setw(8) << "songs" << std::setw(10) << "frames"
      << std::setw(10) << "active" << std::setw(14) << "out_of_range" << std::setw(8) << "drums" << std::setw(9)
      << "skipped" << std::setw(7) << "empty" << "\n";
  for (const char* name : kSplits) {
    const SplitStats& st = stats[name];
    summary["splits"][name] = {{"songs", st.songs},
                               {"frames", st.frames},
                               {"active", st.active},
                               {"notes", st.notes},
                               {"dropped_out_of_range", st.dropped_out_of_range},
                               {"dropped_drums", st.dropped_drums},
                               {"files_skipped", st.files_skipped},
                               {"files_empty", st.files_empty}};
    log << std::left << std::setw(8) << name << std::right << std::setw(8) << st.songs << std::setw(10) << st.frames
        << std::setw(10) << st.active << std::setw(14) << st.dropped_out_of_range << std::setw(8)
        << st.dropped_drums << std::setw(9) << st.files_skipped << std::setw(7) << st.files_empty << "\n";
  }
  return summary;
}

}  // namespace chorus
