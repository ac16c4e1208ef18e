// `chorus prepare pianoroll`: a folder of MIDI files or of benchmark piano-roll text splits ->
// HDF5 piano-roll corpus (data/pianoroll_corpus.h). Rules in data/README.md "Piano rolls".
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
  std::string midi_dir;           // folder of .mid/.midi files (not recursive), or with train/ valid/ test/
                                  // subfolders holding them (then the folders are the split)
  std::string text_dir;           // folder with any of train.txt, valid.txt, test.txt (benchmark text)
                                  // exactly one of midi_dir and text_dir is required
  std::string output;             // .h5 path (required); written as output+".tmp" then renamed
  int frames_per_quarter = 4;     // MIDI grid in musical time, 1..960 (used when seconds_per_frame == 0)
  double seconds_per_frame = 0;   // > 0: MIDI grid in seconds, tempo changes honoured (0.3 in the study);
                                  // not allowed with text_dir (the text carries its own sampling)
  double valid_fraction = 0.05;   // MIDI folders without a split: by FNV-1a 64 of the file name
  double test_fraction = 0.05;    // (data/hash.h split_of_key), independent of the other files
  OnBadMidi on_bad_midi = OnBadMidi::kSkip;
};

// Runs the preparation; writes a table per split (songs, frames, active notes, notes dropped out
// of range and on the drum channel, files skipped) and each skipped file's reason to `log`, and
// returns the summary as JSON: {"output", "source", "source_kind", "resolution": {...},
// "splits": {"train": {"songs", "frames", "active", "notes", "dropped_out_of_range",
// "dropped_drums", "files_skipped", "files_empty"}, ...}, "skipped": [{"file", "reason"}]}.
// Throws InputError on bad input; no output (nor output.tmp) is left behind on any failure.
nlohmann::json prepare_pianoroll(const PreparePianoRollOptions& options, std::ostream& log);

}  // namespace chorus
