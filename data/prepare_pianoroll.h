// `chorus prepare pianoroll`: a MIDI collection, the benchmark piano-roll text splits, or a
// benchmark .mat or .pickle file -> HDF5 piano-roll corpus (data/pianoroll_corpus.h). Rules in
// data/README.md "Piano rolls".
#pragma once
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

namespace chorus {

// What to do with a MIDI file that cannot be parsed (truncated, malformed).
enum class OnBadMidi {
  kSkip,  // report it (name and reason) in the log and summary, count it, go on
  kFail,  // InputError naming the file and the reason; no output is written
};
// "skip" | "fail"; InputError otherwise.
OnBadMidi parse_on_bad_midi(const std::string& text);

struct PreparePianoRollOptions {
  // The source: exactly one of these four is required.
  std::string midi_dir;           // a MIDI collection: the folder, walked to any depth, or with
                                  // train/ valid/ test/ folders that are the split
                                  // (data/midi_collection.h)
  std::string text_dir;           // folder with any of train.txt, valid.txt, test.txt (benchmark text)
  std::string mat;                // a benchmark .mat file (data/mat_reader.h)
  std::string pickle;             // a benchmark .pickle file (data/pickle_reader.h)
  std::string output;             // .h5 path (required); written as output+".tmp" then renamed
  int frames_per_quarter = 4;     // MIDI grid in musical time, 1..960 (used when seconds_per_frame == 0)
  double seconds_per_frame = 0;   // > 0: MIDI grid in seconds, tempo changes honoured (0.3 in the study);
                                  // MIDI only (the benchmark files carry their own sampling)
  double valid_fraction = 0.05;   // MIDI collections without split folders: by FNV-1a 64 of the
  double test_fraction = 0.05;    // file's relative path (data/hash.h), independent of other files
  OnBadMidi on_bad_midi = OnBadMidi::kSkip;
  int threads = 0;                // MIDI files read at once; 0 = one thread per core
  bool progress = false;          // a progress line on `log` while reading MIDI (for a terminal)
};

// Runs the preparation; writes a table per split (songs, frames, active notes, notes dropped out
// of range and on the drum channel, files skipped, empty and duplicate) and each skipped or
// duplicate file to `log`, and returns the summary as JSON: {"output", "source", "source_kind",
// "resolution": {...}, "splits": {"train": {"songs", "frames", "active", "notes",
// "dropped_out_of_range", "dropped_drums", "files_skipped", "files_empty", "files_duplicate"},
// ...}, "files", "skipped": [{"file", "reason", "detail"}], "duplicates": [{"file", "same_as"}]}.
// Reasons: "corrupt", "unreadable", "too large" (counted in files_skipped); "empty", "drums only",
// "out of range" (well-formed but no note to keep; files_empty).
// Throws InputError on bad input; no output (nor output.tmp) is left behind on any failure.
nlohmann::json prepare_pianoroll(const PreparePianoRollOptions& options, std::ostream& log);

}  // namespace chorus
